/**
 * Importing a key backup (src/crypto/backup.ts) into key rings: the rules of docs/backup.md,
 * "Import rules", as two phases per key ring, because seeds are wrapped and unwrapped
 * asynchronously while a store's `update` callback must be synchronous (src/stores/keystore.ts).
 *
 *   prepareImport  async, outside the transaction: checks each backup seed against its public
 *                  key, reads the key ring's highest version (a no-op `update`), looks up each
 *                  backup version at or below it (`get`: one row each) and compares it by public
 *                  key and unwrapped seed (a different key under the same version, or a version
 *                  missing below the highest one, refuses the whole import, naming the versions),
 *                  and wraps the seeds of the versions above it, which are the ones to add.
 *   applyImport    sync, inside `store.update`: if the key ring's highest version is still the
 *                  one prepared against, nothing was added since (versions are never removed), so
 *                  the comparison holds and it writes. Into an empty key ring it restores
 *                  exactly, statuses included; into a non-empty one it only adds versions, as
 *                  `retired` (`archived` stays archived), so the active key never changes.
 *                  Otherwise it writes nothing and answers `stale`, and the caller prepares again.
 *   importBackupKeys  both phases for every algorithm in a backup: all key rings are prepared (so
 *                  every conflict is found) before any is written.
 * Reading keys for a backup is ./key-export.ts.
 * @module
 */
import { equalBytes } from '@noble/post-quantum/utils.js';
import { ALGORITHMS, type Algorithm, factsOf, type KeyStatus } from '../contract/algorithms.js';
import type { BackupKey } from '../crypto/backup.js';
import type { PrimitiveProvider } from '../crypto/primitives.js';
import { encodeSpki } from '../crypto/spki.js';
import { keygenFor } from '../crypto/algorithm-primitives.js';
import { bytesToBase64 } from '../encoding.js';
import { ForbiddenError, ServiceUnavailableError, ValidationError } from '../errors.js';
import type { KeyringChange, KeyringView, KeyStore, StoredKey } from '../stores/keystore.js';
import { seedBinding, type SeedWrapper, unwrapStoredSeed } from './seed-wrapper.js';

/** One key version in an import report. */
export interface ImportedKeyInfo {
  algorithm: Algorithm;
  key_version: number;
  status: KeyStatus;
}

export interface ImportOutcome {
  /** Versions added, with the status they were stored with. */
  imported: ImportedKeyInfo[];
  /** Versions already present with the same public key and seed, with their (unchanged) status. */
  skipped: ImportedKeyInfo[];
}

/** How the import reaches private seeds; `seedAccess` builds it from the engine's SeedWrapper. */
export interface SeedAccess {
  /** Wraps a backup seed for storage under (algorithm, public_key). */
  wrap(algorithm: Algorithm, publicKey: string, seed: Uint8Array): Promise<Uint8Array>;
  /** Unwraps a stored key's seed into a fresh buffer, which the import wipes after comparing. */
  unwrap(algorithm: Algorithm, key: StoredKey): Promise<Uint8Array>;
  /** The base64 DER SPKI that `seed` generates; `publicKeyFromSeed` builds it from a provider. */
  publicKeyOf(algorithm: Algorithm, seed: Uint8Array): Promise<string>;
}

/** SeedAccess for one tenant: the engine's SeedWrapper with the bindings KeyMaterial uses. */
export function seedAccess(wrapper: SeedWrapper, tenant: string, provider: PrimitiveProvider): SeedAccess {
  return {
    wrap: (algorithm, publicKey, seed) => wrapper.wrap(seed, seedBinding(tenant, algorithm, publicKey)),
    unwrap: (algorithm, key) => unwrapStoredSeed(wrapper, tenant, algorithm, key),
    publicKeyOf: publicKeyFromSeed(provider),
  };
}

/**
 * The base64 SPKI a seed generates, as KeyMaterial.create computes it: the row's primitive
 * (src/crypto/algorithm-primitives.ts), so the hybrids' seeds are checked the same way.
 */
export function publicKeyFromSeed(provider: PrimitiveProvider): (algorithm: Algorithm, seed: Uint8Array) => Promise<string> {
  return async (algorithm, seed) => {
    const facts = factsOf(algorithm);
    const pair = await keygenFor(provider, facts, seed);
    pair.secretKey.fill(0);
    return bytesToBase64(encodeSpki(facts.standard, pair.publicKey));
  };
}

/** What prepareImport decided, for applyImport. Holds wrapped seeds only. */
export interface PreparedImport {
  readonly algorithm: Algorithm;
  /** The key ring's highest version when prepared (0: empty). */
  readonly maxVersion: number;
  /** Versions above `maxVersion`, seeds wrapped, with the status the backup gives them. */
  readonly add: readonly StoredKey[];
  /** Versions found identical when prepared, with their status then. */
  readonly skipped: readonly ImportedKeyInfo[];
}

export type AppliedImport = ({ stale: false } & ImportOutcome) | { stale: true };

/**
 * Phase one for one key ring: `keys` are the backup's keys of `algorithm`. Throws
 * ValidationError when a backup seed does not generate its public key, ForbiddenError when a
 * version exists with another key or is missing below the key ring's highest version (naming
 * every such version: a store only appends versions above its highest).
 */
