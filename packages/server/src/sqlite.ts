/**
 * The server's embedded store (the ServerStore of store.ts for one machine): one SQLite database (better-sqlite3) holding keyrings, API keys
 * (HMAC digests only), idempotency records and a master-key check value.
 *
 * Integrity (integrity.ts): once `attachIntegrity` gave it the keys derived from the master key,
 * every key row and API-key row is written with a MAC (`mac` column) and checked on every read; a
 * row that fails is refused with IntegrityError (a fixed 500 message) and reported to `onTamper`.
 * Rows from schema version 2 have no MAC: the server refuses to start until `qpher migrate` has
 * checked and sealed them (`legacyRows`, `sealLegacyRows`); a legacy API key (plain SHA-256) is
 * upgraded to an HMAC digest on its first use after that.
 * postgres.ts is its twin for many instances; keep the two parallel.
 *
 * Durability and concurrency: WAL with `synchronous=FULL` (a committed transaction survives
 * `kill -9` and power loss), a busy timeout (a second process waits for the write lock instead of
 * failing), and every keyring change is one `BEGIN IMMEDIATE` transaction that reads the few rows
 * the lifecycle rule needs (the active key, the highest version, a targeted version), applies the
 * engine's synchronous `change` and writes the keys it returns. Every key read is an index lookup
 * or an index range (the primary key, `one_active_key`, `keys_by_status`), so an operation costs
 * the same with one version or thousands. `PRIMARY KEY (tenant, algorithm, key_version)` makes a
 * duplicate version impossible even if that logic were wrong.
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
import { type ApiKeyRowFields, type Integrity, type LegacyKeyRow, legacyApiKeyHash, RowGuard } from './integrity.js';
import { StoreBusyError } from './store-busy.js';
import {
  DEFAULT_MAX_IDEMPOTENCY_RECORDS_PER_TENANT,
  IDEMPOTENCY_SWEEP_BATCH,
  IDEMPOTENCY_SWEEP_EVERY,
  IDEMPOTENCY_TTL_MS,
  newOwnerToken,
  PENDING_TTL_MS,
  type Reservation,
  ReservationLostError,
  type StoredResponse,
} from './idempotency.js';
import {
  copyStoredKey,
  type KeyPage,
  type KeyPageQuery,
  type KeyringChange,
  type KeyringView,
  overwritesFirst,
  ServiceUnavailableError,
  type StoredKey,
} from 'qpher/host';
import type { Rewrap, ServerStore, WrappedSeedRow } from './store.js';

const SCHEMA_VERSION = 3;
export const DEFAULT_BUSY_TIMEOUT_MS = 15_000;
/** Master-key rotation rewraps this many rows at a time, and reports progress after each batch. */
const REWRAP_BATCH = 500;

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
  mac BLOB,
  PRIMARY KEY (tenant, algorithm, key_version)
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS one_active_key ON keys (tenant, algorithm) WHERE status = 'active';
-- kms.list with a status filter: one page and a count without scanning the rest of the keyring.
-- Created on open by an older database too; no schema version change, as no older qpher minds it.
CREATE INDEX IF NOT EXISTS keys_by_status ON keys (tenant, algorithm, status, key_version);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  digest BLOB UNIQUE,
  hash BLOB UNIQUE,
  tenant TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  mac BLOB,
  CHECK ((digest IS NULL) <> (hash IS NULL))
) STRICT;
CREATE TABLE IF NOT EXISTS idempotency (
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  response TEXT,
  updated_ms INTEGER NOT NULL,
  committed INTEGER NOT NULL DEFAULT 0,
  owner TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tenant, key)
) STRICT;
CREATE INDEX IF NOT EXISTS idempotency_by_time ON idempotency (updated_ms);
CREATE INDEX IF NOT EXISTS idempotency_by_tenant_time ON idempotency (tenant, updated_ms);
`;

/** Schema 2 -> 3: a MAC per key row; API keys by HMAC digest (the SHA-256 `hash` kept as legacy). */
const MIGRATE_2_TO_3 = `
ALTER TABLE idempotency ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN mac BLOB;
CREATE TABLE api_keys_v3 (
  id TEXT PRIMARY KEY,
  digest BLOB UNIQUE,
  hash BLOB UNIQUE,
  tenant TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  mac BLOB,
  CHECK ((digest IS NULL) <> (hash IS NULL))
) STRICT;
INSERT INTO api_keys_v3 (id, hash, tenant, scopes, created_at, revoked_at) SELECT id, hash, tenant, scopes, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v3 RENAME TO api_keys;
`;

interface ApiKeyRow extends ApiKeyRowFields {
  mac: Uint8Array | null;
}

type KeyRow = StoredKey & { mac: Uint8Array | null };

export interface SqliteStoreOptions {
  busyTimeoutMs?: number;
  /** Default DEFAULT_MAX_IDEMPOTENCY_RECORDS_PER_TENANT. */
  maxIdempotencyRecordsPerTenant?: number;
}

export class SqliteStore implements ServerStore {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly location: string;
  readonly #db: Database.Database;
  readonly #statements;
  #reservations = 0;
  readonly #maxIdempotencyPerTenant: number;
  readonly #rows = new RowGuard();
  /** The Idempotency-Key reservation of the request running in this async context, if any. */
  readonly #idempotencyContext = new AsyncLocalStorage<{ tenant: string; key: string; owner: string }>();

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#maxIdempotencyPerTenant = options.maxIdempotencyRecordsPerTenant ?? DEFAULT_MAX_IDEMPOTENCY_RECORDS_PER_TENANT;
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
        if (version === 1 || version === 2) db.exec(MIGRATE_2_TO_3);
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    } catch (error) {
      db.close();
      throw error;
    }
    this.#statements = {
      key: db.prepare<[string, string, number], KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND key_version = ?`,
      ),
      activeKey: db.prepare<[string, string], KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND status = 'active'`,
      ),
      maxVersion: db.prepare<[string, string], { key_version: number }>(
        'SELECT key_version FROM keys WHERE tenant = ? AND algorithm = ? ORDER BY key_version DESC LIMIT 1',
      ),
      page: db.prepare<[string, string, number, number], KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND key_version > ? ORDER BY key_version LIMIT ?`,
      ),
      pageByStatus: db.prepare<[string, string, string, number, number], KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = ? AND algorithm = ? AND status = ? AND key_version > ? ORDER BY key_version LIMIT ?`,
      ),
      count: db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM keys WHERE tenant = ? AND algorithm = ?'),
      countByStatus: db.prepare<[string, string, string], { n: number }>(
        'SELECT count(*) AS n FROM keys WHERE tenant = ? AND algorithm = ? AND status = ?',
      ),
      insertKey: db.prepare(
        'INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateKey: db.prepare(
        'UPDATE keys SET status = ?, public_key = ?, created_at = ?, wrapped_seed = ?, mac = ? WHERE tenant = ? AND algorithm = ? AND key_version = ?',
      ),
      legacyKeys: db.prepare<[], KeyRow & { tenant: string; algorithm: Algorithm }>(
        'SELECT tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed, mac FROM keys WHERE mac IS NULL',
      ),
      sealKey: db.prepare(
        'UPDATE keys SET mac = ? WHERE tenant = ? AND algorithm = ? AND key_version = ? AND mac IS NULL AND status = ? AND public_key = ? AND created_at = ? AND wrapped_seed = ?',
      ),
      legacyApiKeys: db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys WHERE mac IS NULL'),
      sealApiKey: db.prepare('UPDATE api_keys SET mac = ? WHERE id = ? AND mac IS NULL'),
      getMeta: db.prepare<[string], { value: Uint8Array }>('SELECT value FROM meta WHERE name = ?'),
      insertMeta: db.prepare('INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)'),
      findApiKeyByDigest: db.prepare<[Uint8Array], ApiKeyRow>('SELECT * FROM api_keys WHERE digest = ?'),
      findApiKeyByHash: db.prepare<[Uint8Array], ApiKeyRow>('SELECT * FROM api_keys WHERE hash = ?'),
      getApiKey: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?'),
      listApiKeys: db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id'),
      insertApiKey: db.prepare(
        'INSERT INTO api_keys (id, digest, hash, tenant, scopes, created_at, revoked_at, mac) VALUES (?, ?, NULL, ?, ?, ?, NULL, ?)',
      ),
      rewriteApiKey: db.prepare('UPDATE api_keys SET digest = ?, hash = ?, revoked_at = ?, mac = ? WHERE id = ? AND mac = ?'),
      getIdempotency: db.prepare<[string, string], { fingerprint: string; response: string | null; updated_ms: number; committed: number }>(
        'SELECT fingerprint, response, updated_ms, committed FROM idempotency WHERE tenant = ? AND key = ?',
      ),
      putIdempotency: db.prepare(
        'INSERT OR REPLACE INTO idempotency (tenant, key, fingerprint, response, updated_ms, committed, owner) VALUES (?, ?, ?, NULL, ?, 0, ?)',
      ),
      markCommitted: db.prepare('UPDATE idempotency SET committed = 1 WHERE tenant = ? AND key = ? AND owner = ? AND response IS NULL'),
      completeIdempotency: db.prepare('UPDATE idempotency SET response = ?, updated_ms = ? WHERE tenant = ? AND key = ? AND owner = ?'),
      releaseIdempotency: db.prepare(
        'DELETE FROM idempotency WHERE tenant = ? AND key = ? AND owner = ? AND response IS NULL AND committed = 0',
      ),
      // Small batches through the time index, so a sweep never holds the write lock (or the event
      // loop) for long however many records expired.
      sweepIdempotency: db.prepare(
        `DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE updated_ms < ? ORDER BY updated_ms LIMIT ${IDEMPOTENCY_SWEEP_BATCH})`,
      ),
      countTenantIdempotency: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM idempotency WHERE tenant = ?'),
      evictTenantIdempotency: db.prepare(
        'DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE tenant = ? AND response IS NOT NULL ORDER BY updated_ms LIMIT ?)',
      ),
      ping: db.prepare('SELECT 1'),
    };
  }

  // --- KeyStore -------------------------------------------------------------------------------

  async get(tenant: string, algorithm: Algorithm, version: number): Promise<StoredKey | undefined> {
    this.#rows.assertAttached();
    return whenNotBusy(() => this.#checked(tenant, algorithm, this.#statements.key.get(tenant, algorithm, version)));
  }

  async active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
    this.#rows.assertAttached();
    return whenNotBusy(() => this.#checked(tenant, algorithm, this.#statements.activeKey.get(tenant, algorithm)));
  }

  async list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage> {
    const s = this.#statements;
    this.#rows.assertAttached();
    // One read transaction, so the page and the count agree.
    const page = this.#db.transaction((): KeyPage => {
      const rows =
        query.limit === 0
          ? []
          : query.status === undefined
            ? s.page.all(tenant, algorithm, query.after, query.limit)
            : s.pageByStatus.all(tenant, algorithm, query.status, query.after, query.limit);
      return {
        keys: rows.map((row) => this.#checked(tenant, algorithm, row)!),
        total: (query.status === undefined ? s.count.get(tenant, algorithm) : s.countByStatus.get(tenant, algorithm, query.status))!.n,
      };
    });
    return whenNotBusy(() => page.deferred());
  }

  /** A key row checked against its MAC (IntegrityError if it fails), as a StoredKey of its own. */
  #checked(tenant: string, algorithm: Algorithm, row: KeyRow | undefined): StoredKey | undefined {
    return row && this.#rows.key(tenant, algorithm, copyStoredKey(row), row.mac);
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T> {
    const s = this.#statements;
    const integrity = this.#rows.integrity;
    const transaction = this.#db.transaction((): T => {
      const maxVersion = s.maxVersion.get(tenant, algorithm)?.key_version ?? 0;
      const view: KeyringView = {
        active: this.#checked(tenant, algorithm, s.activeKey.get(tenant, algorithm)),
        maxVersion,
        target: target === undefined ? undefined : this.#checked(tenant, algorithm, s.key.get(tenant, algorithm, target)),
      };
      const { put, result } = change(view);
      if (!put?.length) return result;
      // Overwrites first, so that "one active key" holds after every statement of a rotate.
      for (const key of overwritesFirst(put, maxVersion)) {
        const mac = integrity.keyRowMac(tenant, algorithm, key);
        if (key.key_version > maxVersion) {
          s.insertKey.run(tenant, algorithm, key.key_version, key.status, key.public_key, key.created_at, key.wrapped_seed, mac);
        } else if (
          s.updateKey.run(key.status, key.public_key, key.created_at, key.wrapped_seed, mac, tenant, algorithm, key.key_version).changes !==
          1
        ) {
          throw new Error(`Key version ${key.key_version} to overwrite is not stored`);
        }
      }
      const reservation = this.#idempotencyContext.getStore();
      // The reservation must still be ours: if a repeat took it over while this request stalled,
      // throwing here rolls this keyring change back (the new owner runs it instead).
      if (reservation && s.markCommitted.run(reservation.tenant, reservation.key, reservation.owner).changes !== 1) {
        throw new ReservationLostError();
      }
      return result;
    });
    return whenNotBusy(() => transaction.immediate());
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  /**
   * A consistent copy of the whole database at `path` while it keeps serving: SQLite's online
   * backup API (better-sqlite3 `db.backup`), which copies pages in steps and restarts a step a
   * concurrent write changed, so the copy is one committed state.
   */
  async backupTo(path: string): Promise<void> {
    await this.#db.backup(path);
  }

  /**
   * One `BEGIN IMMEDIATE` transaction held across the asynchronous rewraps (this connection is
   * used by nothing else meanwhile: `qpher master-key rotate` runs with the server stopped), so
   * other processes wait on the write lock and a crash leaves the WAL without a commit record.
   */
  async rewrapAll(rewrap: Rewrap): Promise<number> {
    const db = this.#db;
    this.#rows.assertAttached();
    whenNotBusy(() => db.exec('BEGIN IMMEDIATE'));
    try {
      const rows = db
        .prepare<[], WrappedSeedRow & Omit<KeyRow, 'wrapped_seed' | 'public_key' | 'key_version'>>(
          'SELECT tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed, mac FROM keys ORDER BY tenant, algorithm, key_version',
        )
        .all();
      const update = db.prepare('UPDATE keys SET wrapped_seed = ?, mac = ? WHERE tenant = ? AND algorithm = ? AND key_version = ?');
      for (let start = 0; start < rows.length; start += REWRAP_BATCH) {
        const batch = rows.slice(start, start + REWRAP_BATCH);
        for (const row of batch) this.#rows.key(row.tenant, row.algorithm, copyStoredKey(row), row.mac);
        // The rewraps of a batch run concurrently (WebCrypto is asynchronous), the writes in order.
        const wrapped = await Promise.all(batch.map((row) => rewrap.seed({ ...row, wrapped_seed: new Uint8Array(row.wrapped_seed) })));
        for (const [i, row] of batch.entries()) {
          const key = { ...copyStoredKey(row), wrapped_seed: wrapped[i]! };
          update.run(
            key.wrapped_seed,
            rewrap.integrity.keyRowMac(row.tenant, row.algorithm, key),
            row.tenant,
            row.algorithm,
            row.key_version,
          );
        }
        rewrap.progress?.(start + batch.length, rows.length);
      }
      const remac = db.prepare('UPDATE api_keys SET mac = ? WHERE id = ?');
      for (const row of db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys').all()) {
        const checked = this.#rows.apiKey(row);
        remac.run(rewrap.integrity.apiKeyRowMac(checked), checked.id);
      }
      const putMeta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
      for (const meta of rewrap.meta) putMeta.run(meta.name, await meta.value());
      db.exec('COMMIT');
      return rows.length;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
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

  // --- integrity ------------------------------------------------------------------------------

  /**
   * Gives the store the keys derived from the master key (integrity.ts); until then, reading or
   * writing keys or API keys throws. `onTamper` hears which row failed its check (never its data).
   */
  attachIntegrity(integrity: Integrity, onTamper: (row: string) => void = () => {}): void {
    this.#rows.attach(integrity, onTamper);
  }

  /** Rows written before schema version 3 (no MAC yet), for `qpher migrate`. */
  async legacyRows(): Promise<{ keys: LegacyKeyRow[]; apiKeys: number }> {
    return whenNotBusy(() => ({
      keys: this.#statements.legacyKeys.all().map((row) => ({ tenant: row.tenant, algorithm: row.algorithm, key: copyStoredKey(row) })),
      apiKeys: this.#statements.legacyApiKeys.all().length,
    }));
  }

  /**
   * Seals legacy rows with their MACs, in one transaction: the key rows given (which the caller
   * has checked), each only if still unsealed and unchanged, and every unsealed API-key row.
   * Returns how many of each were sealed.
   */
  async sealLegacyRows(checked: readonly LegacyKeyRow[]): Promise<{ keys: number; apiKeys: number }> {
    const integrity = this.#rows.integrity;
    const s = this.#statements;
    return whenNotBusy(() =>
      this.#db
        .transaction(() => {
          let keys = 0;
          for (const { tenant, algorithm, key } of checked) {
            const mac = integrity.keyRowMac(tenant, algorithm, key);
            keys += s.sealKey.run(
              mac,
              tenant,
              algorithm,
              key.key_version,
              key.status,
              key.public_key,
              key.created_at,
              key.wrapped_seed,
            ).changes;
          }
          let apiKeys = 0;
          for (const row of s.legacyApiKeys.all()) apiKeys += s.sealApiKey.run(integrity.apiKeyRowMac(row), row.id).changes;
          return { keys, apiKeys };
        })
        .immediate(),
    );
  }

  // --- API keys ---------------------------------------------------------------------------------

  /**
   * The record of a presented API key: found by its HMAC digest, or (a legacy row, sealed by
   * `qpher migrate`) by its plain SHA-256, in which case the row is upgraded to the HMAC digest
   * at once. Every row found is checked against its MAC.
   */
  async findApiKey(apiKey: string): Promise<ApiKeyRecord | undefined> {
    const integrity = this.#rows.integrity;
    const s = this.#statements;
    return whenNotBusy(() => {
      const digest = integrity.apiKeyDigest(apiKey);
      let row = s.findApiKeyByDigest.get(digest);
      if (!row) {
        const legacy = s.findApiKeyByHash.get(legacyApiKeyHash(apiKey));
        if (!legacy) return undefined;
        row = this.#rows.apiKey(legacy);
        const upgraded: ApiKeyRow = { ...row, digest, hash: null, mac: null };
        upgraded.mac = integrity.apiKeyRowMac(upgraded);
        s.rewriteApiKey.run(upgraded.digest, null, upgraded.revoked_at, upgraded.mac, row.id, row.mac);
        row = upgraded;
      }
      return toApiKeyRecord(this.#rows.apiKey(row));
    });
  }

  /** Creates an API key for `tenant`; returns the key (shown once, never stored) and its id. */
  async issueApiKey(tenant: string, scopes: readonly Scope[], now: Date = new Date()): Promise<{ key: string; id: string }> {
    const { key, row, mac } = this.#rows.integrity.newApiKeyRow(tenant, scopes, now);
    whenNotBusy(() => {
      this.#statements.insertApiKey.run(row.id, row.digest, row.tenant, row.scopes, row.created_at, mac);
    });
    return { key, id: row.id };
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return whenNotBusy(() => {
      return this.#statements.listApiKeys.all().map((row) => toApiKeyRecord(this.#rows.apiKey(row)));
    });
  }

  /** Returns false when no unrevoked key has this id. */
  async revokeApiKey(id: string, now: Date = new Date()): Promise<boolean> {
    const integrity = this.#rows.integrity;
    const s = this.#statements;
    return whenNotBusy(() =>
      this.#db
        .transaction(() => {
          const found = s.getApiKey.get(id);
          if (!found) return false;
          const row = this.#rows.apiKey(found);
          if (row.revoked_at !== null) return false;
          const revoked: ApiKeyRow = { ...row, revoked_at: now.toISOString(), mac: null };
          revoked.mac = integrity.apiKeyRowMac(revoked);
          return s.rewriteApiKey.run(revoked.digest, revoked.hash, revoked.revoked_at, revoked.mac, id, row.mac).changes === 1;
        })
        .immediate(),
    );
  }

  // --- idempotency ------------------------------------------------------------------------------

  async reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation> {
    return whenNotBusy(() => {
      const s = this.#statements;
      if (this.#reservations++ % IDEMPOTENCY_SWEEP_EVERY === 0) s.sweepIdempotency.run(nowMs - IDEMPOTENCY_TTL_MS);
      return this.#db
        .transaction((): Reservation => {
          const row = s.getIdempotency.get(tenant, key);
          if (row && nowMs - row.updated_ms < IDEMPOTENCY_TTL_MS) {
            if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
            if (row.response != null) return { state: 'replay', response: JSON.parse(row.response) as StoredResponse };
            if (nowMs - row.updated_ms < PENDING_TTL_MS) return { state: 'pending' };
            if (row.committed) return { state: 'unknown' };
            // Abandoned before its change committed: running it again is safe.
          } else {
            // A new record: past the tenant's cap, its oldest answered records make room (never
            // one still running); if none can, the reservation is refused for now.
            const excess = s.countTenantIdempotency.get(tenant)!.n - this.#maxIdempotencyPerTenant + 1;
            if (excess > 0 && s.evictTenantIdempotency.run(tenant, excess).changes < excess) {
              throw new ServiceUnavailableError(
                'Service temporarily unavailable: too many Idempotency-Key requests of this tenant are still running; retry shortly',
              );
            }
          }
          const owner = newOwnerToken();
          s.putIdempotency.run(tenant, key, fingerprint, nowMs, owner);
          return { state: 'acquired', owner };
        })
        .immediate();
    });
  }

  async complete(tenant: string, key: string, owner: string, response: StoredResponse, nowMs: number): Promise<void> {
    whenNotBusy(() => {
      this.#statements.completeIdempotency.run(JSON.stringify(response), nowMs, tenant, key, owner);
    });
  }

  async release(tenant: string, key: string, owner: string): Promise<void> {
    whenNotBusy(() => {
      this.#statements.releaseIdempotency.run(tenant, key, owner);
    });
  }

  run<T>(tenant: string, key: string, owner: string, fn: () => Promise<T>): Promise<T> {
    return this.#idempotencyContext.run({ tenant, key, owner }, fn);
  }
}

const KEY_COLUMNS = 'key_version, status, public_key, created_at, wrapped_seed, mac';

function toApiKeyRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    scopes: row.scopes === '' ? [] : (row.scopes.split(',') as Scope[]),
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
