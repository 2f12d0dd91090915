/**
 * An in-memory KeyStore: the default for the in-process local backend and for tests, and the
 * reference for what src/stores/keystore.ts asks of a store. Keys are lost with the process.
 * JavaScript runs `change` to completion without yielding, so each update is atomic for free.
 *
 * Each keyring is a map from version to key plus the active version, the highest version and
 * the versions in ascending order (for paging), so no operation copies the keyring.
 * @module
 */
import type { Algorithm, KeyStatus } from '../contract/algorithms.js';
import {
  copyStoredKey,
  overwritesFirst,
  type KeyPage,
  type KeyPageQuery,
  type KeyringChange,
  type KeyringView,
  type KeyStore,
  type StoredKey,
} from './keystore.js';

interface Keyring {
  byVersion: Map<number, StoredKey>;
  /** Ascending. */
  versions: number[];
  active: number | undefined;
  counts: Record<KeyStatus, number>;
}

export class MemoryKeyStore implements KeyStore {
  /** Keys die with the process, so the engine's throwaway wrapping key is enough. */
  readonly ephemeral = true;
  #keyrings = new Map<string, Keyring>();

  async get(tenant: string, algorithm: Algorithm, version: number): Promise<StoredKey | undefined> {
    const key = this.#keyrings.get(keyringId(tenant, algorithm))?.byVersion.get(version);
    return key && copyStoredKey(key);
  }

  async active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
    const ring = this.#keyrings.get(keyringId(tenant, algorithm));
    const key = ring?.active === undefined ? undefined : ring.byVersion.get(ring.active);
    return key && copyStoredKey(key);
  }

  async list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage> {
    const ring = this.#keyrings.get(keyringId(tenant, algorithm));
    if (!ring) return { keys: [], total: 0 };
    const total = query.status === undefined ? ring.versions.length : ring.counts[query.status];
    const keys: StoredKey[] = [];
    for (let i = firstAbove(ring.versions, query.after); i < ring.versions.length && keys.length < query.limit; i++) {
      const key = ring.byVersion.get(ring.versions[i]!)!;
      if (query.status === undefined || key.status === query.status) keys.push(copyStoredKey(key));
    }
    return { keys, total };
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T> {
    const id = keyringId(tenant, algorithm);
    const ring = this.#keyrings.get(id);
    const maxVersion = ring?.versions.at(-1) ?? 0;
    const active = ring?.active === undefined ? undefined : ring.byVersion.get(ring.active);
    const targeted = target === undefined ? undefined : ring?.byVersion.get(target);
    const { put, result } = change({
      active: active && copyStoredKey(active),
      maxVersion,
      target: targeted && copyStoredKey(targeted),
    });
    if (!put?.length) return result;
    const next: Keyring = ring ?? { byVersion: new Map(), versions: [], active: undefined, counts: { active: 0, retired: 0, archived: 0 } };
    for (const key of overwritesFirst(put, maxVersion)) {
      const old = next.byVersion.get(key.key_version);
      if (old) next.counts[old.status]--;
      else next.versions.splice(firstAbove(next.versions, key.key_version), 0, key.key_version);
      if (old?.status === 'active') next.active = undefined;
      next.byVersion.set(key.key_version, copyStoredKey(key));
      next.counts[key.status]++;
      if (key.status === 'active') next.active = key.key_version;
    }
    this.#keyrings.set(id, next);
    return result;
  }
}

/** The index of the first version above `after` in an ascending list. */
function firstAbove(versions: readonly number[], after: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (versions[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function keyringId(tenant: string, algorithm: Algorithm): string {
  return JSON.stringify([tenant, algorithm]);
}
