/**
 * The playground on the remote backend (a real `qpher serve --dev` on the same origin), and the
 * cross-backend path: seal in the page to the server's public key and decrypt on the server;
 * sign on the server and verify in the page with only the public key.
 */
import { expect, form, openPlayground, outcome, result, serverInfo, test, useRemote } from './fixtures.js';

test('remote backend: keys, encrypt/decrypt, sign/verify on the server; seal and verify against its public keys in the page', async ({
  page,
  console,
}) => {
  const { apiKey } = await serverInfo();
  await openPlayground(page);
  await useRemote(page, apiKey);
  await expect(page.getByRole('table')).toContainText('Keys on http://127.0.0.1');

  const keysResult = result(page, 'Key management result');
  await page.getByRole('button', { name: 'Rotate ML-KEM-768' }).click(); // rotate with no active key generates
  let o = await outcome(keysResult);
  expect(o.summary).toMatch(/^Success kms\.rotate on http:\/\/127\.0\.0\.1:\d+ · [\d.]+ m?s$/);
  const kemVersion = o.json.data.key_version as number;
  await page.getByRole('button', { name: 'Rotate ML-DSA-65' }).click();
  o = await outcome(keysResult);
  const dsaVersion = o.json.data.key_version as number;
  // Other specs share the server's dev tenant and may have made hybrid keys too: count these two algorithms' rows.
  const rows = page.getByRole('table').locator('tbody tr[data-status]');
  const pureAlgorithm = page.locator('td:first-child', { hasText: /^(ML-KEM-768|ML-DSA-65)$/ });
  await expect(rows.filter({ has: pureAlgorithm })).toHaveCount(kemVersion + dsaVersion);

  // Server errors come back as the server's envelopes, shown like any other result.
  console.allowFailedRequests(/\/api\/v1\/kms\/keys\/generate$/);
  await page.getByRole('button', { name: 'Generate ML-KEM-768 key' }).click();
  o = await outcome(keysResult);
  expect(o.state).toBe('error');
  expect(o.json.error.code).toBe('ERR_FORBIDDEN_001');

  const encrypt = form(page, '3. Encrypt');
  await expect(encrypt.getByLabel('Key version')).toHaveValue(String(kemVersion));
  await encrypt.getByLabel('Plaintext').fill('to the server and back');
  await encrypt.getByLabel('Associated data (optional)').fill('ctx');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  expect((await outcome(result(page, 'Encrypt result'))).state).toBe('ok');
  await form(page, '4. Decrypt').getByRole('button', { name: 'Decrypt' }).click();
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: to the server and back');

  const sign = form(page, '5. Sign');
  await sign.getByLabel('Message').fill('signed by the server');
  await sign.getByRole('button', { name: 'Sign' }).click();
  expect((await outcome(result(page, 'Sign result'))).state).toBe('ok');
  await form(page, '6. Verify').getByRole('button', { name: 'Verify' }).click();
  expect((await outcome(result(page, 'Verify result'))).json.data).toEqual({
    valid: true,
    key_version: dsaVersion,
    algorithm: 'Dilithium3',
  });

  // Cross-backend: the server's public keys into the page's tools.
  await page.getByRole('button', { name: `Use public key of ML-KEM-768 version ${kemVersion}` }).click();
  const seal = form(page, 'Seal to a public key');
  await seal.getByLabel('Plaintext').fill('sealed in the browser, opened by the server');
  await seal.getByRole('button', { name: 'Seal' }).click();
  expect((await outcome(result(page, 'Seal result'))).json.key_version).toBe(kemVersion);
  await seal.getByRole('button', { name: 'Send to Decrypt' }).click();
  await form(page, '4. Decrypt').getByRole('button', { name: 'Decrypt' }).click();
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: sealed in the browser, opened by the server');
  await expect(result(page, 'Decrypt result')).toContainText(/kem\.decrypt on http:/);

  await page.getByRole('button', { name: `Use public key of ML-DSA-65 version ${dsaVersion}` }).click();
  // Switch to the local backend: verifying with the public key needs no backend at all.
  await page.getByRole('radio', { name: 'Local (this browser)', exact: true }).check();
  await expect(page.getByRole('table')).toContainText('Keys on the local backend');
  await form(page, 'Verify with a public key').getByRole('button', { name: 'Verify signature' }).click();
  o = await outcome(result(page, 'Public-key verify result'));
  expect(o.json).toEqual({ valid: true });

  // A wrong API key: 401 ERR_AUTH_001 in the key table and in results.
  console.allowFailedRequests(/\/api\//);
  await page.getByRole('radio', { name: 'Remote', exact: true }).check();
  await page.getByLabel('API key').fill('qph_wrong');
  await page.getByRole('button', { name: 'Use this server' }).click();
  await expect(page.getByRole('table')).toContainText('Could not list keys: ERR_AUTH_001');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  expect((await outcome(result(page, 'Encrypt result'))).json.error.code).toBe('ERR_AUTH_001');
});

test('a /#api-key= link selects the remote backend with that key and clears the address bar', async ({ page }) => {
  const { apiKey } = await serverInfo();
  await page.goto(`/#api-key=${apiKey}`);
  await expect(page.getByRole('radio', { name: 'Remote', exact: true })).toBeChecked();
  await expect(page.locator('#backend-status')).toContainText('Using the remote backend');
  await expect(page.getByRole('table')).not.toContainText('Could not list keys');
  expect(new URL(page.url()).hash).toBe('');
  // Kept for this tab only: a reload stays connected.
  await page.reload();
  await expect(page.getByLabel('API key', { exact: true })).toHaveValue(apiKey);
  await expect(page.locator('#backend-status')).toContainText('Using the remote backend');
});
