/**
 * The hybrids through the playground, on the local backend and on the server: each operation
 * panel's algorithm choice runs X-Wing (encrypt/decrypt, encapsulate/decapsulate, wrap/unwrap)
 * and the ML-DSA-65 + ECDSA P-256 composite (sign/verify, sign/verify a digest), the key-version
 * fields follow the chosen algorithm's active key, the next panel takes the algorithm of what it
 * is given, and the digest panels offer the composite SHA-512 only. Also saves a screenshot of
 * the page with the hybrids chosen (e2e/screenshots/, gitignored) for a person to look at.
 */
import type { Page } from '@playwright/test';
import { expect, form, openPlayground, outcome, result, SCREENSHOTS, serverInfo, test, useRemote } from './fixtures.js';

const XWING = 'X-Wing (ML-KEM-768 + X25519)';
const COMPOSITE = 'ML-DSA-65 + ECDSA P-256';

async function exercise(page: Page, { screenshot }: { screenshot?: string } = {}): Promise<void> {
  const keysResult = result(page, 'Key management result');
  // Rotate makes a fresh active key whether or not one exists (the server is shared by specs).
  await page.getByRole('button', { name: 'Rotate X-Wing' }).click();
  const xwingVersion = (await outcome(keysResult)).json.data.key_version as number;
  await page.getByRole('button', { name: 'Rotate composite' }).click();
  const compositeVersion = (await outcome(keysResult)).json.data.key_version as number;
  await expect(page.getByRole('button', { name: `Get ${XWING} version ${xwingVersion}` })).toBeVisible();

  // 3/4. encrypt and decrypt with X-Wing: the key version follows the chosen algorithm's active key
  const encrypt = form(page, '3. Encrypt');
  await encrypt.getByLabel('Algorithm').selectOption({ label: XWING });
  await expect(encrypt.getByLabel('Key version')).toHaveValue(String(xwingVersion));
  await encrypt.getByLabel('Plaintext').fill('hybrid secret');
  await encrypt.getByRole('button', { name: 'Encrypt' }).click();
  let o = await outcome(result(page, 'Encrypt result'));
  expect(o.json.data).toMatchObject({ key_version: xwingVersion, algorithm: 'X-Wing' });
  expect(atob(o.json.data.ciphertext)).toHaveLength(1144 + 'hybrid secret'.length);
  await expect(form(page, '4. Decrypt').getByLabel('Algorithm')).toHaveValue('X-Wing');
  await form(page, '4. Decrypt').getByRole('button', { name: 'Decrypt' }).click();
  o = await outcome(result(page, 'Decrypt result'));
  expect(o.json.data).toMatchObject({ key_version: xwingVersion, algorithm: 'X-Wing' });
  await expect(result(page, 'Decrypt result')).toContainText('Plaintext: hybrid secret');

  // 5/6. sign and verify with the composite; a changed message is not valid
  const sign = form(page, '5. Sign');
  await sign.getByLabel('Algorithm').selectOption({ label: COMPOSITE });
  await expect(sign.getByLabel('Key version')).toHaveValue(String(compositeVersion));
  await sign.getByRole('button', { name: 'Sign' }).click();
  o = await outcome(result(page, 'Sign result'));
  expect(o.json.data).toMatchObject({ key_version: compositeVersion, algorithm: 'Composite-ML-DSA' });
  const verify = form(page, '6. Verify');
  await expect(verify.getByLabel('Algorithm')).toHaveValue('Composite-ML-DSA');
  await verify.getByRole('button', { name: 'Verify' }).click();
  expect((await outcome(result(page, 'Verify result'))).json.data).toEqual({
    valid: true,
    key_version: compositeVersion,
    algorithm: 'Composite-ML-DSA',
  });
  await verify.getByLabel('Message').fill('Invoice #1234: $9,000.00');
  await verify.getByRole('button', { name: 'Verify' }).click();
  await expect(result(page, 'Verify result')).toContainText('The signature is NOT valid.');

  // 8. encapsulate / decapsulate with X-Wing
  const encapsulate = form(page, '8. Encapsulate (raw KEM)');
  await encapsulate.getByLabel('Algorithm').selectOption({ label: XWING });
  await expect(encapsulate.getByLabel('Key version')).toHaveValue(String(xwingVersion));
  await encapsulate.getByRole('button', { name: 'Encapsulate' }).click();
  o = await outcome(result(page, 'Encapsulate result'));
  expect(o.json.data).toMatchObject({ key_version: xwingVersion, algorithm: 'X-Wing' });
  expect(atob(o.json.data.kem_ciphertext)).toHaveLength(1120);
  const decapsulate = form(page, 'Decapsulate');
  await expect(decapsulate.getByLabel('Algorithm')).toHaveValue('X-Wing');
  await decapsulate.getByRole('button', { name: 'Decapsulate' }).click();
  await expect(result(page, 'Decapsulate result')).toContainText('It matches the encapsulated one.');

  // 9. wrap / unwrap with X-Wing
  const wrap = form(page, '9. Wrap a key');
  await wrap.getByLabel('Algorithm').selectOption({ label: XWING });
  const symmetricKey = await wrap.getByLabel(/^Symmetric key/).inputValue();
  await wrap.getByRole('button', { name: 'Wrap key' }).click();
  o = await outcome(result(page, 'Wrap result'));
  expect(o.json.data).toMatchObject({ key_version: xwingVersion, algorithm: 'X-Wing', wrapping_method: 'KEM-DEM' });
  expect(atob(o.json.data.wrapped_key)).toHaveLength(32 + 1144);
  const unwrap = form(page, 'Unwrap a key');
  await expect(unwrap.getByLabel('Algorithm')).toHaveValue('X-Wing');
  await unwrap.getByRole('button', { name: 'Unwrap key' }).click();
  o = await outcome(result(page, 'Unwrap result'));
  expect(o.json.data).toEqual({ symmetric_key: symmetricKey, key_version: xwingVersion, algorithm: 'X-Wing' });

  // 10. sign / verify a digest with the composite: SHA-512 only
  const signHash = form(page, '10. Sign a digest');
  await signHash.getByRole('radio', { name: 'SHA-256' }).check();
  await signHash.getByLabel('Algorithm').selectOption({ label: COMPOSITE });
  await expect(signHash.getByRole('radio', { name: 'SHA-256' })).toBeDisabled();
  await expect(signHash.getByRole('radio', { name: 'SHA-384' })).toBeDisabled();
  await expect(signHash.getByRole('radio', { name: 'SHA-512' })).toBeChecked();
  await expect(signHash).toContainText('ML-DSA-65 + ECDSA P-256 signs SHA-512 digests only (its own pre-hash).');
  await expect(signHash.getByLabel('Key version')).toHaveValue(String(compositeVersion));
  await signHash.getByRole('button', { name: 'Sign digest' }).click();
  o = await outcome(result(page, 'Sign digest result'));
  expect(o.json.data).toMatchObject({ key_version: compositeVersion, algorithm: 'Composite-ML-DSA', hash_algorithm: 'SHA-512' });
  const verifyHash = form(page, 'Verify a digest signature');
  await expect(verifyHash.getByLabel('Algorithm')).toHaveValue('Composite-ML-DSA');
  await expect(verifyHash.getByRole('radio', { name: 'SHA-512' })).toBeChecked();
  await verifyHash.getByRole('button', { name: 'Verify digest signature' }).click();
  expect((await outcome(result(page, 'Verify digest result'))).json.data).toEqual({
    valid: true,
    key_version: compositeVersion,
    algorithm: 'Composite-ML-DSA',
    hash_algorithm: 'SHA-512',
  });
  // back to ML-DSA-65: every hash again
  await signHash.getByLabel('Algorithm').selectOption({ label: 'ML-DSA-65' });
  await expect(signHash.getByRole('radio', { name: 'SHA-256' })).toBeEnabled();
  await expect(signHash).not.toContainText('signs SHA-512 digests only');
  await signHash.getByLabel('Algorithm').selectOption({ label: COMPOSITE });

  if (screenshot) {
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOTS}${screenshot}.png`, fullPage: true });
  }
}

test('local backend: X-Wing and the composite through every panel that takes them', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openPlayground(page);
  await expect(page.getByRole('table')).toContainText('No keys yet');
  await exercise(page, { screenshot: 'playground-hybrids-1440' });
});

test('remote backend: the same against the server', async ({ page }) => {
  const { apiKey } = await serverInfo();
  await page.setViewportSize({ width: 375, height: 812 });
  await openPlayground(page);
  await useRemote(page, apiKey);
  await expect(page.getByRole('table')).toContainText('Keys on http://127.0.0.1');
  await exercise(page, { screenshot: 'playground-hybrids-375-remote' });
});
