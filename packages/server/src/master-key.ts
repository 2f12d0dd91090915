/**
 * The master key that wraps every private seed at rest (AES-256-GCM, via the engine's
 * aesGcmSeedWrapper). It never goes into the database: it comes from `QPHER_MASTER_KEY` (base64
 * of 32 bytes; removed from the environment once read) or from `master.key` in the data
 * directory, created with mode 0600 on first start. On a shared PostgreSQL database every instance
 * must use the same key, so there it is never created: it comes from `QPHER_MASTER_KEY` or an
 * existing `master.key` (e.g. a mounted secret).
 * It is imported as a non-extractable WebCrypto key (the seed-wrapping key is the master key
 * itself), the integrity keys are derived from it (integrity.ts), and the raw bytes are zeroed.
 *
 * The database keeps a check value (a constant wrapped under the key) written on first start; a
 * different key fails to open it and the server refuses to start rather than serve garbage (so an
 * instance started with another key than its peers refuses to start).
 * @module
 */
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { base64ToBytes, bytesToBase64 } from 'qpher/host';
import { aesGcmSeedWrapper, type SeedWrapper } from 'qpher/host';
import { Integrity } from './integrity.js';
import type { ServerStore } from './store.js';

export const MASTER_KEY_FILE = 'master.key';
export const MASTER_KEY_ENV = 'QPHER_MASTER_KEY';
const CHECK_NAME = 'master_key_check';
const CHECK_PLAINTEXT = new TextEncoder().encode('qpher master key check v1');
const CHECK_BINDING = new TextEncoder().encode('qpher-master-key-check/v1');

/** A start-up problem the CLI prints as is and exits 1 on. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface MasterKeySource {
  bytes: Uint8Array;
  /** Where it came from, for the start-up log: never the key itself. */
  origin: string;
}

export async function loadMasterKey(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { create?: boolean } = {},
): Promise<MasterKeySource> {
  const fromEnv = env[MASTER_KEY_ENV];
  // Read once, then gone: worker threads and child processes inherit `process.env`, and nothing
  // else in this process needs the key as text.
  delete env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { bytes: decodeKey(fromEnv.trim(), `${MASTER_KEY_ENV}`), origin: `$${MASTER_KEY_ENV}` };
  }
  const path = join(dataDir, MASTER_KEY_FILE);
  // Written to a private temporary file, synced, then linked into place: link() fails if the key
  // exists, so two processes starting on a fresh directory agree on one key, and nobody ever
  // reads a half-written file.
  if (!(await exists(path))) {
    if (options.create === false) {
      throw new StartupError(
        `No master key: every instance on a shared database needs the same one. Set ${MASTER_KEY_ENV} (base64 of 32 bytes, e.g. from: openssl rand -base64 32) or put it in ${path}.`,
      );
    }
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(`${bytesToBase64(bytes)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temporary, path);
      await syncDirectory(dataDir);
      return { bytes, origin: `${path} (created)` };
    } catch (error) {
      bytes.fill(0);
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temporary).catch(() => {});
    }
  }
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) {
    throw new StartupError(`${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  return { bytes: decodeKey((await readFile(path, 'utf8')).trim(), path), origin: path };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function decodeKey(text: string, origin: string): Uint8Array {
  const bytes = base64ToBytes(text);
  if (bytes?.length !== 32) {
    throw new StartupError(`${origin} must be the base64 of exactly 32 bytes (e.g. from: openssl rand -base64 32)`);
  }
  return bytes;
}

/**
 * Imports the key (non-extractable) as the seed wrapper, derives the integrity keys, wipes the raw
 * bytes, checks the key against the store and attaches the integrity keys to it.
 */
export async function unlockMasterKey(
  source: MasterKeySource,
  store: ServerStore,
  onTamper: (row: string) => void = () => {},
): Promise<SeedWrapper> {
  let key: CryptoKey;
  let integrity: Integrity;
  try {
    key = await globalThis.crypto.subtle.importKey('raw', source.bytes as Uint8Array<ArrayBuffer>, { name: 'AES-GCM' }, false, [
      'encrypt',
      'decrypt',
    ]);
    integrity = Integrity.fromMasterKey(source.bytes);
  } finally {
    source.bytes.fill(0);
  }
  const wrapper = aesGcmSeedWrapper(key);
  const stored = await store.initMeta(CHECK_NAME, await wrapper.wrap(CHECK_PLAINTEXT, CHECK_BINDING));
  try {
    await wrapper.unwrap(stored, CHECK_BINDING);
  } catch {
    throw new StartupError(
      `The master key from ${source.origin} does not match the one ${store.location} was created with. ` +
        `Refusing to start: set ${MASTER_KEY_ENV} or restore ${MASTER_KEY_FILE} to the original key.`,
    );
  }
  store.attachIntegrity(integrity, onTamper);
  return wrapper;
}
