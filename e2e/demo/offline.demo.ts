/**
 * Offline: after one visit the service worker serves the whole app from its cache, so a reload
 * with the network off still runs the local backend; the remote backend answers with an
 * ERR_SERVICE_001 envelope in seconds instead of hanging.
 */
import { expect, form, keyRows, openPlayground, outcome, result, serverInfo, test, useRemote } from './fixtures.js';

test('reload offline: the app comes from the service worker, local encrypt/decrypt still work, remote says ERR_SERVICE_001', async ({
  page,
  context,
  console,
}) => {
  const { apiKey } = await serverInfo();
  await openPlayground(page);
  await expect(page.getByText('Offline-ready: this page is cached in your browser.')).toBeVisible();
  await page.getByRole('button', { name: 'Generate ML-KEM-768 key' }).click();
  await keyRows(page, 1);

  await context.setOffline(true);
  // The network is off for the service worker too, so whatever loads next came from its cache.
  const [worker] = context.serviceWorkers();
  expect(worker?.url()).toMatch(/\/sw\.js$/);
  expect(
    await worker!.evaluate(() =>
      fetch('/healthz').then(
        () => 'reached',
        () => 'offline',
      ),
    ),
  ).toBe('offline');
  const reloaded = await page.reload();
  expect(reloaded?.fromServiceWorker()).toBe(true);
  await expect(page.locator('#app-status')).toContainText('You are offline');
  await expect(page.locator('#app-status')).toContainText('Offline-ready');
  await keyRows(page, 1); // IndexedDB, Worker script and its chunks: all there without a network

  const encrypt = form(page, '3. Encrypt');
  await encrypt.getByLabel('Plaintext').fill('written on a plane');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  expect((await outcome(result(page, 'Encrypt result'))).state).toBe('ok');
  await form(page, '4. Decrypt').getByRole('button', { name: 'Decrypt' }).click();
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: written on a plane');

  // The remote backend: a clear error envelope, not a hang (retries: 1, so a second or two).
  console.allowFailedRequests(/\/api\//);
  await useRemote(page, apiKey);
  await expect(page.getByRole('table')).toContainText('Could not list keys: ERR_SERVICE_001');
  const started = Date.now();
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  const o = await outcome(result(page, 'Encrypt result'));
  expect(Date.now() - started).toBeLessThan(8_000);
  expect(o.state).toBe('error');
  expect(o.json.error.code).toBe('ERR_SERVICE_001');
  expect(o.summary).toMatch(/^Error kem\.encrypt on http:\/\/127\.0\.0\.1:\d+ · [\d.]+ m?s ERR_SERVICE_001: .+$/);

  // Back online, the same remote settings work.
  await context.setOffline(false);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.getByRole('table')).not.toContainText('Could not list keys');
  await expect(page.locator('#app-status')).not.toContainText('You are offline');
});
