/**
 * One action per panel at a time, visibly: while a panel's call runs, the panel is `aria-busy`
 * and every one of its buttons is `aria-disabled`, a press on any of them does nothing, and the
 * other panels stay usable.
 */
import { expect, form, keyRows, openPlayground, outcome, result, SCREENSHOTS, serverInfo, test, useRemote } from './fixtures.js';

test('local: “Generate ML-DSA-65 key” pressed while a rotate runs is refused, and every key button said so', async ({ page }) => {
  await openPlayground(page);
  const keys = page.getByRole('region', { name: '2. Keys' });
  await page.getByRole('button', { name: 'Generate ML-KEM-768 key' }).click();
  await keyRows(page, 1);

  // Both presses in one task, so the second surely lands while the rotate is running.
  const during = await page.evaluate(() => {
    const button = (name: string) =>
      [...document.querySelectorAll<HTMLButtonElement>('button')].find((b) => b.textContent?.replace(/\s+/g, ' ').trim() === name)!;
    button('Rotate ML-KEM-768').click();
    const region = document.querySelector('[data-panel="keys"]')!;
    const marked = [...region.querySelectorAll('button')].map((b) => b.getAttribute('aria-disabled'));
    button('Generate ML-DSA-65 key').click();
    const encrypt = document.querySelector('[data-panel="encrypt"] button[type="submit"]')!;
    return { busy: region.getAttribute('aria-busy'), marked, encrypt: encrypt.getAttribute('aria-disabled') };
  });
  expect(during.busy).toBe('true');
  expect(during.marked.length).toBeGreaterThanOrEqual(12); // 8 toolbar, refresh, and the row's buttons
  expect(new Set(during.marked)).toEqual(new Set(['true']));
  expect(during.encrypt).toBeNull(); // another panel is not busy

  const o = await outcome(result(page, 'Key management result'));
  expect(o.summary).toMatch(/^Success kms\.rotate on local/);
  const rows = await keyRows(page, 2); // the rotated ML-KEM key and its predecessor, no ML-DSA key
  await expect(rows.nth(0)).toContainText(/ML-KEM-768\s*2\s*active/);
  await expect(rows.nth(1)).toContainText(/ML-KEM-768\s*1\s*retired/);
  await expect(keys).not.toHaveAttribute('aria-busy');
  await expect(keys.locator('button[aria-disabled]')).toHaveCount(0);
});

test('remote: while a call is held on the network the key panel shows it is working and its buttons are disabled', async ({ page }) => {
  const { apiKey } = await serverInfo();
  await openPlayground(page);
  await useRemote(page, apiKey);
  await expect(page.getByRole('table')).not.toContainText('Loading');
  const keys = page.getByRole('region', { name: '2. Keys' });
  const keysResult = result(page, 'Key management result');

  // Hold the ML-KEM key listing (read-only: other specs share this server's keys).
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  await page.route(
    (url) => url.pathname === '/api/v1/kms/keys' && url.searchParams.get('algorithm') === 'Kyber768',
    async (route) => {
      await held;
      await route.continue();
    },
  );
  await page.getByRole('button', { name: 'List ML-KEM-768 keys' }).click();
  await expect(keysResult).toContainText(/kms\.list on http:\/\/127\.0\.0\.1:\d+: working…/);
  await expect(keys).toHaveAttribute('aria-busy', 'true');
  for (const name of ['Generate ML-DSA-65 key', 'Rotate ML-KEM-768', 'Active ML-DSA-65 key', 'Refresh table']) {
    await expect(keys.getByRole('button', { name })).toBeDisabled(); // Playwright reads aria-disabled too
  }
  await expect(form(page, '3. Encrypt').getByRole('button', { name: 'Encrypt' })).toBeEnabled();
  await keys.getByRole('button', { name: 'Active ML-DSA-65 key' }).click({ force: true });
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await keys.screenshot({ path: `${SCREENSHOTS}playground-keys-busy.png` });

  release();
  const o = await outcome(keysResult);
  expect(o.summary).toMatch(/^Success kms\.list on http/);
  await expect(keys).not.toHaveAttribute('aria-busy');
  await expect(keys.getByRole('button', { name: 'Active ML-DSA-65 key' })).toBeEnabled();
  expect(requests).not.toContain('/api/v1/kms/keys/active'); // the press during the call never ran
});
