/**
 * `qpher backup` and `qpher restore`: the whole SQLite store (every tenant's key rings, API key
 * hashes, the master-key check) copied while the server serves, and put back while it is stopped.
 * The seeds in it stay wrapped under the master key, which is not in the copy: keep the master
 * key apart from the backups (docs/server.md, "Backup and restore").
 *
 * Restore refuses to replace a store that any process has open (a running server, an api-key
 * command): it asks SQLite for an exclusive lock, which it cannot get while another connection
 * holds the database; and it refuses a file that is not a Qpher store, fails SQLite's integrity
 * check, or was made under another master key. The replaced database is kept beside it.
 * @module
 */
import { existsSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE, openDataDir } from './compose.js';
import { CHECK_NAME, existingMasterKey, masterKeyOpens, StartupError } from './master-key.js';

export async function backupStore(dataDir: string, out: string): Promise<void> {
  const path = join(dataDir, DB_FILE);
  if (!existsSync(path)) throw new StartupError(`No Qpher store in ${dataDir} (${DB_FILE} is missing)`);
  if (existsSync(out)) throw new StartupError(`${out} exists; refusing to overwrite it`);
  const store = await openDataDir(dataDir);
  try {
    await store.backupTo(out);
  } finally {
    await store.close();
  }
}

export async function restoreStore(dataDir: string, input: string, env: NodeJS.ProcessEnv, now = new Date()): Promise<string | undefined> {
  if (!existsSync(input)) throw new StartupError(`Cannot read ${input}`);
  await checkBackupFile(input, dataDir, env);
  const path = join(dataDir, DB_FILE);
  const staged = `${path}.restore-${process.pid}.tmp`;
  await copyFile(input, staged);
  let kept: string | undefined;
  try {
    if (existsSync(path)) {
      assertNotInUse(path);
      kept = `${path}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
      await rename(path, kept);
      // Closed cleanly above, so the WAL was checkpointed into the file just moved; leftovers of a crash are the old store's.
      for (const suffix of ['-wal', '-shm']) await rm(`${path}${suffix}`, { force: true });
    }
    await rename(staged, path);
    return kept;
  } finally {
    await rm(staged, { force: true });
  }
}

/** A Qpher store, intact, whose master-key check opens under this installation's master key. */
async function checkBackupFile(input: string, dataDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  let db: Database.Database;
  try {
    db = new Database(input, { readonly: true, fileMustExist: true });
  } catch {
    throw new StartupError(`${input} is not a Qpher store backup (not an SQLite database)`);
  }
  let check: Uint8Array | undefined;
  try {
    const tables = new Set(
      db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((r) => r.name),
    );
    if (!['meta', 'keys', 'api_keys'].every((t) => tables.has(t))) throw new StartupError(`${input} is not a Qpher store backup`);
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new StartupError(`${input} is damaged (SQLite integrity check: ${String(integrity)})`);
    const row = db.prepare<[string], { value: Uint8Array }>('SELECT value FROM meta WHERE name = ?').get(CHECK_NAME);
    check = row ? new Uint8Array(row.value) : undefined;
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(`${input} is not a Qpher store backup (${(error as Error).message})`);
  } finally {
    db.close();
  }
  if (!check) throw new StartupError(`${input} is not a Qpher store backup (it has no master-key check)`);
  if (!(await masterKeyOpens(await existingMasterKey(dataDir, env), check))) {
    throw new StartupError(`${input} was made under another master key than this installation's; nothing was restored`);
  }
}

/**
 * Throws unless this process can take SQLite's exclusive lock, i.e. no other connection has the
 * database open (`what`: the past participle the message ends with, "Nothing was restored").
 */
export function assertNotInUse(path: string, what = 'restored'): void {
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StartupError(
        `${path} is in use (a running server or another qpher command has it open); stop it first. Nothing was ${what}`,
      );
    }
    throw error;
  } finally {
    db.close();
  }
}
