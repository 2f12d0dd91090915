/**
 * An IndexedDB KeyStore (browser, Worker): one database per app (`dbName`, default `"qpher"`),
 * schema version 2, with two object stores:
 *
 *   keys      one row per key version, keyPath [tenant, algorithm, key_version]:
 *             { tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed }
 *             index `status` on [tenant, algorithm, status, key_version]
 *   keyrings  'wrapping-key'                  ->  CryptoKey (AES-256-GCM, non-extractable)
 *             ['keyring', tenant, algorithm]  ->  { format: 2 }  (the keys moved to `keys`)
 *
 * Every operation reads a bounded number of rows, whatever the keyring holds (the contract of
 * src/stores/keystore.ts): a version is a primary-key `get`, the active key an index `get`, the
 * highest version a key cursor opened backwards, a `kms.list` page a bounded `getAll` and a
 * `count` of one key range.
 *
 * Each keyring change is one `readwrite` transaction over both stores that reads the view (active
 * key, highest version, targeted version), runs the engine's synchronous `change` and puts the
 * keys it returns. IndexedDB serialises overlapping `readwrite` transactions, across tabs and
 * Workers of the origin, so two tabs rotating at once never mint one version twice or lose one.
 *
 * Upgrade from schema version 1 (one row per keyring, `['keyring', tenant, algorithm] ->
 * { format: 1, keys: StoredKey[] }`, as earlier releases wrote it): the `versionchange`
 * transaction that creates `keys` copies every key of every keyring into it and leaves
 * `{ format: 2 }` in the old row, all or nothing. The wrapping key stays where it is, so every
 * wrapped seed still unwraps. A tab still running an earlier release then reads `{ format: 2 }`
 * as a keyring in an unknown format and refuses (ERR_SERVICE_001) instead of starting a second
 * keyring; each change made here rewrites that marker so keyrings created later are covered too.
 * This store closes its connection when another tab asks for a newer schema, so upgrades are
 * never blocked by it; a tab of an earlier release does block one, which is reported as
 * ERR_SERVICE_001 until that tab is closed or reloaded.
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
import type { Algorithm, KeyStatus } from '../contract/algorithms.js';
import { ServiceUnavailableError } from '../errors.js';
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

export const DEFAULT_DB_NAME = 'qpher';
export const SCHEMA_VERSION = 2;
export const OBJECT_STORE_NAME = 'keyrings';
export const KEYS_STORE_NAME = 'keys';
const STATUS_INDEX = 'status';
const WRAPPING_KEY_ID = 'wrapping-key';
const LEGACY_ROW_FORMAT = 1;
const MOVED_ROW_FORMAT = 2;

/** A row of `keys`: the StoredKey and the keyring it belongs to. */
interface KeyRow extends StoredKey {
  tenant: string;
  algorithm: Algorithm;
}

type Action = 'read' | 'update' | 'open';

export class IndexedDbKeyStore implements KeyStore {
  readonly dbName: string;
  #db: Promise<IDBDatabase> | undefined;
  #closed = false;

  constructor(dbName: string = DEFAULT_DB_NAME) {
    if (typeof dbName !== 'string' || dbName === '') throw new TypeError('"dbName" must be a non-empty string');
    this.dbName = dbName;
  }

