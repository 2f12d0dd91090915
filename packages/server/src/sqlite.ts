/**
 * The server's embedded store (the ServerStore of store.ts for one machine): one SQLite database
 * (better-sqlite3) holding keyrings, API keys (SHA-256 hashes only), idempotency records and a
 * master-key check value. postgres.ts is its twin for many instances; keep the two parallel.
 *
 * Durability and concurrency: WAL with `synchronous=FULL` (a committed transaction survives
 * `kill -9` and power loss), a busy timeout (a second process waits for the write lock instead of
 * failing), and every keyring change is one `BEGIN IMMEDIATE` transaction that reads the few rows
 * the lifecycle rule needs (the active key, the highest version, a targeted version), applies the
 * engine's synchronous `change` and writes the keys it returns. Every key read is an index lookup
 * or an index range (the primary key, `one_active_key`, `keys_by_status`), so an operation costs
 * the same with one version or thousands. `PRIMARY KEY (tenant,
 * algorithm, key_version)` makes a duplicate version impossible even if that logic were wrong.
 * Seeds arrive already wrapped (AES-256-GCM) by the engine's SeedWrapper. A keyring change made
 * for a request holding an Idempotency-Key reservation (see `run`) marks that reservation as
 * committed in the same transaction.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import type { Algorithm } from 'qpher/host';
import type { Scope } from 'qpher/host';
import type { ApiKeyRecord } from './auth.js';
import { StoreBusyError } from './store-busy.js';
import { IDEMPOTENCY_TTL_MS, PENDING_TTL_MS, type Reservation, type StoredResponse } from './idempotency.js';
import type { ServerStore } from './store.js';
import {
  copyStoredKey,
  overwritesFirst,
  type KeyPage,
  type KeyPageQuery,
  type KeyringChange,
  type KeyringView,
  type StoredKey,
} from 'qpher/host';

const SCHEMA_VERSION = 2;
export const DEFAULT_BUSY_TIMEOUT_MS = 15_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS keys (
  tenant TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_version INTEGER NOT NULL CHECK (key_version BETWEEN 1 AND 4294967295),
  status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'archived')),
  public_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  wrapped_seed BLOB NOT NULL,
  PRIMARY KEY (tenant, algorithm, key_version)
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS one_active_key ON keys (tenant, algorithm) WHERE status = 'active';
-- kms.list with a status filter: one page and a count without scanning the rest of the keyring.
-- Created on open by an older database too; no schema version change, as no older qpher minds it.
CREATE INDEX IF NOT EXISTS keys_by_status ON keys (tenant, algorithm, status, key_version);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS idempotency (
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  response TEXT,
  updated_ms INTEGER NOT NULL,
  committed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, key)
) STRICT;
`;

interface ApiKeyRow {
  id: string;
  hash: Uint8Array;
  tenant: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

export interface SqliteStoreOptions {
  busyTimeoutMs?: number;
}

export class SqliteStore implements ServerStore {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly location: string;
  readonly #db: Database.Database;
  readonly #statements;
  #reservations = 0;
  /** The Idempotency-Key reservation of the request running in this async context, if any. */
  readonly #idempotencyContext = new AsyncLocalStorage<{ tenant: string; key: string }>();

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.location = path;
    const db = new Database(path);
    this.#db = db;
    try {
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > SCHEMA_VERSION) {
          throw new Error(`${path} has schema version ${version}; this qpher understands up to ${SCHEMA_VERSION}`);
        }
        if (version === 1) db.exec('ALTER TABLE idempotency ADD COLUMN committed INTEGER NOT NULL DEFAULT 0');
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    } catch (error) {
      db.close();
      throw error;
    }
    this.#statements = {
      key: db.prepare<[string, string, number], StoredKey>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND key_version = ?`,
      ),
      activeKey: db.prepare<[string, string], StoredKey>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND status = 'active'`,
      ),
      maxVersion: db.prepare<[string, string], { key_version: number }>(
        'SELECT key_version FROM keys WHERE tenant = ? AND algorithm = ? ORDER BY key_version DESC LIMIT 1',
      ),
      page: db.prepare<[string, string, number, number], StoredKey>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND key_version > ? ORDER BY key_version LIMIT ?`,
      ),
      pageByStatus: db.prepare<[string, string, string, number, number], StoredKey>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND status = ? AND key_version > ? ORDER BY key_version LIMIT ?`,
      ),
      count: db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM keys WHERE tenant = ? AND algorithm = ?'),
      countByStatus: db.prepare<[string, string, string], { n: number }>(
        'SELECT count(*) AS n FROM keys WHERE tenant = ? AND algorithm = ? AND status = ?',
      ),
      insertKey: db.prepare(
        'INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      updateKey: db.prepare(
        'UPDATE keys SET status = ?, public_key = ?, created_at = ?, wrapped_seed = ? WHERE tenant = ? AND algorithm = ? AND key_version = ?',
      ),
      getMeta: db.prepare<[string], { value: Uint8Array }>('SELECT value FROM meta WHERE name = ?'),
      insertMeta: db.prepare('INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)'),
      findApiKey: db.prepare<[Uint8Array], ApiKeyRow>('SELECT * FROM api_keys WHERE hash = ?'),
      listApiKeys: db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id'),
      insertApiKey: db.prepare('INSERT INTO api_keys (id, hash, tenant, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)'),
      revokeApiKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      getIdempotency: db.prepare<[string, string], { fingerprint: string; response: string | null; updated_ms: number; committed: number }>(
        'SELECT fingerprint, response, updated_ms, committed FROM idempotency WHERE tenant = ? AND key = ?',
      ),
      putIdempotency: db.prepare(
        'INSERT OR REPLACE INTO idempotency (tenant, key, fingerprint, response, updated_ms, committed) VALUES (?, ?, ?, NULL, ?, 0)',
      ),
      markCommitted: db.prepare('UPDATE idempotency SET committed = 1 WHERE tenant = ? AND key = ? AND response IS NULL'),
      completeIdempotency: db.prepare('UPDATE idempotency SET response = ?, updated_ms = ? WHERE tenant = ? AND key = ?'),
      releaseIdempotency: db.prepare('DELETE FROM idempotency WHERE tenant = ? AND key = ? AND response IS NULL AND committed = 0'),
      sweepIdempotency: db.prepare('DELETE FROM idempotency WHERE updated_ms < ?'),
      ping: db.prepare('SELECT 1'),
    };
  }

  // --- KeyStore -------------------------------------------------------------------------------

  async get(tenant: string, algorithm: Algorithm, version: number): Promise<StoredKey | undefined> {
    return whenNotBusy(() => copyKey(this.#statements.key.get(tenant, algorithm, version)));
  }

  async active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
    return whenNotBusy(() => copyKey(this.#statements.activeKey.get(tenant, algorithm)));
  }

  async list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage> {
    const s = this.#statements;
    // One read transaction, so the page and the count agree.
    const page = this.#db.transaction((): KeyPage => {
      if (query.status === undefined) {
        return {
          keys: query.limit === 0 ? [] : s.page.all(tenant, algorithm, query.after, query.limit).map(copyStoredKey),
          total: s.count.get(tenant, algorithm)!.n,
        };
      }
      return {
        keys: query.limit === 0 ? [] : s.pageByStatus.all(tenant, algorithm, query.status, query.after, query.limit).map(copyStoredKey),
        total: s.countByStatus.get(tenant, algorithm, query.status)!.n,
      };
    });
    return whenNotBusy(() => page.deferred());
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T> {
    const s = this.#statements;
    const transaction = this.#db.transaction((): T => {
      const maxVersion = s.maxVersion.get(tenant, algorithm)?.key_version ?? 0;
      const view: KeyringView = {
        active: copyKey(s.activeKey.get(tenant, algorithm)),
        maxVersion,
        target: target === undefined ? undefined : copyKey(s.key.get(tenant, algorithm, target)),
      };
      const { put, result } = change(view);
      if (!put?.length) return result;
      // Overwrites first, so that "one active key" holds after every statement of a rotate.
      for (const key of overwritesFirst(put, maxVersion)) {
        if (key.key_version > maxVersion) {
          s.insertKey.run(tenant, algorithm, key.key_version, key.status, key.public_key, key.created_at, key.wrapped_seed);
        } else if (
          s.updateKey.run(key.status, key.public_key, key.created_at, key.wrapped_seed, tenant, algorithm, key.key_version).changes !== 1
        ) {
          throw new Error(`Key version ${key.key_version} to overwrite is not stored`);
        }
      }
      const reservation = this.#idempotencyContext.getStore();
      if (reservation) s.markCommitted.run(reservation.tenant, reservation.key);
      return result;
    });
    return whenNotBusy(() => transaction.immediate());
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  /** Readiness: the database file answers a query. */
  async ping(): Promise<boolean> {
    return this.#db.open && this.#statements.ping.get() !== undefined;
  }

  // --- meta (master-key check value) ----------------------------------------------------------

  async getMeta(name: string): Promise<Uint8Array | undefined> {
    return whenNotBusy(() => {
      const row = this.#statements.getMeta.get(name);
      return row ? new Uint8Array(row.value) : undefined;
    });
  }

  /** Stores `value` unless `name` exists; returns the value that is stored afterwards. */
  async initMeta(name: string, value: Uint8Array): Promise<Uint8Array> {
    return whenNotBusy(() => {
      return this.#db
        .transaction(() => {
          this.#statements.insertMeta.run(name, value);
          return new Uint8Array(this.#statements.getMeta.get(name)!.value);
        })
        .immediate();
    });
  }

  // --- API keys ---------------------------------------------------------------------------------

  async findApiKey(hash: Uint8Array): Promise<ApiKeyRecord | undefined> {
    return whenNotBusy(() => {
      const row = this.#statements.findApiKey.get(hash);
      return row ? toApiKeyRecord(row) : undefined;
    });
  }

  async createApiKey(record: Omit<ApiKeyRecord, 'revoked_at'>): Promise<void> {
    whenNotBusy(() => {
      this.#statements.insertApiKey.run(record.id, record.hash, record.tenant, record.scopes.join(','), record.created_at);
    });
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return whenNotBusy(() => {
      return this.#statements.listApiKeys.all().map(toApiKeyRecord);
    });
  }

  /** Returns false when no unrevoked key has this id. */
  async revokeApiKey(id: string, now: Date = new Date()): Promise<boolean> {
    return whenNotBusy(() => {
      return this.#statements.revokeApiKey.run(now.toISOString(), id).changes === 1;
    });
  }

  // --- idempotency ------------------------------------------------------------------------------

  async reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation> {
    return whenNotBusy(() => {
      const s = this.#statements;
      if (this.#reservations++ % 1000 === 0) s.sweepIdempotency.run(nowMs - IDEMPOTENCY_TTL_MS);
      return this.#db
        .transaction((): Reservation => {
          const row = s.getIdempotency.get(tenant, key);
          if (row && nowMs - row.updated_ms < IDEMPOTENCY_TTL_MS) {
            if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
            if (row.response != null) return { state: 'replay', response: JSON.parse(row.response) as StoredResponse };
            if (nowMs - row.updated_ms < PENDING_TTL_MS) return { state: 'pending' };
            if (row.committed) return { state: 'unknown' };
            // Abandoned before its change committed: running it again is safe.
          }
          s.putIdempotency.run(tenant, key, fingerprint, nowMs);
          return { state: 'acquired' };
        })
        .immediate();
    });
  }

  async complete(tenant: string, key: string, response: StoredResponse, nowMs: number): Promise<void> {
    whenNotBusy(() => {
      this.#statements.completeIdempotency.run(JSON.stringify(response), nowMs, tenant, key);
    });
  }

  async release(tenant: string, key: string): Promise<void> {
    whenNotBusy(() => {
      this.#statements.releaseIdempotency.run(tenant, key);
    });
  }

  run<T>(tenant: string, key: string, fn: () => Promise<T>): Promise<T> {
    return this.#idempotencyContext.run({ tenant, key }, fn);
  }
}

const KEY_COLUMNS = 'key_version, status, public_key, created_at, wrapped_seed';

function copyKey(row: StoredKey | undefined): StoredKey | undefined {
  return row && copyStoredKey(row);
}

function toApiKeyRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    scopes: row.scopes === '' ? [] : (row.scopes.split(',') as Scope[]),
    hash: new Uint8Array(row.hash),
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

/**
 * Every database call of the store goes through this. Past the busy timeout another process still
 * holds the write lock (SQLITE_BUSY), or a table is locked by this connection's own open
 * statement (SQLITE_LOCKED): a temporary outage, raised as StoreBusyError (503, retryable), not an
 * internal error. Callers never see SQLite's error codes.
 */
function whenNotBusy<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new StoreBusyError();
    throw error;
  }
}
