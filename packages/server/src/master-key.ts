/**
 * The master key that wraps every private seed at rest (AES-256-GCM, in the versioned format of
 * master-key-wrapper.ts, which names the key by an id). It never goes into the database: it comes
 * from `QPHER_MASTER_KEY` (base64 of 32 bytes; removed from the environment once read) or from
 * `master.key` in the data directory, created with mode 0600 on first start. On a shared
 * PostgreSQL database every instance must use the same key, so there it is never created: it
 * comes from `QPHER_MASTER_KEY` or an existing `master.key` (e.g. a mounted secret).
 * It is imported as a non-extractable WebCrypto key (the seed-wrapping key is the master key
 * itself), the integrity keys are derived from it (integrity.ts), and the raw bytes are zeroed.
 *
 * The API-key digest key is the one exception to "derived from the current master key": API keys
 * are stored as HMAC digests and their plaintext is never kept, so a rotation could not recompute
 * them. The first rotation therefore stores the digest key in meta (`api_key_digest_key`),
 * wrapped under the new master key, and every later unlock and rotation uses that one.
 *
 * The database keeps a check value (a constant wrapped under the key) written on first start; a
 * different key fails to open it and the server refuses to start rather than serve garbage (so an
 * instance started with another key than its peers refuses to start). The error names both keys'
 * ids (master-key-wrapper.ts), never a key.
 *
 * `qpher master-key rotate` (master-key-rotate.ts) writes the new key to `master.key.next` before
 * its transaction commits and renames it over `master.key` after. A process killed in between
 * leaves a store that only the new key opens: `masterKeyWrapper` then finds `master.key.next`,
 * checks that it opens the store, and finishes the rename (a `master.key.next` that does not open
 * it is the leftover of a rotation that never committed, and is ignored).
 * @module
 */
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { base64ToBytes, bytesToBase64 } from 'qpher/host';
import { deriveApiKeyDigestKey, Integrity } from './integrity.js';
import { type MasterKeyWrapper, masterKeyWrapperOf, wrappedKeyId } from './master-key-wrapper.js';
import type { ServerStore } from './store.js';

export const MASTER_KEY_FILE = 'master.key';
/** Where `qpher master-key rotate` puts the new key until its transaction has committed. */
export const NEXT_MASTER_KEY_FILE = 'master.key.next';
export const MASTER_KEY_ENV = 'QPHER_MASTER_KEY';
export const CHECK_NAME = 'master_key_check';
export const CHECK_PLAINTEXT = new TextEncoder().encode('qpher master key check v1');
export const CHECK_BINDING = new TextEncoder().encode('qpher-master-key-check/v1');
/** The API-key digest key, kept across rotations (see the module comment). */
export const API_KEY_DIGEST_KEY_NAME = 'api_key_digest_key';
export const API_KEY_DIGEST_KEY_BINDING = new TextEncoder().encode('qpher-api-key-digest-key/v1');

/** A start-up problem the CLI prints as is and exits 1 on. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface MasterKeySource {
  bytes: Uint8Array;
  /** Where it came from, for the start-up log: never the key itself. */
  origin: string;
  /** The data directory, when the key is its `master.key` (not from the environment). */
  dataDir?: string;
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
      return { bytes, origin: `${path} (created)`, dataDir };
    } catch (error) {
      bytes.fill(0);
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temporary).catch(() => {});
    }
  }
  return { bytes: await readKeyFile(path), origin: path, dataDir };
}

