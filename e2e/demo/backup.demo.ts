/**
 * The Backup and restore panel on the local backend, as a person would use it: Backup downloads
 * a file, a wrong passphrase is the one 400, Restore of the downloaded file into a fresh browser
 * profile (a new IndexedDB) brings the key back. Beside the buttons, the panel says whether the
 * browser granted persistent storage, as the browser itself answers it.
 */
import { readFile } from 'node:fs/promises';
import { expect, form, keyRows, openPlayground, outcome, result, SCREENSHOTS, test } from './fixtures.js';

test('backup downloads the keys; restore in a fresh profile brings them back; a wrong passphrase is refused', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await openPlayground(page);
  // What the panel says is what the browser answers (LocalBackend asked persist() at start).
  const storage = page.getByRole('status', { name: 'Key storage' });
  await expect(storage).toHaveAttribute('data-persisted', /^(true|false)$/);
  const granted = await page.evaluate(() => navigator.storage.persisted());
  await expect(storage).toHaveAttribute('data-persisted', String(granted));
  await expect(storage).toContainText(
    granted ? 'persistent (the browser granted' : 'not persistent (navigator.storage.persist() was not granted)',
  );
  await page.getByRole('button', { name: 'Generate ML-KEM-768 key' }).click();
  await keyRows(page, 1);

  const backup = form(page, 'Backup and restore');
  await backup.getByLabel('Passphrase').fill('a long playground passphrase');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    backup.getByRole('button', { name: 'Backup', exact: true }).click(),
  ]);
  const o = await outcome(result(page, 'Backup result'));
  expect(o.state).toBe('ok');
  expect(o.json.data.keys).toBe(1);
  expect(download.suggestedFilename()).toMatch(/^qpher-keys-\d{4}-\d\d-\d\d\.qpherbak$/);
  const file = await download.path();
  expect((await readFile(file, 'utf8')).trim()).toBe(o.json.data.backup);
  await page.screenshot({ path: `${SCREENSHOTS}backup-panel.png`, fullPage: true });

  // A fresh profile: a new context has its own, empty IndexedDB.
  const fresh = await (await browser.newContext()).newPage();
  await openPlayground(fresh);
  const restore = form(fresh, 'Backup and restore');
  await restore.getByLabel('Backup file (for Restore)').setInputFiles(file);
  await restore.getByLabel('Passphrase').fill('not the passphrase');
  await restore.getByRole('button', { name: 'Restore', exact: true }).click();
  let r = await outcome(result(fresh, 'Backup result'));
  expect(r.state).toBe('error');
  expect(r.json.error.message).toBe('Backup could not be opened: wrong passphrase or damaged backup');
  await restore.getByLabel('Passphrase').fill('a long playground passphrase');
  await restore.getByRole('button', { name: 'Restore', exact: true }).click();
  r = await outcome(result(fresh, 'Backup result'));
  expect(r.state).toBe('ok');
  expect(r.json.data.imported).toEqual([{ algorithm: 'Kyber768', key_version: 1, status: 'active' }]);
  await fresh.context().close();
});
