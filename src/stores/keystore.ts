/**
 * The KeyStore interface the engine talks to. A store holds keyrings, one per
 * (tenant, algorithm), each a set of keys numbered by version, and knows nothing of
 * cryptography: seeds reach it already wrapped (AES-256-GCM) by the engine's SeedWrapper.
 *
 * Every method touches a bounded number of rows, whatever the size of the keyring: one version
 * (`get`), the active key (`active`), one page and a count (`list`), and for a change the active
 * key, the highest version and at most one targeted version (`update`). A tenant that has rotated
 * thousands of times costs no more per operation than one with a single key, so no store method
 * may read or copy a whole keyring.
 *
 * The one hard requirement is `update`: an atomic read-modify-write of one keyring, so two tabs,
 * two requests or two processes rotating at once never mint the same version twice or lose one.
 * `change` is synchronous because it runs inside the store's transaction (an IndexedDB
 * transaction commits as soon as it awaits anything else; better-sqlite3 transactions are
 * synchronous): anything slow, such as key generation, happens before `update` is called.
 *
 * What a store implements (src/stores/memory.ts is the reference; indexeddb.ts and the server's
 * sqlite.ts and postgres.ts follow it, held by packages/server/test/store-behaviour.ts):
 * - `get(tenant, algorithm, version)`: that version or `undefined` (a primary-key lookup);
 * - `active(tenant, algorithm)`: the one key whose status is `active`, or `undefined`;
 * - `list(tenant, algorithm, { status?, after, limit })`: keys with `key_version > after` (and
 *   that status), ascending, at most `limit` of them, plus `total`, the number of keys of the
 *   keyring with that status (all keys without one) regardless of `after` and `limit`;
 * - `update(tenant, algorithm, change, target?)`: in one transaction that excludes every other
 *   update of the same keyring, build the KeyringView (active key, highest version ever stored,
 *   the key at version `target` if asked), call `change(view)` once, and write each key of
 *   `put`: a version above `view.maxVersion` is inserted, any other overwrites the stored one.
 *   Overwrites go first, so "at most one active key" holds after every statement of a rotate.
 *   A throw from `change` aborts with nothing written and passes through untouched.
 * Every StoredKey handed out or kept is a copy (`copyStoredKey`).
 * @module
 */
import type { Algorithm, KeyStatus } from '../contract/algorithms.js';

export interface StoredKey {
  key_version: number;
  status: KeyStatus;
  /** base64 DER SubjectPublicKeyInfo, as the API returns it. */
  public_key: string;
  created_at: string;
  /** The private seed, encrypted by the engine's SeedWrapper; never the seed itself. */
  wrapped_seed: Uint8Array;
}

/** What a lifecycle rule sees of a keyring inside `update`: a few rows, never the whole ring. */
export interface KeyringView {
  /** The key whose status is `active`, if any. */
  active: StoredKey | undefined;
  /** The highest version ever stored in this keyring (archived keys are kept), 0 when empty. */
  maxVersion: number;
  /** The key at the version passed to `update` as `target`; `undefined` when absent or not asked. */
  target: StoredKey | undefined;
}

export interface KeyringChange<T> {
  /**
   * Keys to write, each whole: a version above `maxVersion` is a new key, any other replaces the
   * stored key of that version. Omit (or leave empty) to leave the keyring unchanged.
   */
  put?: StoredKey[];
  result: T;
}

export interface KeyPageQuery {
  /** Only keys with this status; all keys when omitted. */
  status?: KeyStatus;
  /** Only keys with a version above this one (0: from the start). */
  after: number;
  /** At most this many keys (0: only the count). */
  limit: number;
}

export interface KeyPage {
  /** Ascending by version. */
  keys: StoredKey[];
  /** How many keys of the keyring have `status` (all of them without one), whatever `after` and `limit` say. */
  total: number;
}

export interface KeyStore {
  /** The key of (tenant, algorithm) at `version`, or `undefined`. */
  get(tenant: string, algorithm: Algorithm, version: number): Promise<StoredKey | undefined>;
  /** The active key of (tenant, algorithm), or `undefined`. */
  active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined>;
  /** One page of the keyring in ascending version order, and the count of keys matching `status`. */
  list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage>;
  /**
   * Atomically reads the KeyringView (with the key at version `target`, when given), applies
   * `change`, and writes its `put`. A throw aborts.
   *
   * Idempotency commit handshake (server stores): a request with an `Idempotency-Key` runs inside
   * the store's `run(tenant, key, fn)` (packages/server/src/http/idempotent.ts). A store that
   * offers it must, in the same transaction as the keyring write made by `update` within `fn`,
   * mark that reservation committed. Then a process killed between this commit and the stored
   * response leaves the key "committed, no response", which a retry reports as unknown (503)
   * instead of running the change a second time; a reservation never marked committed (no
   * write, or a refused change) is safe to run again. Browser stores have no idempotency records
   * and ignore this.
   */
  update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T>;
  close?(): Promise<void> | void;
  /**
   * `true` for a store whose keys die with the process (MemoryKeyStore): only such a store may
   * run under the engine's default wrapping key, which dies with the process too.
   */
  readonly ephemeral?: boolean;
  /**
   * A store that keeps its own wrapping key next to the keys (IndexedDbKeyStore: a
   * non-extractable CryptoKey in the same database) offers it here; the engine wraps seeds under
   * it when no `wrapper` is given. Any other persistent store needs an explicit `wrapper`.
   */
  wrappingKey?(): Promise<CryptoKey>;
}

/**
 * A deep copy with exactly the StoredKey fields, so a store never hands out (or keeps) an object
 * its caller can still mutate, nor extra properties a row or a structured clone carried along.
 */
export function copyStoredKey(key: StoredKey): StoredKey {
  return {
    key_version: key.key_version,
    status: key.status,
    public_key: key.public_key,
    created_at: key.created_at,
    wrapped_seed: new Uint8Array(key.wrapped_seed),
  };
}

/** Overwrites (versions up to `maxVersion`) before inserts, the order `update` writes `put` in. */
export function overwritesFirst(put: readonly StoredKey[], maxVersion: number): StoredKey[] {
  return [...put].sort((a, b) => Number(b.key_version <= maxVersion) - Number(a.key_version <= maxVersion));
}
