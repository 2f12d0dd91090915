/**
 * Key lifecycle rules as pure functions over a keyring (docs/api.md, "Key lifecycle"). They run inside a
 * store's atomic update, so they are synchronous and decide everything from the keyring they are
 * given: the next version is max+1 of all versions ever stored (archived keys are kept), so
 * versions are never reused.
 *
 *   active  --retire-->  retired  --archive-->  archived (terminal)
 *   active  --archive--------------------------> archived
 *   rotate: the new version becomes active and the previous active is retired, in one write.
 * @module
 */
import { MAX_KEY_VERSION, type Algorithm } from '../contract/algorithms.js';
import { ForbiddenError, KeyVersionNotFoundError, ServiceUnavailableError } from '../errors.js';
import type { KeyringChange, StoredKey } from '../stores/keystore.js';

/** A generated key pair waiting for its version number. */
export type NewKey = Omit<StoredKey, 'key_version' | 'status'>;

export function activeKey(keys: readonly StoredKey[]): StoredKey | undefined {
  return keys.find((k) => k.status === 'active');
}

export function findKey(keys: readonly StoredKey[], version: number): StoredKey {
  const key = keys.find((k) => k.key_version === version);
  if (!key) throw new KeyVersionNotFoundError('Key version not found');
  return key;
}

function nextVersion(keys: readonly StoredKey[]): number {
  const version = keys.reduce((max, k) => Math.max(max, k.key_version), 0) + 1;
  if (version > MAX_KEY_VERSION) throw new ServiceUnavailableError('Key version space exhausted');
  return version;
}

export function generate(algorithm: Algorithm, fresh: NewKey) {
  return (keys: readonly StoredKey[]): KeyringChange<StoredKey> => {
    const current = activeKey(keys);
    if (current) {
      throw new ForbiddenError(`An active ${algorithm} key already exists (version ${current.key_version}); use rotate to replace it`);
    }
    const created: StoredKey = { ...fresh, key_version: nextVersion(keys), status: 'active' };
    return { keys: [...keys, created], result: created };
  };
}

/** The new active key, and the version it retired (`undefined` when none was active). */
export function rotate(fresh: NewKey) {
  return (keys: readonly StoredKey[]): KeyringChange<{ created: StoredKey; retiredVersion: number | undefined }> => {
    const created: StoredKey = { ...fresh, key_version: nextVersion(keys), status: 'active' };
    const retiredVersion = activeKey(keys)?.key_version;
    const retired = keys.map((k): StoredKey => (k.status === 'active' ? { ...k, status: 'retired' } : k));
    return { keys: [...retired, created], result: { created, retiredVersion } };
  };
}

export function retire(version: number) {
  return (keys: readonly StoredKey[]): KeyringChange<StoredKey> => {
    const key = findKey(keys, version);
    if (key.status === 'archived') {
      throw new ForbiddenError(`Key version ${version} is archived: an archived key cannot be retired`);
    }
    if (key.status === 'retired') return { result: key };
    return withStatus(keys, key, 'retired');
  };
}

export function archive(version: number) {
  return (keys: readonly StoredKey[]): KeyringChange<StoredKey> => {
    const key = findKey(keys, version);
    if (key.status === 'archived') return { result: key };
    return withStatus(keys, key, 'archived');
  };
}

function withStatus(keys: readonly StoredKey[], key: StoredKey, status: StoredKey['status']): KeyringChange<StoredKey> {
  const changed: StoredKey = { ...key, status };
  return { keys: keys.map((k) => (k.key_version === key.key_version ? changed : k)), result: changed };
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
