/**
 * An in-memory KeyStore: the default for the in-process local backend and for tests. Keys are
 * lost with the process. JavaScript runs `change` to completion without yielding, so each
 * update is atomic for free.
 * @module
 */
import type { Algorithm } from '../contract/algorithms.js';
import { copyStoredKey, type KeyringChange, type KeyStore, type StoredKey } from './keystore.js';

export class MemoryKeyStore implements KeyStore {
  /** Keys die with the process, so the engine's throwaway wrapping key is enough. */
  readonly ephemeral = true;
  #keyrings = new Map<string, StoredKey[]>();

  async read(tenant: string, algorithm: Algorithm): Promise<StoredKey[]> {
    return (this.#keyrings.get(keyringId(tenant, algorithm)) ?? []).map(copyStoredKey);
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (keys: readonly StoredKey[]) => KeyringChange<T>): Promise<T> {
    const id = keyringId(tenant, algorithm);
    const { keys, result } = change((this.#keyrings.get(id) ?? []).map(copyStoredKey));
    if (keys) this.#keyrings.set(id, keys.map(copyStoredKey));
    return result;
  }
}

function keyringId(tenant: string, algorithm: Algorithm): string {
  return JSON.stringify([tenant, algorithm]);
}