export async function prepareImport(
  store: KeyStore,
  tenant: string,
  algorithm: Algorithm,
  keys: readonly BackupKey[],
  seeds: SeedAccess,
): Promise<PreparedImport> {
  for (const key of keys) {
    if (key.algorithm !== algorithm) throw new TypeError(`"keys" must all be ${algorithm} keys`);
    if ((await seeds.publicKeyOf(algorithm, key.seed)) !== key.public_key) {
      throw new ValidationError(`Backup key ${algorithm} version ${key.key_version} does not match its public key; nothing was imported`);
    }
  }
  const maxVersion = await store.update(tenant, algorithm, (ring) => ({ result: ring.maxVersion }));
  const conflicts: number[] = [];
  const missing: number[] = [];
  const skipped: ImportedKeyInfo[] = [];
  const add: StoredKey[] = [];
  for (const key of keys) {
    if (key.key_version > maxVersion) {
      const wrapped_seed = await seeds.wrap(algorithm, key.public_key, key.seed);
      add.push({ key_version: key.key_version, status: key.status, public_key: key.public_key, created_at: key.created_at, wrapped_seed });
      continue;
    }
    const present = await store.get(tenant, algorithm, key.key_version);
    if (present === undefined) missing.push(key.key_version);
    else if (present.public_key === key.public_key && (await sameSeed(seeds, algorithm, present, key.seed))) {
      skipped.push({ algorithm, key_version: key.key_version, status: present.status });
    } else conflicts.push(key.key_version);
  }
  if (conflicts.length > 0) {
    throw new ForbiddenError(
      `Import refused: ${algorithm} ${versionList(conflicts)} already ${conflicts.length > 1 ? 'exist' : 'exists'} with a different key; nothing was imported`,
    );
  }
  if (missing.length > 0) {
    throw new ForbiddenError(
      `Import refused: ${algorithm} ${versionList(missing)} ${missing.length > 1 ? 'are' : 'is'} missing below the key ring's ` +
        `highest version ${maxVersion}, and versions are only added above it; nothing was imported`,
    );
  }
  return { algorithm, maxVersion, add, skipped: skipped.sort(byKeyVersion) };
}

function versionList(versions: number[]): string {
  return `version${versions.length > 1 ? 's' : ''} ${versions.sort((a, b) => a - b).join(', ')}`;
}

const byKeyVersion = (a: { key_version: number }, b: { key_version: number }) => a.key_version - b.key_version;

async function sameSeed(seeds: SeedAccess, algorithm: Algorithm, stored: StoredKey, seed: Uint8Array): Promise<boolean> {
  const unwrapped = await seeds.unwrap(algorithm, stored);
  try {
    return equalBytes(unwrapped, seed);
  } finally {
    unwrapped.fill(0);
  }
}

/** Phase two: the synchronous change for `store.update(tenant, prepared.algorithm, …)`. */
export function applyImport(prepared: PreparedImport) {
  return (ring: KeyringView): KeyringChange<AppliedImport> => {
    if (ring.maxVersion !== prepared.maxVersion) return { result: { stale: true } };
    const { algorithm } = prepared;
    const restore = ring.maxVersion === 0;
    const added = prepared.add.map(
      (k): StoredKey => ({ ...k, wrapped_seed: k.wrapped_seed.slice(), status: restore || k.status === 'archived' ? k.status : 'retired' }),
    );
    const imported = added.map((k) => ({ algorithm, key_version: k.key_version, status: k.status })).sort(byKeyVersion);
    const result: AppliedImport = { stale: false, imported, skipped: [...prepared.skipped] };
    return added.length === 0 ? { result } : { put: added, result };
  };
}

/** How many times a key ring that keeps changing under an import is prepared again. */
export const IMPORT_ATTEMPTS = 3;

/**
 * Imports every key of a decoded backup into `tenant`'s key rings. All key rings are prepared
 * before any is written, so a conflict or a mismatched seed anywhere imports nothing. Each key
 * ring is then written atomically; only a concurrent change that makes a prepared key ring
 * conflict after all (another writer minting a backup's version number in between) can leave an
 * earlier algorithm imported, and importing the same backup again is then harmless (identical
 * versions are skipped). The backup's seeds stay the caller's to wipe.
 */
export async function importBackupKeys(
  store: KeyStore,
  tenant: string,
  keys: readonly BackupKey[],
  seeds: SeedAccess,
): Promise<ImportOutcome> {
  const groups = ALGORITHMS.map((algorithm) => ({ algorithm, keys: keys.filter((k) => k.algorithm === algorithm) })).filter(
    (g) => g.keys.length > 0,
  );
  if (groups.reduce((n, g) => n + g.keys.length, 0) !== keys.length) throw new TypeError('"keys" holds an unknown algorithm');
  const prepared: PreparedImport[] = [];
  for (const group of groups) prepared.push(await prepareImport(store, tenant, group.algorithm, group.keys, seeds));
  const outcome: ImportOutcome = { imported: [], skipped: [] };
  for (const [i, group] of groups.entries()) {
    let plan = prepared[i]!;
    for (let attempt = 1; ; attempt++) {
      const applied = await store.update(tenant, group.algorithm, applyImport(plan));
      if (!applied.stale) {
        outcome.imported.push(...applied.imported);
        outcome.skipped.push(...applied.skipped);
        break;
      }
      if (attempt === IMPORT_ATTEMPTS) {
        throw new ServiceUnavailableError(`The ${group.algorithm} key ring kept changing during the import; try again`);
      }
      plan = await prepareImport(store, tenant, group.algorithm, group.keys, seeds);
    }
  }
  return outcome;
}
