/**
 * An IndexedDB KeyStore (browser, Worker) on idb-keyval: one database per app (`dbName`, default
 * `"qpher"`) with one object store, `keyrings`, holding
 *
 *   ['keyring', tenant, algorithm]  ->  { format: 1, keys: StoredKey[] }   (one row per keyring)
 *   'wrapping-key'                  ->  CryptoKey (AES-256-GCM, non-extractable, structured clone)
 *
 * Each keyring change is one idb-keyval `update`, i.e. one `readwrite` transaction that reads the
 * row, runs the engine's synchronous `change` and writes the result. IndexedDB serialises
 * overlapping `readwrite` transactions on a store, across tabs and Workers of the origin, so two
 * tabs rotating at once never mint one version twice or lose one.
 *
 * Seeds reach this store already wrapped (AES-256-GCM by the engine's SeedWrapper). The wrapping
 * key lives in the same database as a CryptoKey object: the browser keeps its bytes out of reach
 * of JavaScript (`exportKey` fails), so reading the database yields wrapped seeds and a key
 * handle that only works inside this origin's pages and Workers.
 *
 * Caveats: a storage failure (quota exceeded, eviction, a closed or deleted database, private
 * modes without IndexedDB) is thrown as ServiceUnavailableError (ERR_SERVICE_001), and the
 * transaction that failed wrote nothing. Errors the `change` function throws (API outcomes such
 * as ForbiddenError) pass through untouched.
 * @module
 */
import { createStore, get, update, type UseStore } from 'idb-keyval';
import type { Algorithm } from '../contract/algorithms.js';
import { ServiceUnavailableError } from '../errors.js';
import { copyStoredKey, type KeyringChange, type KeyStore, type StoredKey } from './keystore.js';

export const DEFAULT_DB_NAME = 'qpher';
export const OBJECT_STORE_NAME = 'keyrings';
const WRAPPING_KEY_ID = 'wrapping-key';
const ROW_FORMAT = 1;

interface KeyringRow {
  format: typeof ROW_FORMAT;
  keys: StoredKey[];
}

export class IndexedDbKeyStore implements KeyStore {
  readonly dbName: string;
  readonly #store: UseStore;
  #closed = false;

  constructor(dbName: string = DEFAULT_DB_NAME) {
    if (typeof dbName !== 'string' || dbName === '') throw new TypeError('"dbName" must be a non-empty string');
    this.dbName = dbName;
    // Opens lazily on the first transaction and reopens if the browser closes the connection.
    this.#store = createStore(dbName, OBJECT_STORE_NAME);
  }

  async read(tenant: string, algorithm: Algorithm): Promise<StoredKey[]> {
    this.#assertOpen();
    try {
      return decodeRow(await get(keyringId(tenant, algorithm), this.#store));
    } catch (error) {
      throw storageError(error, 'read');
    }
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (keys: readonly StoredKey[]) => KeyringChange<T>): Promise<T> {
    this.#assertOpen();
    let outcome: { result: T } | undefined;
    let thrown: { error: unknown } | undefined;
    try {
      await update<KeyringRow | undefined>(
        keyringId(tenant, algorithm),
        (row) => {
          try {
            const { keys, result } = change(decodeRow(row));
            outcome = { result };
            // idb-keyval always writes; an unchanged keyring is written back as it was.
            return keys ? { format: ROW_FORMAT, keys: keys.map(copyStoredKey) } : row;
          } catch (error) {
            thrown = { error }; // nothing was put: the transaction commits without a write
            throw error;
          }
        },
        this.#store,
      );
    } catch (error) {
      if (thrown && error === thrown.error) throw error;
      // The transaction aborted (quota, eviction, closed database): none of its writes happened.
      throw storageError(error, 'update');
    }
    if (!outcome) throw new ServiceUnavailableError('Browser key storage (IndexedDB) did not complete the update');
    return outcome.result;
  }

  /**
   * The AES-256-GCM key that wraps seeds in this database, created on first use. Get-or-create
   * is one `readwrite` transaction, so two tabs starting at once end up with the same key: the
   * loser of the race throws its freshly generated key away and uses the stored one.
   */
  async wrappingKey(): Promise<CryptoKey> {
    this.#assertOpen();
    try {
      const existing = await get<unknown>(WRAPPING_KEY_ID, this.#store);
      if (existing !== undefined) return asWrappingKey(existing);
      // Generated outside the transaction: awaiting WebCrypto inside it would let it commit.
      const fresh = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      let chosen: unknown;
      await update<unknown>(WRAPPING_KEY_ID, (stored) => (chosen = stored ?? fresh), this.#store);
      return asWrappingKey(chosen);
    } catch (error) {
      if (error instanceof ServiceUnavailableError) throw error;
      throw storageError(error, 'open');
    }
  }

  /** Closes the connection; later calls fail with ERR_SERVICE_001. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#store('readonly', (store) => store.transaction.db.close());
    } catch {
      // Never opened, or already gone: nothing to close.
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ServiceUnavailableError('Browser key storage (IndexedDB) is closed');
  }
}

function keyringId(tenant: string, algorithm: Algorithm): IDBValidKey {
  return ['keyring', tenant, algorithm];
}

function decodeRow(row: unknown): StoredKey[] {
  if (row === undefined) return [];
  const keys = (row as Partial<KeyringRow> | null)?.keys;
  if ((row as Partial<KeyringRow>).format !== ROW_FORMAT || !Array.isArray(keys)) {
    throw new ServiceUnavailableError('Browser key storage holds a keyring in an unknown format');
  }
  return keys.map(copyStoredKey);
}

function asWrappingKey(value: unknown): CryptoKey {
  const key = value as Partial<CryptoKey> | null;
  if (typeof key !== 'object' || key === null || key.type !== 'secret' || (key.algorithm as { name?: string })?.name !== 'AES-GCM') {
    // Never overwrite it: every wrapped seed in the database depends on the original key.
    throw new ServiceUnavailableError('Browser key storage holds an unusable wrapping key');
  }
  return key as CryptoKey;
}

/** Maps an IndexedDB failure to ERR_SERVICE_001 with a message that says what happened, not how. */
function storageError(error: unknown, action: 'read' | 'update' | 'open'): unknown {
  if (error instanceof ServiceUnavailableError) return error;
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : 'Error';
  const what = action === 'update' ? 'the keyring was not changed' : `could not ${action} the key store`;
  if (name === 'QuotaExceededError') {
    return new ServiceUnavailableError(`Browser storage quota exceeded: ${what}`);
  }
  return new ServiceUnavailableError(`Browser key storage (IndexedDB) failed (${name}): ${what}`);
}