/** A key file: owner-only, the base64 of 32 bytes. */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) {
    throw new StartupError(`${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  return decodeKey((await readFile(path, 'utf8')).trim(), path);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function decodeKey(text: string, origin: string): Uint8Array {
  const bytes = base64ToBytes(text);
  if (bytes?.length !== 32) {
    throw new StartupError(`${origin} must be the base64 of exactly 32 bytes (e.g. from: openssl rand -base64 32)`);
  }
  return bytes;
}

/**
 * Imports the key (non-extractable) as the seed wrapper, checks it against the store (finishing an
 * interrupted rotation, see the module comment), derives the integrity keys, wipes the raw bytes
 * and attaches the integrity keys to the store. `log` hears about a rotation this finished.
 */
export async function unlockMasterKey(
  source: MasterKeySource,
  store: ServerStore,
  onTamper: (row: string) => void = () => {},
  log: (line: string) => void = () => {},
): Promise<MasterKeyWrapper> {
  const { wrapper, digestKey } = await unlockForRotation(source, store, onTamper, log);
  digestKey.fill(0);
  return wrapper;
}

/** unlockMasterKey, also handing out the API-key digest key (for `qpher master-key rotate`, which wipes it). */
export async function unlockForRotation(
  source: MasterKeySource,
  store: ServerStore,
  onTamper: (row: string) => void,
  log: (line: string) => void,
): Promise<{ wrapper: MasterKeyWrapper; digestKey: Uint8Array }> {
  let opened = await openKey(source.bytes);
  const stored = await store.initMeta(CHECK_NAME, await opened.wrapper.wrap(CHECK_PLAINTEXT, CHECK_BINDING));
  if (!(await opensCheck(opened.wrapper, stored))) {
    opened.wipe();
    const finished = await finishRotation(source, stored);
    if (!finished) {
      const needed = wrappedKeyId(stored);
      throw new StartupError(
        `The master key from ${source.origin} (id ${opened.wrapper.idHex}) does not match the one ${store.location} was created with` +
          `${needed ? ` or last rotated to (id ${needed})` : ''}. Refusing to start: set ${MASTER_KEY_ENV} or restore ${MASTER_KEY_FILE} ` +
          'to that key (after `qpher master-key rotate`, the new one).',
      );
    }
    log(
      `finished an interrupted master-key rotation: ${join(source.dataDir!, NEXT_MASTER_KEY_FILE)} is now ${MASTER_KEY_FILE} (id ${finished.wrapper.idHex})`,
    );
    opened = finished;
  }
  const { integrity, digestKey } = await opened.integrity(store);
  store.attachIntegrity(integrity, onTamper);
  return { wrapper: opened.wrapper, digestKey };
}

interface OpenedKey {
  wrapper: MasterKeyWrapper;
  /** The integrity keys, with the store's kept API-key digest key if it has one; wipes the key bytes. */
  integrity(store: ServerStore): Promise<{ integrity: Integrity; digestKey: Uint8Array }>;
  wipe(): void;
}

/** The wrapper of 32 key bytes (which it zeroes), and the integrity keys on demand. */
export async function openKey(bytes: Uint8Array): Promise<OpenedKey> {
  const copy = bytes.slice();
  const wrapper = await masterKeyWrapperOf(bytes);
  return {
    wrapper,
    wipe: () => copy.fill(0),
    async integrity(store) {
      try {
        const kept = await store.getMeta(API_KEY_DIGEST_KEY_NAME);
        const digestKey = kept ? await wrapper.unwrap(kept, API_KEY_DIGEST_KEY_BINDING) : deriveApiKeyDigestKey(copy);
        return { integrity: Integrity.fromMasterKey(copy, digestKey), digestKey };
      } finally {
        copy.fill(0);
      }
    },
  };
}

async function opensCheck(wrapper: MasterKeyWrapper, check: Uint8Array): Promise<boolean> {
  try {
    (await wrapper.unwrap(check, CHECK_BINDING)).fill(0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A rotation that committed but was stopped before it renamed master.key.next over master.key:
 * if that file opens the store's check value, it becomes master.key (an atomic rename) and its
 * wrapper is returned. Anything else (no such file, or one that does not open the check): undefined.
 */
async function finishRotation(source: MasterKeySource, check: Uint8Array): Promise<OpenedKey | undefined> {
  if (source.dataDir === undefined) return undefined;
  const next = join(source.dataDir, NEXT_MASTER_KEY_FILE);
  if (!(await exists(next))) return undefined;
  const opened = await openKey(await readKeyFile(next));
  if (!(await opensCheck(opened.wrapper, check))) {
    opened.wipe();
    return undefined;
  }
  await rename(next, join(source.dataDir, MASTER_KEY_FILE));
  await syncDirectory(source.dataDir);
  return opened;
}

/**
 * Whether `source` is the master key that wrote `checkValue` (a store's master_key_check), for
 * tools that must not write to the store they check (`qpher restore`). Zeroes the key bytes.
 */
export async function masterKeyOpens(source: MasterKeySource, checkValue: Uint8Array): Promise<boolean> {
  return opensCheck(await masterKeyWrapperOf(source.bytes), checkValue);
}

/** The master key of an existing installation: never created here (unlike loadMasterKey). */
export async function existingMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<MasterKeySource> {
  const fromEnv = env[MASTER_KEY_ENV];
  if ((fromEnv === undefined || fromEnv === '') && !(await exists(join(dataDir, MASTER_KEY_FILE)))) {
    throw new StartupError(
      `No master key: put the one the store was made with in ${join(dataDir, MASTER_KEY_FILE)} (mode 0600) or set ${MASTER_KEY_ENV}`,
    );
  }
  return loadMasterKey(dataDir, env);
}
