/**
 * The playground on the local backend (Worker + IndexedDB), driven as a person would: every
 * operation, the key lifecycle, errors shown as envelopes, the public-key tools, the keyboard.
 */
import { expect, form, keyRows, openPlayground, outcome, result, test } from './fixtures.js';

test('local backend: keys, encrypt/decrypt (standard, deterministic, AAD), sign/verify, lifecycle, public-key tools', async ({ page }) => {
  await openPlayground(page);
  await expect(page.getByRole('radio', { name: 'Local (this browser)', exact: true })).toBeChecked();
  await expect(page.getByRole('table')).toContainText('No keys yet');

  // Keys
  const keysResult = result(page, 'Key management result');
  await page.getByRole('button', { name: 'Generate ML-KEM-768 key' }).click();
  let o = await outcome(keysResult);
  expect(o.state).toBe('ok');
  expect(o.summary).toMatch(/^Success kms\.generate on local · [\d.]+ m?s$/);
  expect(o.json.data).toMatchObject({ key_version: 1, algorithm: 'Kyber768', status: 'active' });
  expect(o.json.request_id).toMatch(/^[0-9a-f-]{36}$/);
  await page.getByRole('button', { name: 'Generate ML-DSA-65 key' }).click();
  expect((await outcome(keysResult)).json.data).toMatchObject({ key_version: 1, algorithm: 'Dilithium3' });
  let rows = await keyRows(page, 2);
  await expect(rows.nth(0)).toContainText(/ML-KEM-768\s*1\s*active/);
  await expect(rows.nth(0).locator('td').nth(4)).toHaveText(/^([0-9a-f]{2}:){7}[0-9a-f]{2}$/);
  await expect(rows.nth(1)).toContainText(/ML-DSA-65\s*1\s*active/);

  // A second generate while a key is active: the error envelope, shown the same way.
  await page.getByRole('button', { name: 'Generate ML-KEM-768 key' }).click();
  o = await outcome(keysResult);
  expect(o.state).toBe('error');
  expect(o.summary).toContain('ERR_FORBIDDEN_001');
  expect(o.json.error.code).toBe('ERR_FORBIDDEN_001');

  // Encrypt and decrypt, standard mode
  const encrypt = form(page, '3. Encrypt');
  const decrypt = form(page, '4. Decrypt');
  await expect(encrypt.getByLabel('Key version')).toHaveValue('1');
  await encrypt.getByLabel('Plaintext').fill('Attack at dawn');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  o = await outcome(result(page, 'Encrypt result'));
  expect(o.state).toBe('ok');
  expect(o.json.data.key_version).toBe(1);
  const first = o.json.data.ciphertext as string;
  await expect(decrypt.getByLabel('Ciphertext (base64)')).toHaveValue(first);
  await decrypt.getByRole('button', { name: 'Decrypt' }).click();
  o = await outcome(result(page, 'Decrypt result'));
  expect(o.state).toBe('ok');
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: Attack at dawn');
  expect(atob(o.json.data.plaintext)).toBe('Attack at dawn');

  // Standard mode is randomized: a second encryption differs.
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  o = await outcome(result(page, 'Encrypt result'));
  expect(o.json.data.ciphertext).not.toBe(first);

  // Deterministic mode with a salt: the same input gives the same ciphertext.
  await expect(encrypt.getByLabel('Salt')).toBeHidden();
  await encrypt.getByRole('radio', { name: 'Deterministic' }).check();
  await encrypt.getByLabel('Salt').fill('customer-email');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  const det1 = (await outcome(result(page, 'Encrypt result'))).json.data.ciphertext;
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  await expect(result(page, 'Encrypt result')).toHaveAttribute('data-state', 'ok');
  const det2 = (await outcome(result(page, 'Encrypt result'))).json.data.ciphertext;
  expect(det2).toBe(det1);
  await decrypt.getByRole('button', { name: 'Decrypt' }).click();
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: Attack at dawn');

  // AAD: decrypt needs the same associated data; a wrong one is "Decryption failed".
  await encrypt.getByRole('radio', { name: 'Standard' }).check();
  await encrypt.getByLabel('Associated data (optional)').fill('order-42');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  expect((await outcome(result(page, 'Encrypt result'))).state).toBe('ok');
  await expect(decrypt.getByLabel('Associated data (optional)')).toHaveValue('order-42');
  await decrypt.getByRole('button', { name: 'Decrypt' }).click();
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: Attack at dawn');
  await decrypt.getByLabel('Associated data (optional)').fill('order-43');
  await decrypt.getByRole('button', { name: 'Decrypt' }).click();
  await expect(result(page, 'Decrypt result')).toHaveAttribute('data-state', 'error');
  o = await outcome(result(page, 'Decrypt result'));
  expect(o.json.error).toEqual({ code: 'ERR_INVALID_001', error_code: 'ERR_INVALID_001', message: 'Decryption failed' });
  expect(o.summary).toMatch(/^Error kem\.decrypt on local · [\d.]+ m?s ERR_INVALID_001: Decryption failed$/);

  // Sign and verify, with a context; a changed message does not verify.
  const sign = form(page, '5. Sign');
  const verify = form(page, '6. Verify');
  await sign.getByLabel('Message').fill('Invoice #1234: $5,000.00');
  await sign.getByLabel('Context (optional)').fill('invoices');
  await sign.getByRole('button', { name: 'Sign' }).click();
  o = await outcome(result(page, 'Sign result'));
  expect(o.state).toBe('ok');
  expect(atob(o.json.data.signature).length).toBe(3309); // ML-DSA-65, FIPS 204 Table 2
  await verify.getByRole('button', { name: 'Verify' }).click();
  o = await outcome(result(page, 'Verify result'));
  expect(o.json.data).toMatchObject({ valid: true, algorithm: 'Dilithium3' });
  await expect(result(page, 'Verify result')).toContainText('The signature is valid.');
  await verify.getByLabel('Message').fill('Invoice #1234: $9,000.00');
  await verify.getByRole('button', { name: 'Verify' }).click();
  await expect(result(page, 'Verify result')).toContainText('NOT valid');
  expect((await outcome(result(page, 'Verify result'))).json.data).toMatchObject({ valid: false, algorithm: 'Dilithium3' });

  // Public-key tools: seal to our own public key in the page, decrypt with the backend.
  await page.getByRole('button', { name: 'Use public key of ML-KEM-768 version 1' }).click();
  const seal = form(page, 'Seal to a public key');
  await expect(seal.getByLabel('ML-KEM-768 or X-Wing public key (base64 SPKI)')).toBeFocused();
  await expect(seal.getByLabel('Key version')).toHaveValue('1');
  await seal.getByLabel('Plaintext').fill('sealed in the page');
  await seal.getByRole('button', { name: 'Seal' }).click();
  o = await outcome(result(page, 'Seal result'));
  expect(o.state).toBe('ok');
  await seal.getByRole('button', { name: 'Send to Decrypt' }).click();
  await expect(decrypt.getByLabel('Ciphertext (base64)')).toBeFocused();
  await decrypt.getByRole('button', { name: 'Decrypt' }).click();
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: sealed in the page');

  // ...and verify the signature in the page with the ML-DSA public key.
  await page.getByRole('button', { name: 'Use public key of ML-DSA-65 version 1' }).click();
  const offlineVerify = form(page, 'Verify with a public key');
  await expect(offlineVerify.getByLabel('Signature (base64)')).not.toHaveValue('');
  await offlineVerify.getByRole('button', { name: 'Verify signature' }).click();
  o = await outcome(result(page, 'Public-key verify result'));
  expect(o.json).toEqual({ valid: true });
  // A bad public key is a TypeError naming the argument, shown like an error envelope.
  await offlineVerify.getByLabel('ML-DSA-65 or composite public key (base64 SPKI)').fill('not base64!');
  await offlineVerify.getByRole('button', { name: 'Verify signature' }).click();
  o = await outcome(result(page, 'Public-key verify result'));
  expect(o.state).toBe('error');
  expect(o.json.error.name).toBe('TypeError');
  expect(o.summary).toContain('"public_key"');

  // Lifecycle: rotate, retire, archive.
  await page.getByRole('button', { name: 'Rotate ML-KEM-768' }).click();
  expect((await outcome(keysResult)).json.data).toMatchObject({ key_version: 2, status: 'active' });
  rows = await keyRows(page, 3);
  await expect(rows.nth(0)).toContainText(/ML-KEM-768\s*2\s*active/);
  await expect(rows.nth(1)).toContainText(/ML-KEM-768\s*1\s*retired/);
  await expect(encrypt.getByLabel('Key version')).toHaveValue('2');
  // A retired key no longer encrypts...
  await encrypt.getByLabel('Key version').fill('1');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  await expect(result(page, 'Encrypt result')).toHaveAttribute('data-state', 'error');
  expect((await outcome(result(page, 'Encrypt result'))).json.error.code).toBe('ERR_FORBIDDEN_001');
  // ...and an unknown version is ERR_KEM_005.
  await encrypt.getByLabel('Key version').fill('9');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  await expect(result(page, 'Encrypt result')).toContainText('ERR_KEM_005');

  await page.getByRole('button', { name: 'Archive ML-KEM-768 version 1' }).click();
  // retire and archive answer the key's whole record (public_key, created_at too).
  expect((await outcome(keysResult)).json.data).toMatchObject({
    key_version: 1,
    algorithm: 'Kyber768',
    status: 'archived',
    public_key: expect.any(String),
  });
  await expect(rows.nth(1)).toContainText(/ML-KEM-768\s*1\s*archived/);
  await expect(page.getByRole('button', { name: 'Archive ML-KEM-768 version 1' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Retire ML-KEM-768 version 2' }).click();
  expect((await outcome(keysResult)).json.data).toMatchObject({
    key_version: 2,
    algorithm: 'Kyber768',
    status: 'retired',
    public_key: expect.any(String),
  });
  await expect(rows.nth(0)).toContainText(/ML-KEM-768\s*2\s*retired/);

  // kms.active, kms.list and kms.get, envelopes shown as they are.
  await page.getByRole('button', { name: 'Active ML-KEM-768 key' }).click();
  o = await outcome(keysResult);
  expect(o.json.error.code).toBe('ERR_NOT_FOUND_001'); // v2 retired, v1 archived: none active
  await page.getByRole('button', { name: 'Active ML-DSA-65 key' }).click();
  await expect(keysResult).toContainText('kms.active on local');
  await expect(keysResult).toHaveAttribute('data-state', 'ok');
  expect((await outcome(keysResult)).json.data).toMatchObject({ algorithm: 'Dilithium3', key_version: 1, status: 'active' });
  await page.getByRole('button', { name: 'List ML-KEM-768 keys' }).click();
  await expect(keysResult).toContainText('kms.list on local');
  expect((await outcome(keysResult)).json.data.keys.map((k: { status: string }) => k.status)).toEqual(['archived', 'retired']);
  await page.getByRole('button', { name: 'Get ML-KEM-768 version 1' }).click();
  await expect(keysResult).toContainText('kms.get on local');
  expect((await outcome(keysResult)).json.data).toMatchObject({ key_version: 1, status: 'archived' });

  // Keys live in IndexedDB: they survive a reload.
  await page.reload();
  rows = await keyRows(page, 3);
  await expect(rows.nth(0)).toContainText(/ML-KEM-768\s*2\s*retired/);
});

test('keyboard only: skip link, backend choice, submit with Enter; every control has a label', async ({ page }) => {
  await openPlayground(page);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to the playground' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('radio', { name: 'Local (this browser)', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('radio', { name: 'Remote', exact: true })).toBeChecked();
  await expect(page.getByLabel('Base URL')).toBeVisible();
  await page.keyboard.press('ArrowUp');
  await expect(page.getByRole('radio', { name: 'Local (this browser)', exact: true })).toBeChecked();
  await expect(page.getByLabel('Base URL')).toBeHidden();

  // Tab to "Generate ML-KEM-768 key" and press Enter, then submit Encrypt with Enter in a field.
  const generate = page.getByRole('button', { name: 'Generate ML-KEM-768 key' });
  for (let i = 0; i < 10 && !(await generate.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(generate).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(result(page, 'Key management result')).toHaveAttribute('data-state', 'ok');
  await expect(generate).toBeFocused(); // focus stays where the person is
  // Retire from the table by keyboard: the row is redrawn, focus lands on the outcome.
  await page.getByRole('button', { name: 'Retire ML-KEM-768 version 1' }).focus();
  await page.keyboard.press('Enter');
  await expect(result(page, 'Key management result')).toBeFocused();
  await expect(result(page, 'Key management result')).toContainText('kms.retire');
  await page.getByRole('button', { name: 'Rotate ML-KEM-768' }).click();
  await expect(result(page, 'Key management result')).toContainText('kms.rotate');
  const encrypt = form(page, '3. Encrypt');
  await expect(encrypt.getByLabel('Key version')).toHaveValue('2');
  await encrypt.getByLabel('Associated data (optional)').focus();
  await page.keyboard.type('via keyboard');
  await page.keyboard.press('Enter');
  await expect(result(page, 'Encrypt result')).toHaveAttribute('data-state', 'ok');

  // Every input, textarea and button has an accessible name; every field a <label>.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')]
      .filter((el) => el.labels === null || el.labels.length === 0)
      .map((el) => el.id || el.name),
  );
  expect(unlabelled).toEqual([]);
  const nameless = await page.evaluate(
    () =>
      [...document.querySelectorAll('button')].filter((b) => (b.getAttribute('aria-label') ?? b.textContent ?? '').trim() === '').length,
  );
  expect(nameless).toBe(0);
});
