/**
 * The shared store (the ServerStore of store.ts for many instances): one PostgreSQL database
 * holding keyrings, API keys (SHA-256 hashes only), idempotency records, the master-key check value
 * and the rate-limit buckets, through a bounded `pg` connection pool. sqlite.ts is its twin for one
 * machine; the two are kept parallel, statement by statement.
 *
 * Concurrency: every keyring change is one transaction that first takes a transaction-scoped
 * advisory lock on (tenant, algorithm), then reads the few rows the lifecycle rule needs (the
 * active key, the highest version, a targeted version), applies the engine's synchronous `change`
 * and writes the keys it returns; instances rotating one keyring at once queue on that lock
 * (an empty keyring has no row to lock, hence an advisory lock rather than SELECT … FOR UPDATE).
 * The primary key and the `one_active_key` unique index make a duplicate version or a second
 * active key impossible even if that logic were wrong. A process killed mid-transaction loses its
 * connection, and PostgreSQL rolls the transaction back and frees the lock. A keyring change made
 * for a request holding an Idempotency-Key reservation marks the reservation committed in the same
 * transaction (src/stores/keystore.ts). Every key read is an index lookup or an index range (the
 * primary key, `one_active_key`, `keys_by_status`), so an operation costs the same with one
 * version or thousands.
 *
 * Nothing is cached between requests: every API-key lookup and keyring read goes to the database,
 * so a revoke, retire, archive or rotate answered by one instance is seen by the next request to any
 * other (the engine's seed cache is keyed by version and public key, which never change).
 *
 * Faults: the pool has a fixed size and an acquire timeout, and every statement a timeout (in the
 * server and, for a connection that went silent, in the client). An unreachable or restarting
 * database, a full pool or a lock held too long raise StoreBusyError (503 ERR_SERVICE_001 with
 * Retry-After), never a raw driver error; a broken connection is discarded, and the pool opens new
 * ones once the database is back.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { Algorithm, Scope } from 'qpher/host';
import { overwritesFirst, type KeyPage, type KeyPageQuery, type KeyringChange, type KeyringView, type StoredKey } from 'qpher/host';
import type { ApiKeyRecord } from './auth.js';
import { IDEMPOTENCY_TTL_MS, PENDING_TTL_MS, type Reservation, type StoredResponse } from './idempotency.js';
import { migrate } from './postgres-schema.js';
import type { RateDecision, RateLimit, RateLimiter } from './rate-limit.js';
import type { ServerStore } from './store.js';
import { StoreBusyError } from './store-busy.js';

export const DATABASE_URL_ENV = 'QPHER_DATABASE_URL';

export interface PostgresOptions {
  /** Connections this instance may hold at once. Default 10. */
  poolSize?: number;
  /** How long a request waits for a free connection before 503. Default 2000 ms. */
  acquireTimeoutMs?: number;
  /** The longest any one statement (a lock wait included) may run before 503. Default 3000 ms. */
  statementTimeoutMs?: number;
  /** Pool errors on idle connections (the database restarted): one line, no secrets. */
  log?: (line: string) => void;
}

export const POSTGRES_DEFAULTS = { poolSize: 10, acquireTimeoutMs: 2000, statementTimeoutMs: 3000 } as const;

/** First int of the two-int advisory lock that serialises changes to one keyring. */
const KEYRING_LOCK_CLASS = 1903;

type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

const SELECT_KEYS = 'SELECT key_version, status, public_key, created_at, wrapped_seed FROM keys WHERE tenant = $1 AND algorithm = $2';

interface KeyRow {
  key_version: string;
  status: StoredKey['status'];
  public_key: string;
  created_at: string;
  wrapped_seed: Buffer;
}

