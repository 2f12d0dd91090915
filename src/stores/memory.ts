/**
 * An in-memory KeyStore: the default for the in-process local backend and for tests. Keys are
 * lost with the process. JavaScript runs `change` to completion without yielding, so each
 * update is atomic for free.
 * @module
 */
import type { Algorithm } from '../contract/algorithms.js';
import type { KeyringChange, KeyStore, StoredKey } from './keystore.js';

export class MemoryKeyStore implements KeyStore {
  #keyrings = new Map<string, StoredKey[]>();

  async read(tenant: string, algorithm: Algorithm): Promise<StoredKey[]> {
    return (this.#keyrings.get(keyringId(tenant, algorithm)) ?? []).map(copyKey);
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (keys: readonly StoredKey[]) => KeyringChange<T>): Promise<T> {
    const id = keyringId(tenant, algorithm);
    const { keys, result } = change((this.#keyrings.get(id) ?? []).map(copyKey));
    if (keys) this.#keyrings.set(id, keys.map(copyKey));
    return result;
  }
}

function keyringId(tenant: string, algorithm: Algorithm): string {
  return JSON.stringify([tenant, algorithm]);
}

/** Copies, so that a caller mutating what it got cannot change the store behind its back. */
function copyKey(key: StoredKey): StoredKey {
  return { ...key, wrapped_seed: key.wrapped_seed.slice() };
}