  async get(tenant: string, algorithm: Algorithm, version: number): Promise<StoredKey | undefined> {
    return this.#transaction('readonly', [KEYS_STORE_NAME], 'read', async (tx) => {
      return toStoredKey(await request(tx.objectStore(KEYS_STORE_NAME).get([tenant, algorithm, version])));
    });
  }

  async active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
    return this.#transaction('readonly', [KEYS_STORE_NAME], 'read', (tx) => readActive(tx, tenant, algorithm));
  }

  async list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage> {
    return this.#transaction('readonly', [KEYS_STORE_NAME], 'read', async (tx) => {
      const keys = tx.objectStore(KEYS_STORE_NAME);
      const source = query.status === undefined ? keys : keys.index(STATUS_INDEX);
      const prefix: IDBValidKey[] = query.status === undefined ? [tenant, algorithm] : [tenant, algorithm, query.status];
      const all = IDBKeyRange.bound([...prefix, 0], [...prefix, Number.POSITIVE_INFINITY]);
      const after = IDBKeyRange.bound([...prefix, query.after], [...prefix, Number.POSITIVE_INFINITY], true);
      // getAll's count 0 means "no limit": a count-only query must not ask for rows at all.
      const [rows, total] = await Promise.all([
        query.limit === 0 ? [] : request<unknown[]>(source.getAll(after, query.limit)),
        request(source.count(all)),
      ]);
      return { keys: rows.map((row) => toStoredKey(row)!), total };
    });
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T> {
    let refused: { error: unknown } | undefined;
    try {
      return await this.#transaction('readwrite', [KEYS_STORE_NAME, OBJECT_STORE_NAME], 'update', async (tx) => {
        const keys = tx.objectStore(KEYS_STORE_NAME);
        const [active, maxVersion, targeted] = await Promise.all([
          readActive(tx, tenant, algorithm),
          readMaxVersion(keys, tenant, algorithm),
          target === undefined ? undefined : request(keys.get([tenant, algorithm, target])).then(toStoredKey),
        ]);
        let outcome: KeyringChange<T>;
        try {
          outcome = change({ active, maxVersion, target: targeted });
        } catch (error) {
          refused = { error }; // nothing was put: the transaction is aborted without a write
          throw error;
        }
        if (!outcome.put?.length) return outcome.result;
        // Issued synchronously after the reads, while the transaction is still active.
        for (const key of overwritesFirst(outcome.put, maxVersion)) keys.put({ tenant, algorithm, ...copyStoredKey(key) } satisfies KeyRow);
        tx.objectStore(OBJECT_STORE_NAME).put({ format: MOVED_ROW_FORMAT }, keyringId(tenant, algorithm));
        return outcome.result;
      });
    } catch (error) {
      if (refused && error === refused.error) throw error;
      throw storageError(error, 'update');
    }
  }

  /**
   * The AES-256-GCM key that wraps seeds in this database, created on first use. Get-or-create
   * is one `readwrite` transaction, so two tabs starting at once end up with the same key: the
   * loser of the race throws its freshly generated key away and uses the stored one.
   */
  async wrappingKey(): Promise<CryptoKey> {
    const existing = await this.#transaction('readonly', [OBJECT_STORE_NAME], 'open', (tx) =>
      request<unknown>(tx.objectStore(OBJECT_STORE_NAME).get(WRAPPING_KEY_ID)),
    );
    if (existing !== undefined) return asWrappingKey(existing);
    // Generated outside the transaction: awaiting WebCrypto inside it would let it commit.
    const fresh = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const chosen = await this.#transaction('readwrite', [OBJECT_STORE_NAME], 'open', async (tx) => {
      const store = tx.objectStore(OBJECT_STORE_NAME);
      const stored = await request<unknown>(store.get(WRAPPING_KEY_ID));
      if (stored !== undefined) return stored;
      store.put(fresh, WRAPPING_KEY_ID);
      return fresh;
    });
    return asWrappingKey(chosen);
  }

  /** Closes the connection; later calls fail with ERR_SERVICE_001. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      (await this.#db)?.close();
    } catch {
      // Never opened, or already gone: nothing to close.
    }
  }

  /**
   * Runs `body` in one transaction and answers its result once the transaction has committed.
   * Storage failures become ERR_SERVICE_001; `body` must issue every request without awaiting
   * anything but those requests, or the transaction commits under it.
   */
  async #transaction<T>(mode: IDBTransactionMode, stores: string[], action: Action, body: (tx: IDBTransaction) => Promise<T>): Promise<T> {
    if (this.#closed) throw new ServiceUnavailableError('Browser key storage (IndexedDB) is closed');
    let db: IDBDatabase;
    try {
      db = await this.#open();
    } catch (error) {
      throw storageError(error, 'open');
    }
    let outcome: { value: T } | undefined;
    let failed: { error: unknown } | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(stores, mode);
        tx.oncomplete = () => resolve();
        tx.onabort = () => reject(failed?.error ?? tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
        body(tx).then(
          (value) => {
            outcome = { value };
          },
          (error: unknown) => {
            failed ??= { error };
            try {
              tx.abort();
            } catch {
              reject(error); // already finished: abort() throws and onabort will not fire
            }
          },
        );
      });
    } catch (error) {
      if (failed && error === failed.error && action === 'update') throw error; // update() sorts change's refusals from failures
      throw storageError(error, action);
    }
    if (!outcome) throw new ServiceUnavailableError(`Browser key storage (IndexedDB) did not complete the ${action}`);
    return outcome.value;
  }

  /** The connection, opened (and upgraded) on first use and again after the browser closed it. */
  #open(): Promise<IDBDatabase> {
    this.#db ??= openDatabase(this.dbName).then(
      (db) => {
        const forget = () => {
          this.#db = undefined;
        };
        db.onclose = forget;
        // Another tab wants a newer schema: step aside so its upgrade can run.
        db.onversionchange = () => {
          db.close();
          forget();
        };
        if (this.#closed) db.close();
        return db;
      },
      (error: unknown) => {
        this.#db = undefined;
        throw error;
      },
    );
    return this.#db;
  }
}

