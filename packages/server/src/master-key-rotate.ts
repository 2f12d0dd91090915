/**
 * `qpher master-key rotate [--data-dir D | --database URL]`: every wrapped seed of every tenant,
 * and the master-key check value, rewrapped under a new master key in one transaction
 * (ServerStore.rewrapAll). Run it with the server stopped (every instance, on a shared database):
 * a server still running keeps the old key in memory, and would write new seeds under it.
 *
 * Where the new key comes from:
 * - the old one is `DIR/master.key`: a new random key, written to `DIR/master.key.next` (0600,
 *   synced) before the transaction, and renamed over `master.key` once it has committed. Killed
 *   before the commit: nothing changed, and the old key still opens the store. Killed between
 *   the commit and the rename: the next start (or rotate) finds `master.key.next` opening the
 *   store and finishes the rename (master-key.ts).
 * - the old one is `QPHER_MASTER_KEY`: the new one is read from `QPHER_NEW_MASTER_KEY`, and the
 *   operator puts it in `QPHER_MASTER_KEY` for the next start.
 * Afterwards the old key no longer starts the server: its check fails, naming both key ids.
 *
 * Integrity (integrity.ts): every key row and API-key row is checked against its MAC under the
 * old key as it is read, and written with a MAC under keys derived from the new one, in the same
 * transaction; a row that fails its check stops the rotation. Unsealed rows (from before MACs)
 * must be sealed first (`qpher migrate`). API-key digests stay valid: their key is kept.
 * @module
 */
import { existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { seedBinding } from 'qpher/host';
import { assertSealed, DB_FILE, openStore } from './compose.js';
import {
  CHECK_BINDING,
  CHECK_NAME,
  CHECK_PLAINTEXT,
  decodeKey,
  loadMasterKey,
  MASTER_KEY_ENV,
  MASTER_KEY_FILE,
  NEXT_MASTER_KEY_FILE,
  API_KEY_DIGEST_KEY_BINDING,
  API_KEY_DIGEST_KEY_NAME,
  unlockForRotation,
  StartupError,
  syncDirectory,
} from './master-key.js';
import { masterKeyWrapperOf } from './master-key-wrapper.js';
import { Integrity } from './integrity.js';
import { assertNotInUse } from './store-backup.js';

export const NEW_MASTER_KEY_ENV = 'QPHER_NEW_MASTER_KEY';

export interface RotationReport {
  keys: number;
  oldId: string;
  newId: string;
  ms: number;
  /** Where the new key is now: the master.key path, or the environment variable to set. */
  newKeyAt: string;
}

export interface RotateOptions {
  dataDir: string;
  database: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Progress and notices, one line each. */
  log: (line: string) => void;
}

export async function rotateMasterKey(options: RotateOptions): Promise<RotationReport> {
  const { dataDir, database, env, log } = options;
  const fromEnv = env[MASTER_KEY_ENV] !== undefined && env[MASTER_KEY_ENV] !== '';
  const newFromEnv = env[NEW_MASTER_KEY_ENV];
  if (fromEnv && (newFromEnv === undefined || newFromEnv === '')) {
    throw new StartupError(
      `The master key comes from ${MASTER_KEY_ENV}: put the new one in ${NEW_MASTER_KEY_ENV} (base64 of 32 bytes, e.g. from: openssl rand -base64 32)`,
    );
  }
  if (!fromEnv && newFromEnv !== undefined && newFromEnv !== '') {
    throw new StartupError(
      `${NEW_MASTER_KEY_ENV} goes with ${MASTER_KEY_ENV}; with ${join(dataDir, MASTER_KEY_FILE)} the new key is made here`,
    );
  }
  if (database === undefined) {
    const path = join(dataDir, DB_FILE);
    if (!existsSync(path)) throw new StartupError(`No Qpher store in ${dataDir} (${DB_FILE} is missing)`);
    assertNotInUse(path, 'rotated');
  }
  if (!fromEnv && !existsSync(join(dataDir, MASTER_KEY_FILE))) {
    throw new StartupError(`No master key: neither ${MASTER_KEY_ENV} nor ${join(dataDir, MASTER_KEY_FILE)} is there`);
  }

  const store = await openStore({ dataDir, database });
  try {
    // Checks the current key against the store (and finishes an interrupted rotation first); the
    // store then checks every row's MAC under it as the rotation reads the row.
    const { wrapper: current, digestKey } = await unlockForRotation(
      await loadMasterKey(dataDir, env, { create: false }),
      store,
      (row) => log(`integrity check failed: ${row} was changed outside qpher`),
      log,
    );
    try {
      await assertSealed(store, dataDir);
      const nextPath = join(dataDir, NEXT_MASTER_KEY_FILE);
      const newBytes = fromEnv ? decodeKey(newFromEnv!.trim(), NEW_MASTER_KEY_ENV) : await writeNextKey(dataDir, nextPath);
      // Row MACs under keys derived from the new master key; API-key digests keep their key (master-key.ts).
      const integrity = Integrity.fromMasterKey(newBytes, digestKey);
      const next = await masterKeyWrapperOf(newBytes);
      if (next.idHex === current.idHex) throw new StartupError(`${NEW_MASTER_KEY_ENV} is the current master key; nothing was rotated`);

      log(`rotating the master key ${current.idHex} -> ${next.idHex}: rewrapping every seed in one transaction`);
      const started = performance.now();
      const keys = await store.rewrapAll({
        async seed(row) {
          const binding = seedBinding(row.tenant, row.algorithm, row.public_key);
          let seed: Uint8Array;
          try {
            seed = await current.unwrap(row.wrapped_seed, binding);
          } catch {
            throw new StartupError(
              `Key ${row.algorithm} version ${row.key_version} of tenant "${row.tenant}" does not unwrap under the current master key; nothing was rotated`,
            );
          }
          try {
            return await next.wrap(seed, binding);
          } finally {
            seed.fill(0);
          }
        },
        integrity,
        meta: [
          { name: CHECK_NAME, value: () => next.wrap(CHECK_PLAINTEXT, CHECK_BINDING) },
          { name: API_KEY_DIGEST_KEY_NAME, value: () => next.wrap(digestKey, API_KEY_DIGEST_KEY_BINDING) },
        ],
        progress: (done, total) => log(`rewrapped ${done} of ${total} seeds`),
      });
      const ms = performance.now() - started;
      log(`committed: ${keys} seed${keys === 1 ? '' : 's'} now under master key ${next.idHex}`);
      let newKeyAt = NEW_MASTER_KEY_ENV;
      if (!fromEnv) {
        newKeyAt = join(dataDir, MASTER_KEY_FILE);
        await rename(nextPath, newKeyAt);
        await syncDirectory(dataDir);
      }
      return { keys, oldId: current.idHex, newId: next.idHex, ms, newKeyAt };
    } finally {
      digestKey.fill(0);
    }
  } finally {
    await store.close();
  }
}

/**
 * A fresh random key in master.key.next, 0600, synced with its directory before the store is
 * touched, so the key exists on disk before any seed is wrapped under it. A leftover from a
 * rotation that never committed (the current key opened the store above) is replaced.
 */
async function writeNextKey(dataDir: string, path: string): Promise<Uint8Array> {
  await rm(path, { force: true });
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const text = `${Buffer.from(bytes).toString('base64')}\n`;
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDirectory(dataDir);
  return bytes;
}
