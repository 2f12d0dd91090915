/**
 * Key lifecycle rules as pure functions (docs/api.md, "Key lifecycle"). They run inside a store's
 * atomic update, so they are synchronous and decide everything from the KeyringView they are
 * given (src/stores/keystore.ts): the active key, the highest version ever stored, and the key a
 * retire or archive names. The next version is max+1 (archived keys are kept), so versions are
 * never reused; a keyring holds at most `maxVersions` of them.
 *
 *   active  --retire-->  retired  --archive-->  archived (terminal)
 *   active  --archive--------------------------> archived
 *   rotate: the new version becomes active and the previous active is retired, in one write.
 * @module
 */
import { MAX_KEY_VERSION, type Algorithm } from '../contract/algorithms.js';
import { ForbiddenError, KeyVersionNotFoundError, ServiceUnavailableError } from '../errors.js';
import type { KeyringChange, KeyringView, StoredKey } from '../stores/keystore.js';

/** A generated key pair waiting for its version number. */
export type NewKey = Omit<StoredKey, 'key_version' | 'status'>;

/** The default cap on versions per (tenant, algorithm); EngineOptions.maxKeyVersions changes it. */
export const DEFAULT_MAX_KEY_VERSIONS = 10_000;

export function requireKey(key: StoredKey | undefined): StoredKey {
  if (!key) throw new KeyVersionNotFoundError('Key version not found');
  return key;
}

function nextVersion(ring: KeyringView, algorithm: Algorithm, maxVersions: number): number {
  if (ring.maxVersion >= maxVersions) {
    throw new ForbiddenError(
      `Key version limit reached: ${algorithm} keyrings hold at most ${maxVersions} versions, and this one has ${ring.maxVersion}`,
    );
  }
  const version = ring.maxVersion + 1;
  if (version > MAX_KEY_VERSION) throw new ServiceUnavailableError('Key version space exhausted');
  return version;
}

export function generate(algorithm: Algorithm, fresh: NewKey, maxVersions: number) {
  return (ring: KeyringView): KeyringChange<StoredKey> => {
    if (ring.active) {
      throw new ForbiddenError(`An active ${algorithm} key already exists (version ${ring.active.key_version}); use rotate to replace it`);
    }
    const created: StoredKey = { ...fresh, key_version: nextVersion(ring, algorithm, maxVersions), status: 'active' };
    return { put: [created], result: created };
  };
}

/** The new active key, and the version it retired (`undefined` when none was active). */
export function rotate(algorithm: Algorithm, fresh: NewKey, maxVersions: number) {
  return (ring: KeyringView): KeyringChange<{ created: StoredKey; retiredVersion: number | undefined }> => {
    const created: StoredKey = { ...fresh, key_version: nextVersion(ring, algorithm, maxVersions), status: 'active' };
    const retired: StoredKey[] = ring.active ? [{ ...ring.active, status: 'retired' }] : [];
    return { put: [...retired, created], result: { created, retiredVersion: ring.active?.key_version } };
  };
}

/** Runs with `update(..., target = version)`: the view's `target` is the key to retire. */
export function retire(version: number) {
  return (ring: KeyringView): KeyringChange<StoredKey> => {
    const key = requireKey(ring.target?.key_version === version ? ring.target : undefined);
    if (key.status === 'archived') {
      throw new ForbiddenError(`Key version ${version} is archived: an archived key cannot be retired`);
    }
    if (key.status === 'retired') return { result: key };
    return withStatus(key, 'retired');
  };
}

/** Runs with `update(..., target = version)`: the view's `target` is the key to archive. */
export function archive(version: number) {
  return (ring: KeyringView): KeyringChange<StoredKey> => {
    const key = requireKey(ring.target?.key_version === version ? ring.target : undefined);
    if (key.status === 'archived') return { result: key };
    return withStatus(key, 'archived');
  };
}

function withStatus(key: StoredKey, status: StoredKey['status']): KeyringChange<StoredKey> {
  const changed: StoredKey = { ...key, status };
  return { put: [changed], result: changed };
}

/** What each use needs, and the message that says what a key in another state still allows. */
export function assertUsable(key: StoredKey, use: 'encrypt' | 'decrypt' | 'sign' | 'verify'): void {
  if (key.status === 'active') return;
  if (key.status === 'archived') {
    throw new ForbiddenError(`Key version ${key.key_version} is archived: it can no longer be used for any operation`);
  }
  if (use === 'encrypt') {
    throw new ForbiddenError(`Key version ${key.key_version} is retired: it can still decrypt but can no longer encrypt`);
  }
  if (use === 'sign') {
    throw new ForbiddenError(`Key version ${key.key_version} is retired: it can still verify but can no longer sign`);
  }
}
