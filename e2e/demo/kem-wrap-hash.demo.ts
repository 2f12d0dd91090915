/**
 * The raw-KEM, key-wrap and digest-signature panels (steps 8 to 10), on the local backend and on
 * the server: each pair round-trips, a changed input fails the way the API says it does
 * (implicit rejection, "Unwrap failed", an invalid signature), and errors show as envelopes.
 */
import type { Page } from '@playwright/test';
import { expect, form, openPlayground, outcome, result, serverInfo, test, useRemote } from './fixtures.js';

/** Flips one base64 character in the middle of a field (still valid base64, same length). */
async function tamper(page: Page, formName: string, label: string): Promise<void> {
  const field = form(page, formName).getByLabel(label);
  const value = await field.inputValue();
  const at = Math.floor(value.length / 2);
  await field.fill(value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1));
}

async function exercise(page: Page, on: RegExp): Promise<void> {
  const keysResult = result(page, 'Key management result');
  // Rotate makes a fresh active key whether or not one exists (the server is shared by specs).
  await page.getByRole('button', { name: 'Rotate ML-KEM-768' }).click();
  const kemVersion = (await outcome(keysResult)).json.data.key_version as number;
  await page.getByRole('button', { name: 'Rotate ML-DSA-65' }).click();
  const dsaVersion = (await outcome(keysResult)).json.data.key_version as number;

  // 8. encapsulate / decapsulate
  const encapsulate = form(page, '8. Encapsulate (raw KEM)');
  await expect(encapsulate.getByLabel('Key version')).toHaveValue(String(kemVersion));
  await encapsulate.getByRole('button', { name: 'Encapsulate' }).click();
  let o = await outcome(result(page, 'Encapsulate result'));
  expect(o.state).toBe('ok');
  expect(o.summary).toMatch(on);
  expect(Object.keys(o.json.data).sort()).toEqual(['algorithm', 'kem_ciphertext', 'key_version', 'shared_secret']);
  const secret = o.json.data.shared_secret as string;
  await form(page, 'Decapsulate').getByRole('button', { name: 'Decapsulate' }).click();
  const decapsulated = result(page, 'Decapsulate result');
  o = await outcome(decapsulated);
  expect(o.json.data.shared_secret).toBe(secret);
  await expect(decapsulated).toContainText('It matches the encapsulated one.');
  await tamper(page, 'Decapsulate', 'KEM ciphertext (base64)');
  await form(page, 'Decapsulate').getByRole('button', { name: 'Decapsulate' }).click();
  await expect(decapsulated).toContainText('It does NOT match the encapsulated one');
  o = await outcome(decapsulated);
  expect(o.state).toBe('ok'); // implicit rejection: another secret, not an error
  expect(o.json.data.shared_secret).not.toBe(secret);

  // 9. wrap / unwrap
  const wrap = form(page, '9. Wrap a key');
  const symmetricKey = await wrap.getByLabel(/^Symmetric key/).inputValue();
  expect(atob(symmetricKey)).toHaveLength(32);
  await wrap.getByRole('button', { name: 'Wrap key' }).click();
  o = await outcome(result(page, 'Wrap result'));
  expect(o.json.data).toMatchObject({ key_version: kemVersion, algorithm: 'Kyber768', wrapping_method: 'KEM-DEM' });
  await form(page, 'Unwrap a key').getByRole('button', { name: 'Unwrap key' }).click();
  o = await outcome(result(page, 'Unwrap result'));
  expect(o.json.data.symmetric_key).toBe(symmetricKey);
  await tamper(page, 'Unwrap a key', 'Wrapped key (base64)');
  await form(page, 'Unwrap a key').getByRole('button', { name: 'Unwrap key' }).click();
  o = await outcome(result(page, 'Unwrap result'));
  expect(o.json.error).toMatchObject({ code: 'ERR_INVALID_001', message: 'Unwrap failed' });
  await wrap.getByLabel(/^Symmetric key/).fill(btoa('twenty bytes of key!'));
  await wrap.getByRole('button', { name: 'Wrap key' }).click();
  o = await outcome(result(page, 'Wrap result'));
  expect(o.json.error.message).toBe('Validation failed: symmetric_key must be 16, 24, 32, 48 or 64 bytes');
  await wrap.getByRole('button', { name: 'New random key' }).click();
  expect(atob(await wrap.getByLabel(/^Symmetric key/).inputValue())).toHaveLength(32);

  // 10. sign-hash / verify-hash, SHA-384, with a context
  const signHash = form(page, '10. Sign a digest');
  await expect(signHash.getByLabel('Key version')).toHaveValue(String(dsaVersion));
  await signHash.getByRole('radio', { name: 'SHA-384' }).check();
  await signHash.getByLabel('Context (optional)').fill('release-signing');
  await signHash.getByRole('button', { name: 'Sign digest' }).click();
  o = await outcome(result(page, 'Sign digest result'));
  expect(o.json.data).toMatchObject({ key_version: dsaVersion, hash_algorithm: 'SHA-384', signature_type: 'detached' });
  const verifyHash = form(page, 'Verify a digest signature');
  await expect(verifyHash.getByRole('radio', { name: 'SHA-384' })).toBeChecked();
  await verifyHash.getByRole('button', { name: 'Verify digest signature' }).click();
  o = await outcome(result(page, 'Verify digest result'));
  expect(o.json.data).toEqual({ valid: true, key_version: dsaVersion, algorithm: 'Dilithium3', hash_algorithm: 'SHA-384' });
  // the same signature under another hash, or over another message, is not valid
  await verifyHash.getByRole('radio', { name: 'SHA-512' }).check();
  await verifyHash.getByRole('button', { name: 'Verify digest signature' }).click();
  expect((await outcome(result(page, 'Verify digest result'))).json.data.valid).toBe(false);
  await verifyHash.getByRole('radio', { name: 'SHA-384' }).check();
  await verifyHash.getByLabel('Message (hashed in this page)').fill('Release 2.4.2 tarball');
  await verifyHash.getByRole('button', { name: 'Verify digest signature' }).click();
  await expect(result(page, 'Verify digest result')).toContainText('The digest signature is NOT valid.');
}

test('local backend: encapsulate/decapsulate, wrap/unwrap, sign/verify a digest', async ({ page }) => {
  await openPlayground(page);
  await expect(page.getByRole('table')).toContainText('No keys yet');
  await exercise(page, /^Success kem\.encapsulate on local · [\d.]+ m?s$/);
});

test('remote backend: the same panels against the server', async ({ page, console }) => {
  const { apiKey } = await serverInfo();
  await openPlayground(page);
  await useRemote(page, apiKey);
  await expect(page.getByRole('table')).toContainText('Keys on http://127.0.0.1');
  console.allowFailedRequests(/\/api\/v1\/kem\/key\/(wrap|unwrap)$/);
  await exercise(page, /^Success kem\.encapsulate on http:\/\/127\.0\.0\.1:\d+ · [\d.]+ m?s$/);
});