interface ApiKeyRow {
  id: string;
  hash: Buffer;
  tenant: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

export function isDatabaseUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The URL without its password, for logs and messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export class PostgresStore implements ServerStore {
  readonly kind = 'postgres';
  readonly location: string;
  readonly #pool: pg.Pool;
  #reservations = 0;
  #takes = 0;
  /** The Idempotency-Key reservation of the request running in this async context, if any. */
  readonly #idempotencyContext = new AsyncLocalStorage<{ tenant: string; key: string }>();

  private constructor(url: string, pool: pg.Pool) {
    this.location = redactDatabaseUrl(url);
    this.#pool = pool;
  }

  /** Connects, applies pending migrations under the migration lock, and returns the store. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const statementTimeoutMs = options.statementTimeoutMs ?? POSTGRES_DEFAULTS.statementTimeoutMs;
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? POSTGRES_DEFAULTS.poolSize,
      connectionTimeoutMillis: options.acquireTimeoutMs ?? POSTGRES_DEFAULTS.acquireTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'qpher',
      statement_timeout: statementTimeoutMs,
      // A connection whose server went silent (no RST) must not hold a request past the deadline.
      query_timeout: statementTimeoutMs + 1000,
      // A client stuck inside a transaction must not hold a keyring lock for ever.
      idle_in_transaction_session_timeout: Math.max(10_000, statementTimeoutMs * 4),
    });
    const log = options.log;
    // An idle connection dropped by the server (a restart) is an 'error' event: without a
    // listener it would crash the process. The pool has already discarded that connection.
    pool.on('error', (error) => log?.(`database connection lost: ${describeDatabaseError(error)}`));
    const store = new PostgresStore(url, pool);
    try {
      const client = await pool.connect();
      try {
        const applied = await migrate(client);
        if (applied.length > 0) log?.(`database schema migrated to version ${applied.at(-1)}`);
        client.release();
      } catch (error) {
        client.release(true);
        throw error;
      }
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    return store;
  }

  // --- KeyStore -------------------------------------------------------------------------------

  async get(tenant: string, algorithm: Algorithm, version: number): Promise<StoredKey | undefined> {
    const { rows } = await this.#query<KeyRow>(`${SELECT_KEYS} AND key_version = $3`, [tenant, algorithm, version]);
    return rows[0] && toStoredKey(rows[0]);
  }

  async active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
    const { rows } = await this.#query<KeyRow>(`${SELECT_KEYS} AND status = 'active'`, [tenant, algorithm]);
    return rows[0] && toStoredKey(rows[0]);
  }

  async list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage> {
    // One statement, so the page and the count see the same snapshot; with a status, both are
    // ranges of `keys_by_status`, without one of the primary key.
    const byStatus = query.status === undefined ? '' : ' AND status = $5';
    const { rows } = await this.#query<KeyRow & { total: string }>(
      `SELECT t.total, page.* FROM
         (SELECT count(*) AS total FROM keys WHERE tenant = $1 AND algorithm = $2${byStatus}) t
         LEFT JOIN (${SELECT_KEYS}${byStatus} AND key_version > $3 ORDER BY key_version LIMIT $4) page ON TRUE
       ORDER BY page.key_version`,
      [tenant, algorithm, query.after, query.limit, ...(query.status === undefined ? [] : [query.status])],
    );
    return {
      keys: rows.filter((row) => row.key_version !== null).map(toStoredKey),
      total: Number(rows[0]?.total ?? 0),
    };
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T> {
    const reservation = this.#idempotencyContext.getStore();
    return this.#transaction(async (q) => {
      await q('SELECT pg_advisory_xact_lock($1, hashtext($2))', [KEYRING_LOCK_CLASS, `${tenant}\n${algorithm}`]);
      // The few rows the lifecycle rule needs, each an index lookup: the active key, the highest
      // version and the targeted one (src/stores/keystore.ts).
      const { rows } = await q<KeyRow & { max_version: string }>(
        `SELECT coalesce((SELECT key_version FROM keys WHERE tenant = $1 AND algorithm = $2 ORDER BY key_version DESC LIMIT 1), 0) AS max_version,
           k.* FROM (VALUES (1)) AS one (x)
           LEFT JOIN (${SELECT_KEYS} AND status = 'active' UNION ALL ${SELECT_KEYS} AND key_version = $3) k ON TRUE`,
        [tenant, algorithm, target ?? 0],
      );
      const maxVersion = Number(rows[0]!.max_version);
      const found = rows.filter((row) => row.key_version !== null).map(toStoredKey);
      const view: KeyringView = {
        active: found.find((k) => k.status === 'active'),
        maxVersion,
        target: target === undefined ? undefined : found.find((k) => k.key_version === target),
      };
      const { put, result } = change(view);
      if (!put?.length) return result;
      // Overwrites first, so that "one active key" holds after every statement of a rotate.
      for (const key of overwritesFirst(put, maxVersion)) {
        const seed = Buffer.from(key.wrapped_seed);
        if (key.key_version > maxVersion) {
          await q(
            'INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed) VALUES ($1, $2, $3, $4, $5, $6, $7)',
            [tenant, algorithm, key.key_version, key.status, key.public_key, key.created_at, seed],
          );
        } else {
          const updated = await q(
            'UPDATE keys SET status = $1, public_key = $2, created_at = $3, wrapped_seed = $4 WHERE tenant = $5 AND algorithm = $6 AND key_version = $7',
            [key.status, key.public_key, key.created_at, seed, tenant, algorithm, key.key_version],
          );
          if (updated.rowCount !== 1) throw new Error(`Key version ${key.key_version} to overwrite is not stored`);
        }
      }
      if (reservation) {
        await q('UPDATE idempotency SET committed = TRUE WHERE tenant = $1 AND key = $2 AND response IS NULL', [
          reservation.tenant,
          reservation.key,
        ]);
      }
      return result;
    });
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }

  /** Readiness: the database answers a query (through the pool, within its timeouts). */
  async ping(): Promise<boolean> {
    try {
      await this.#query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  // --- meta (master-key check value) ----------------------------------------------------------

  async getMeta(name: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.#query<{ value: Buffer }>('SELECT value FROM meta WHERE name = $1', [name]);
    return rows[0] ? new Uint8Array(rows[0].value) : undefined;
  }

  async initMeta(name: string, value: Uint8Array): Promise<Uint8Array> {
    // Two instances starting together: the second INSERT waits for the first to commit, then does nothing.
    await this.#query('INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, Buffer.from(value)]);
    return (await this.getMeta(name))!;
  }

  // --- API keys ---------------------------------------------------------------------------------

  async findApiKey(hash: Uint8Array): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.#query<ApiKeyRow>('SELECT * FROM api_keys WHERE hash = $1', [Buffer.from(hash)]);
    return rows[0] ? toApiKeyRecord(rows[0]) : undefined;
  }

  async createApiKey(record: Omit<ApiKeyRecord, 'revoked_at'>): Promise<void> {
    await this.#query('INSERT INTO api_keys (id, hash, tenant, scopes, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)', [
      record.id,
      Buffer.from(record.hash),
      record.tenant,
      record.scopes.join(','),
      record.created_at,
    ]);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.#query<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map(toApiKeyRecord);
  }