function openDatabase(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, SCHEMA_VERSION);
    let settled = false;
    let refusal: Error | undefined;
    open.onupgradeneeded = (event) => {
      try {
        upgrade(open.result, open.transaction!, event.oldVersion, (error) => {
          refusal = error;
        });
      } catch (error) {
        settled = true;
        open.transaction!.abort();
        reject(error);
      }
    };
    open.onsuccess = () => {
      if (settled)
        open.result.close(); // given up on while blocked: the upgrade has run, nobody waits
      else resolve(open.result);
      settled = true;
    };
    open.onerror = () => {
      if (!settled) reject(refusal ?? open.error);
      settled = true;
    };
    open.onblocked = () => {
      if (!settled) {
        reject(
          new ServiceUnavailableError(
            'Browser key storage (IndexedDB) is waiting to upgrade: close or reload other tabs of this app that run an older version',
          ),
        );
      }
      settled = true;
    };
  });
}

/** Schema 0 -> 2 creates both stores; 1 -> 2 moves each keyring row's keys into `keys`. */
function upgrade(db: IDBDatabase, tx: IDBTransaction, oldVersion: number, refuse: (error: Error) => void): void {
  if (oldVersion < 1) db.createObjectStore(OBJECT_STORE_NAME);
  if (oldVersion < 2) {
    const keys = db.createObjectStore(KEYS_STORE_NAME, { keyPath: ['tenant', 'algorithm', 'key_version'] });
    keys.createIndex(STATUS_INDEX, ['tenant', 'algorithm', 'status', 'key_version']);
    const rows = tx.objectStore(OBJECT_STORE_NAME).openCursor();
    rows.onsuccess = () => {
      const cursor = rows.result;
      if (!cursor) return;
      const id = cursor.key;
      if (Array.isArray(id) && id[0] === 'keyring') {
        const [, tenant, algorithm] = id as [string, string, Algorithm];
        const row = cursor.value as { format?: unknown; keys?: unknown } | null;
        if (row?.format === LEGACY_ROW_FORMAT && Array.isArray(row.keys)) {
          for (const key of row.keys as StoredKey[]) keys.put({ tenant, algorithm, ...copyStoredKey(key) } satisfies KeyRow);
          cursor.update({ format: MOVED_ROW_FORMAT });
        } else if (row?.format !== MOVED_ROW_FORMAT) {
          // Keep every byte as it was: the whole upgrade is rolled back and nothing opens.
          refuse(new ServiceUnavailableError('Browser key storage holds a keyring in an unknown format'));
          tx.abort();
          return;
        }
      }
      cursor.continue();
    };
  }
}

async function readActive(tx: IDBTransaction, tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
  const index = tx.objectStore(KEYS_STORE_NAME).index(STATUS_INDEX);
  const active: KeyStatus = 'active';
  return toStoredKey(
    await request(index.get(IDBKeyRange.bound([tenant, algorithm, active, 0], [tenant, algorithm, active, Number.POSITIVE_INFINITY]))),
  );
}

async function readMaxVersion(keys: IDBObjectStore, tenant: string, algorithm: Algorithm): Promise<number> {
  const range = IDBKeyRange.bound([tenant, algorithm, 0], [tenant, algorithm, Number.POSITIVE_INFINITY]);
  const cursor = await request(keys.openKeyCursor(range, 'prev'));
  return cursor ? ((cursor.primaryKey as [string, string, number])[2] ?? 0) : 0;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function keyringId(tenant: string, algorithm: Algorithm): IDBValidKey {
  return ['keyring', tenant, algorithm];
}

function toStoredKey(row: unknown): StoredKey | undefined {
  if (row === undefined) return undefined;
  const key = row as Partial<StoredKey> | null;
  if (typeof key?.key_version !== 'number' || !(key.wrapped_seed instanceof Uint8Array)) {
    throw new ServiceUnavailableError('Browser key storage holds a key in an unknown format');
  }
  return copyStoredKey(key as StoredKey);
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
function storageError(error: unknown, action: Action): unknown {
  if (error instanceof ServiceUnavailableError) return error;
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : 'Error';
  const what = action === 'update' ? 'the keyring was not changed' : `could not ${action} the key store`;
  if (name === 'QuotaExceededError') {
    return new ServiceUnavailableError(`Browser storage quota exceeded: ${what}`);
  }
  return new ServiceUnavailableError(`Browser key storage (IndexedDB) failed (${name}): ${what}`);
}
