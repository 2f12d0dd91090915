/**
 * The KeyStore interface the engine talks to. A store holds keyrings, one per
 * (tenant, algorithm), and knows nothing of cryptography: seeds reach it already wrapped
 * (AES-256-GCM) by the engine's SeedWrapper.
 *
 * The one hard requirement is `update`: an atomic read-modify-write of one keyring, so two tabs,
 * two requests or two processes rotating at once never mint the same version twice or lose one.
 * `change` is synchronous because it runs inside the store's transaction (an IndexedDB
 * transaction commits as soon as it awaits anything else; better-sqlite3 transactions are
 * synchronous): anything slow, such as key generation, happens before `update` is called.
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

export interface KeyringChange<T> {
  /** The whole new keyring, ascending by version; omit to leave the keyring unchanged. */
  keys?: StoredKey[];
  result: T;
}

export interface KeyStore {
  /** The keyring of (tenant, algorithm) in ascending version order; empty if it has no keys. */
  read(tenant: string, algorithm: Algorithm): Promise<StoredKey[]>;
  /**
   * Atomically reads the keyring, applies `change`, and writes what it returns. A throw aborts.
   *
   * Idempotency commit handshake (server stores): a request with an `Idempotency-Key` runs inside
   * the store's `run(tenant, key, fn)` (packages/server/src/http/idempotent.ts). A store that
   * offers it must, in the same transaction as the keyring write made by `update` within `fn`,
   * mark that reservation committed. Then a process killed between this commit and the stored
   * response leaves the key "committed, no response", which a retry reports as unknown (503)
   * instead of running the change a second time; a reservation never marked committed is safe to
   * run again. Browser stores have no idempotency records and ignore this.
   */
  update<T>(tenant: string, algorithm: Algorithm, change: (keys: readonly StoredKey[]) => KeyringChange<T>): Promise<T>;
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