  async revokeApiKey(id: string, now: Date = new Date()): Promise<boolean> {
    const result = await this.#query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now.toISOString(), id]);
    return result.rowCount === 1;
  }

  // --- idempotency ------------------------------------------------------------------------------

  async reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation> {
    if (this.#reservations++ % 1000 === 0) {
      await this.#query('DELETE FROM idempotency WHERE updated_ms < $1', [nowMs - IDEMPOTENCY_TTL_MS]);
    }
    return this.#transaction(async (q) => {
      // A release may delete the row between the INSERT and the SELECT: then try again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await q(
          'INSERT INTO idempotency (tenant, key, fingerprint, response, updated_ms, committed) VALUES ($1, $2, $3, NULL, $4, FALSE) ON CONFLICT (tenant, key) DO NOTHING',
          [tenant, key, fingerprint, nowMs],
        );
        if (inserted.rowCount === 1) return { state: 'acquired' };
        const row = (
          await q<{ fingerprint: string; response: string | null; updated_ms: string; committed: boolean }>(
            'SELECT fingerprint, response, updated_ms, committed FROM idempotency WHERE tenant = $1 AND key = $2 FOR UPDATE',
            [tenant, key],
          )
        ).rows[0];
        if (!row) continue;
        const updatedMs = Number(row.updated_ms);
        if (nowMs - updatedMs < IDEMPOTENCY_TTL_MS) {
          if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
          if (row.response != null) return { state: 'replay', response: JSON.parse(row.response) as StoredResponse };
          if (nowMs - updatedMs < PENDING_TTL_MS) return { state: 'pending' };
          if (row.committed) return { state: 'unknown' };
          // Abandoned before its change committed: running it again is safe.
        }
        await q(
          'UPDATE idempotency SET fingerprint = $3, response = NULL, updated_ms = $4, committed = FALSE, owner = NULL WHERE tenant = $1 AND key = $2',
          [tenant, key, fingerprint, nowMs],
        );
        return { state: 'acquired' };
      }
      return { state: 'pending' };
    });
  }

  async complete(tenant: string, key: string, response: StoredResponse, nowMs: number): Promise<void> {
    await this.#query('UPDATE idempotency SET response = $1, updated_ms = $2 WHERE tenant = $3 AND key = $4', [
      JSON.stringify(response),
      nowMs,
      tenant,
      key,
    ]);
  }

  async release(tenant: string, key: string): Promise<void> {
    await this.#query('DELETE FROM idempotency WHERE tenant = $1 AND key = $2 AND response IS NULL AND committed = FALSE', [tenant, key]);
  }

  run<T>(tenant: string, key: string, fn: () => Promise<T>): Promise<T> {
    return this.#idempotencyContext.run({ tenant, key }, fn);
  }

  // --- rate limits ------------------------------------------------------------------------------

  /**
   * One token bucket per API key in `rate_buckets`, shared by every instance: each take is one
   * atomic upsert (refill by the time since the last take, on the database's clock, then take a
   * token if there is one), so the budget holds across all instances exactly, at the cost of one
   * round trip and one row lock per request.
   */
  sharedRateLimiter(limit: RateLimit): RateLimiter {
    const fullAfterMs = (limit.burst / limit.rps) * 1000;
    return {
      take: async (id: string): Promise<RateDecision> => {
        if (this.#takes++ % 1000 === 0) {
          // Buckets that have refilled completely behave exactly like absent ones.
          await this.#query('DELETE FROM rate_buckets WHERE updated_ms < extract(epoch FROM clock_timestamp()) * 1000 - $1', [fullAfterMs]);
        }
        const refilled = 'LEAST($2::float8, b.tokens + GREATEST(0, EXCLUDED.updated_ms - b.updated_ms) / 1000 * $3::float8)';
        const { rows } = await this.#query<{ tokens: number; allowed: boolean }>(
          `INSERT INTO rate_buckets AS b (id, tokens, updated_ms, allowed)
           SELECT $1, $2::float8 - 1, extract(epoch FROM clock_timestamp()) * 1000, TRUE
           ON CONFLICT (id) DO UPDATE SET
             tokens = ${refilled} - CASE WHEN ${refilled} >= 1 THEN 1 ELSE 0 END,
             allowed = ${refilled} >= 1,
             updated_ms = GREATEST(b.updated_ms, EXCLUDED.updated_ms)
           RETURNING tokens, allowed`,
          [id, limit.burst, limit.rps],
        );
        const row = rows[0]!;
        if (row.allowed) return { allowed: true };
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - row.tokens) / limit.rps)) };
      },
    };
  }

  // --- plumbing ---------------------------------------------------------------------------------

  /** One statement on any pooled connection; driver failures become StoreBusyError. */
  async #query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(text, values);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /**
   * Runs `body` in one transaction on one connection. Errors of the database become StoreBusyError
   * when temporary; an error thrown by `body` itself (the engine's `change`) passes through as is.
   * A connection that failed is destroyed rather than returned to the pool.
   */
  async #transaction<T>(body: (q: Query) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
    let broken: unknown;
    // The server may drop a checked-out connection between two statements (a restart): the
    // client then emits 'error', which must not go unheard (it would crash the process); the next
    // statement fails, and the connection is destroyed below.
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    const release = (error?: Error | boolean) => {
      // A destroyed connection may still report its end: keep listening to it until it is gone.
      if (error === undefined) client.off('error', onError);
      client.release(error);
    };
    const q: Query = async (text, values) => {
      try {
        return await client.query(text, values);
      } catch (error) {
        broken = error;
        throw toStoreError(error);
      }
    };
    try {
      await q('BEGIN');
      const result = await body(q);
      await q('COMMIT');
      release(broken instanceof Error ? broken : undefined);
      return result;
    } catch (error) {
      if (broken === undefined) {
        await client.query('ROLLBACK').then(
          () => release(),
          (rollbackError: Error) => release(rollbackError),
        );
      } else {
        release(broken instanceof Error ? broken : true);
      }
      throw error;
    }
  }
}

/**
 * What the database said, as a StoreBusyError when it is temporary: the server is unreachable,
 * shutting down or starting up (SQLSTATE classes 08, 57P0x), out of connections or resources (53),
 * a statement or lock wait timed out (57014, 55P03), a serialization failure or deadlock (40), or
 * the driver gave up (pool acquire timeout, connection lost, query timeout: errors without a
 * SQLSTATE). Anything else (a constraint violated, bad SQL) is a bug and stays as it is.
 */
export function toStoreError(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return /^(08|53|57|58|40)/.test(code) || code === '55P03' ? new StoreBusyError('Database unavailable; retry the request') : error;
  }
  return new StoreBusyError('Database unavailable; retry the request');
}

/** A short description of a driver error: its SQLSTATE or errno and message, never a query or a value. */
export function describeDatabaseError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code} ` : ''}${error.message.slice(0, 200)}`;
}

function toStoredKey(row: KeyRow): StoredKey {
  return {
    key_version: Number(row.key_version),
    status: row.status,
    public_key: row.public_key,
    created_at: row.created_at,
    wrapped_seed: new Uint8Array(row.wrapped_seed),
  };
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
