/**
 * The shared store (the ServerStore of store.ts for many instances): one PostgreSQL database
 * holding keyrings, API keys (HMAC digests only), idempotency records, the master-key check value
 * and the rate-limit buckets, through a bounded `pg` connection pool. sqlite.ts is its twin for one
 * machine; the two are kept parallel, statement by statement.
 *
 * Integrity (integrity.ts), as in sqlite.ts: once `attachIntegrity` gave it the keys derived from
 * the master key, every key row and API-key row is written with a MAC and checked on every read
 * (inside the keyring transaction too); a row that fails is refused with IntegrityError and
 * reported to `onTamper`. Rows from before migration 2 have no MAC until `qpher migrate` seals
 * them; a legacy API key (plain SHA-256) is upgraded to an HMAC digest on its first use.
 *
 * Concurrency: every keyring change is one transaction that first takes a transaction-scoped
 * advisory lock on (tenant, algorithm), then reads the few rows the lifecycle rule needs (the
 * active key, the highest version, a targeted version) in one statement, applies the engine's
 * synchronous `change` and writes the keys it returns; instances rotating one keyring at once queue on that lock
 * (an empty keyring has no row to lock, hence an advisory lock rather than SELECT … FOR UPDATE).
 * The primary key and the `one_active_key` unique index make a duplicate version or a second
 * active key impossible even if that logic were wrong. A process killed mid-transaction loses its
 * connection, and PostgreSQL rolls the transaction back and frees the lock. A keyring change made
 * for a request holding an Idempotency-Key reservation marks the reservation committed in the same
 * transaction (src/stores/keystore.ts), only if the request's owner token still holds it;
 * otherwise (a repeat took the reservation over) the change is rolled back (ReservationLostError).
 * Idempotency records: expired ones are swept in small batches through the time index, and a
 * tenant holds at most `maxIdempotencyRecordsPerTenant` (its oldest answered ones make room; a
 * transaction-scoped advisory lock per tenant keeps the count exact across instances).
 *
 * Every key read is an index lookup or an index range (the primary key for a version and for the
 * highest version, `one_active_key`, and `keys_by_status` for a status-filtered page), so an
 * operation costs the same with one version or thousands; `keys_by_status` is partial (migration
 * 3) so that a lookup by version, which names no status, can only be planned on the primary key.
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
import {
  type KeyPage,
  type KeyPageQuery,
  type KeyringChange,
  type KeyringView,
  overwritesFirst,
  ServiceUnavailableError,
  type StoredKey,
} from 'qpher/host';
import type { ApiKeyRecord } from './auth.js';
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
import { type ApiKeyRowFields, type Integrity, type LegacyKeyRow, legacyApiKeyHash, RowGuard } from './integrity.js';
import { migrate } from './postgres-schema.js';
import type { RateDecision, RateLimit, RateLimiter } from './rate-limit.js';
import type { Rewrap, ServerStore } from './store.js';
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
  /** Default DEFAULT_MAX_IDEMPOTENCY_RECORDS_PER_TENANT (idempotency.ts). */
  maxIdempotencyRecordsPerTenant?: number;
}

export const POSTGRES_DEFAULTS = { poolSize: 10, acquireTimeoutMs: 2000, statementTimeoutMs: 3000 } as const;

/** First int of the two-int advisory lock that serialises changes to one keyring. */
const KEYRING_LOCK_CLASS = 1903;
/** Master-key rotation rewrites this many rows per UPDATE (and reports progress after each). */
const REWRAP_BATCH = 500;
/** First int of the two-int advisory lock that serialises new idempotency records of one tenant. */
const IDEMPOTENCY_LOCK_CLASS = 1904;

type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

interface KeyRow {
  key_version: string;
  status: StoredKey['status'];
  public_key: string;
  created_at: string;
  wrapped_seed: Buffer;
  mac: Buffer | null;
}

interface ApiKeyRow extends ApiKeyRowFields {
  mac: Uint8Array | null;
}

const KEY_COLUMNS = 'key_version, status, public_key, created_at, wrapped_seed, mac';
const SELECT_KEYS = `SELECT ${KEY_COLUMNS} FROM keys WHERE tenant = $1 AND algorithm = $2`;
const API_KEY_COLUMNS = 'id, digest, hash, tenant, scopes, created_at, revoked_at, mac';

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
  readonly #maxIdempotencyPerTenant: number;
  #reservations = 0;
  #takes = 0;
  readonly #rows = new RowGuard();
  /** The Idempotency-Key reservation of the request running in this async context, if any. */
  readonly #idempotencyContext = new AsyncLocalStorage<{ tenant: string; key: string; owner: string }>();

  private constructor(url: string, pool: pg.Pool, maxIdempotencyPerTenant: number) {
    this.location = redactDatabaseUrl(url);
    this.#pool = pool;
    this.#maxIdempotencyPerTenant = maxIdempotencyPerTenant;
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
    const store = new PostgresStore(url, pool, options.maxIdempotencyRecordsPerTenant ?? DEFAULT_MAX_IDEMPOTENCY_RECORDS_PER_TENANT);
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
    this.#rows.assertAttached();
    const { rows } = await this.#query<KeyRow>(`${SELECT_KEYS} AND key_version = $3`, [tenant, algorithm, version]);
    return this.#checkedKeys(tenant, algorithm, rows)[0];
  }

  async active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
    this.#rows.assertAttached();
    const { rows } = await this.#query<KeyRow>(`${SELECT_KEYS} AND status = 'active'`, [tenant, algorithm]);
    return this.#checkedKeys(tenant, algorithm, rows)[0];
  }

  async list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage> {
    this.#rows.assertAttached();
    // One statement, so the page and the count see the same snapshot; with a status, both are
    // ranges of `keys_by_status` (or `one_active_key`), without one of the primary key.
    const byStatus = query.status === undefined ? '' : ' AND status = $5';
    const { rows } = await this.#query<KeyRow & { total: string }>(
      `SELECT t.total, page.* FROM
         (SELECT count(*) AS total FROM keys WHERE tenant = $1 AND algorithm = $2${byStatus}) t
         LEFT JOIN (${SELECT_KEYS}${byStatus} AND key_version > $3 ORDER BY key_version LIMIT $4) page ON TRUE
       ORDER BY page.key_version`,
      [tenant, algorithm, query.after, query.limit, ...(query.status === undefined ? [] : [query.status])],
    );
    return {
      keys: this.#checkedKeys(
        tenant,
        algorithm,
        rows.filter((row) => row.key_version !== null),
      ),
      total: Number(rows[0]?.total ?? 0),
    };
  }

  /** Key rows, each checked against its MAC; IntegrityError on the first that fails. */
  #checkedKeys(tenant: string, algorithm: Algorithm, rows: readonly KeyRow[]): StoredKey[] {
    return rows.map((row) => this.#rows.key(tenant, algorithm, toStoredKey(row), row.mac));
  }

  async update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T> {
    const integrity = this.#rows.integrity;
    const reservation = this.#idempotencyContext.getStore();
    return this.#transaction(async (q) => {
      await q('SELECT pg_advisory_xact_lock($1, hashtext($2))', [KEYRING_LOCK_CLASS, `${tenant}\n${algorithm}`]);
      // The few rows the lifecycle rule needs, each an index lookup: the highest version (a
      // backward primary-key scan), the active key and the targeted one (src/stores/keystore.ts).
      const { rows } = await q<KeyRow & { max_version: string }>(
        `SELECT coalesce((SELECT key_version FROM keys WHERE tenant = $1 AND algorithm = $2 ORDER BY key_version DESC LIMIT 1), 0) AS max_version,
           k.* FROM (VALUES (1)) AS one (x)
           LEFT JOIN (${SELECT_KEYS} AND status = 'active' UNION ALL ${SELECT_KEYS} AND key_version = $3) k ON TRUE`,
        [tenant, algorithm, target ?? 0],
      );
      const maxVersion = Number(rows[0]!.max_version);
      const found = this.#checkedKeys(
        tenant,
        algorithm,
        rows.filter((row) => row.key_version !== null),
      );
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
        const mac = Buffer.from(integrity.keyRowMac(tenant, algorithm, key));
        if (key.key_version > maxVersion) {
          await q(
            'INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
            [tenant, algorithm, key.key_version, key.status, key.public_key, key.created_at, seed, mac],
          );
        } else {
          const updated = await q(
            'UPDATE keys SET status = $1, public_key = $2, created_at = $3, wrapped_seed = $4, mac = $5 WHERE tenant = $6 AND algorithm = $7 AND key_version = $8',
            [key.status, key.public_key, key.created_at, seed, mac, tenant, algorithm, key.key_version],
          );
          if (updated.rowCount !== 1) throw new Error(`Key version ${key.key_version} to overwrite is not stored`);
        }
      }
      // The reservation must still be ours: if a repeat took it over while this request stalled,
      // throwing here rolls this keyring change back (the new owner runs it instead).
      if (reservation) {
        const marked = await q(
          'UPDATE idempotency SET committed = TRUE WHERE tenant = $1 AND key = $2 AND owner = $3 AND response IS NULL',
          [reservation.tenant, reservation.key, reservation.owner],
        );
        if (marked.rowCount !== 1) throw new ReservationLostError();
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

  // --- integrity ------------------------------------------------------------------------------

  /**
   * Gives the store the keys derived from the master key (integrity.ts); until then, reading or
   * writing keys or API keys throws. `onTamper` hears which row failed its check (never its data).
   */
  attachIntegrity(integrity: Integrity, onTamper: (row: string) => void = () => {}): void {
    this.#rows.attach(integrity, onTamper);
  }

  /** Rows written before migration 2 (no MAC yet), for `qpher migrate`. */
  async legacyRows(): Promise<{ keys: LegacyKeyRow[]; apiKeys: number }> {
    const keys = await this.#query<KeyRow & { tenant: string; algorithm: Algorithm }>(
      `SELECT tenant, algorithm, ${KEY_COLUMNS} FROM keys WHERE mac IS NULL ORDER BY tenant, algorithm, key_version`,
    );
    const apiKeys = await this.#query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE mac IS NULL');
    return {
      keys: keys.rows.map((row) => ({ tenant: row.tenant, algorithm: row.algorithm, key: toStoredKey(row) })),
      apiKeys: apiKeys.rows[0]!.n,
    };
  }

  /**
   * Seals legacy rows with their MACs, in one transaction: the key rows given (which the caller
   * has checked), each only if still unsealed and unchanged, and every unsealed API-key row.
   * Returns how many of each were sealed.
   */
  async sealLegacyRows(checked: readonly LegacyKeyRow[]): Promise<{ keys: number; apiKeys: number }> {
    const integrity = this.#rows.integrity;
    return this.#transaction(async (q) => {
      let keys = 0;
      for (const { tenant, algorithm, key } of checked) {
        const sealed = await q(
          'UPDATE keys SET mac = $1 WHERE tenant = $2 AND algorithm = $3 AND key_version = $4 AND mac IS NULL AND status = $5 AND public_key = $6 AND created_at = $7 AND wrapped_seed = $8',
          [
            Buffer.from(integrity.keyRowMac(tenant, algorithm, key)),
            tenant,
            algorithm,
            key.key_version,
            key.status,
            key.public_key,
            key.created_at,
            Buffer.from(key.wrapped_seed),
          ],
        );
        keys += sealed.rowCount ?? 0;
      }
      let apiKeys = 0;
      const legacy = await q<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE mac IS NULL FOR UPDATE`);
      for (const row of legacy.rows.map(toApiKeyRow)) {
        const sealed = await q('UPDATE api_keys SET mac = $1 WHERE id = $2 AND mac IS NULL', [
          Buffer.from(integrity.apiKeyRowMac(row)),
          row.id,
        ]);
        apiKeys += sealed.rowCount ?? 0;
      }
      return { keys, apiKeys };
    });
  }

  // --- API keys ---------------------------------------------------------------------------------

  /**
   * The record of a presented API key: found by its HMAC digest, or (a legacy row, sealed by
   * `qpher migrate`) by its plain SHA-256, in which case the row is upgraded to the HMAC digest
   * at once (only if nobody changed it meanwhile). Every row found is checked against its MAC.
   */
  async findApiKey(apiKey: string): Promise<ApiKeyRecord | undefined> {
    const integrity = this.#rows.integrity;
    const digest = integrity.apiKeyDigest(apiKey);
    const found = await this.#query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE digest = $1`, [Buffer.from(digest)]);
    if (found.rows[0]) return toApiKeyRecord(this.#rows.apiKey(toApiKeyRow(found.rows[0])));
    const legacy = await this.#query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [
      Buffer.from(legacyApiKeyHash(apiKey)),
    ]);
    if (!legacy.rows[0]) return undefined;
    const row = this.#rows.apiKey(toApiKeyRow(legacy.rows[0]));
    const upgraded: ApiKeyRow = { ...row, digest, hash: null, mac: null };
    upgraded.mac = integrity.apiKeyRowMac(upgraded);
    await this.#query('UPDATE api_keys SET digest = $1, hash = NULL, mac = $2 WHERE id = $3 AND mac = $4', [
      Buffer.from(digest),
      Buffer.from(upgraded.mac),
      row.id,
      Buffer.from(row.mac!),
    ]);
    return toApiKeyRecord(upgraded);
  }

  /** Creates an API key for `tenant`; returns the key (shown once, never stored) and its id. */
  async issueApiKey(tenant: string, scopes: readonly Scope[], now: Date = new Date()): Promise<{ key: string; id: string }> {
    const { key, row, mac } = this.#rows.integrity.newApiKeyRow(tenant, scopes, now);
    await this.#query(
      'INSERT INTO api_keys (id, digest, hash, tenant, scopes, created_at, revoked_at, mac) VALUES ($1, $2, NULL, $3, $4, $5, NULL, $6)',
      [row.id, Buffer.from(row.digest), row.tenant, row.scopes, row.created_at, Buffer.from(mac)],
    );
    return { key, id: row.id };
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.#query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map((row) => toApiKeyRecord(this.#rows.apiKey(toApiKeyRow(row))));
  }

  /** Returns false when no unrevoked key has this id. */
  async revokeApiKey(id: string, now: Date = new Date()): Promise<boolean> {
    const integrity = this.#rows.integrity;
    return this.#transaction(async (q) => {
      const found = (await q<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1 FOR UPDATE`, [id])).rows[0];
      if (!found) return false;
      const row = this.#rows.apiKey(toApiKeyRow(found));
      if (row.revoked_at !== null) return false;
      const revoked: ApiKeyRow = { ...row, revoked_at: now.toISOString(), mac: null };
      revoked.mac = integrity.apiKeyRowMac(revoked);
      const result = await q('UPDATE api_keys SET revoked_at = $1, mac = $2 WHERE id = $3', [
        revoked.revoked_at,
        Buffer.from(revoked.mac),
        id,
      ]);
      return result.rowCount === 1;
    });
  }

  // --- idempotency ------------------------------------------------------------------------------

  async reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation> {
    if (this.#reservations++ % IDEMPOTENCY_SWEEP_EVERY === 0) {
      // Small batches through the time index, so a sweep never holds locks for long however many
      // records expired.
      await this.#query(
        // By row address (a TID scan); the outer condition is rechecked on a row that another
        // instance reused meanwhile, so a fresh record is never swept.
        `DELETE FROM idempotency WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency WHERE updated_ms < $1 ORDER BY updated_ms LIMIT ${IDEMPOTENCY_SWEEP_BATCH})) AND updated_ms < $1`,
        [nowMs - IDEMPOTENCY_TTL_MS],
      );
    }
    return this.#transaction(async (q) => {
      const owner = newOwnerToken();
      // A release may delete the row between the INSERT and the SELECT: then try again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await q(
          'INSERT INTO idempotency (tenant, key, fingerprint, response, updated_ms, committed, owner) VALUES ($1, $2, $3, NULL, $4, FALSE, $5) ON CONFLICT (tenant, key) DO NOTHING',
          [tenant, key, fingerprint, nowMs, owner],
        );
        if (inserted.rowCount === 1) {
          await this.#makeRoom(q, tenant);
          return { state: 'acquired', owner };
        }
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
        // Taken over (or expired and reused) under a new owner: the old owner can no longer
        // commit, complete or release it.
        await q(
          'UPDATE idempotency SET fingerprint = $3, response = NULL, updated_ms = $4, committed = FALSE, owner = $5 WHERE tenant = $1 AND key = $2',
          [tenant, key, fingerprint, nowMs, owner],
        );
        return { state: 'acquired', owner };
      }
      return { state: 'pending' };
    });
  }

  /**
   * After a new record of `tenant`: past the tenant's cap, its oldest answered records make room
   * (never one still running); if none can, throws (rolling the new record back). The tenant's
   * advisory lock makes count and eviction exact across instances; taken after the INSERT, so
   * the count (a new snapshot in READ COMMITTED) sees every record committed before it.
   */
  async #makeRoom(q: Query, tenant: string): Promise<void> {
    await q('SELECT pg_advisory_xact_lock($1, hashtext($2))', [IDEMPOTENCY_LOCK_CLASS, tenant]);
    const cap = this.#maxIdempotencyPerTenant;
    const { rows } = await q<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT 1 FROM idempotency WHERE tenant = $1 LIMIT $2) AS r', [
      tenant,
      cap + 1_000,
    ]);
    const excess = rows[0]!.n - cap;
    if (excess <= 0) return;
    const evicted = await q(
      'DELETE FROM idempotency WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency WHERE tenant = $1 AND response IS NOT NULL ORDER BY updated_ms LIMIT $2)) AND tenant = $1 AND response IS NOT NULL',
      [tenant, excess],
    );
    if ((evicted.rowCount ?? 0) < excess) {
      throw new ServiceUnavailableError(
        'Service temporarily unavailable: too many Idempotency-Key requests of this tenant are still running; retry shortly',
      );
    }
  }

  async complete(tenant: string, key: string, owner: string, response: StoredResponse, nowMs: number): Promise<void> {
    await this.#query('UPDATE idempotency SET response = $1, updated_ms = $2 WHERE tenant = $3 AND key = $4 AND owner = $5', [
      JSON.stringify(response),
      nowMs,
      tenant,
      key,
      owner,
    ]);
  }

  async release(tenant: string, key: string, owner: string): Promise<void> {
    await this.#query('DELETE FROM idempotency WHERE tenant = $1 AND key = $2 AND owner = $3 AND response IS NULL AND committed = FALSE', [
      tenant,
      key,
      owner,
    ]);
  }

  run<T>(tenant: string, key: string, owner: string, fn: () => Promise<T>): Promise<T> {
    return this.#idempotencyContext.run({ tenant, key, owner }, fn);
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

  // --- master-key rotation ----------------------------------------------------------------------

  /**
   * One transaction that first locks `keys` and `meta` against writes (EXCLUSIVE: other instances
   * still read, and queue their writes until the commit), then rewrites the seeds in batches of
   * REWRAP_BATCH rows, one UPDATE … FROM unnest(…) each. A client killed midway loses its
   * connection, and PostgreSQL rolls everything back.
   */
  async rewrapAll(rewrap: Rewrap): Promise<number> {
    this.#rows.assertAttached();
    return this.#transaction(async (q) => {
      await q('LOCK TABLE keys, api_keys, meta IN EXCLUSIVE MODE');
      const { rows } = await q<KeyRow & { tenant: string; algorithm: string }>(
        `SELECT tenant, algorithm, ${KEY_COLUMNS} FROM keys ORDER BY tenant, algorithm, key_version`,
      );
      for (let start = 0; start < rows.length; start += REWRAP_BATCH) {
        const batch = rows.slice(start, start + REWRAP_BATCH);
        for (const row of batch) this.#rows.key(row.tenant, row.algorithm, toStoredKey(row), row.mac);
        const wrapped = await Promise.all(
          batch.map((row) =>
            rewrap.seed({
              tenant: row.tenant,
              algorithm: row.algorithm,
              key_version: Number(row.key_version),
              public_key: row.public_key,
              wrapped_seed: new Uint8Array(row.wrapped_seed),
            }),
          ),
        );
        const macs = batch.map((row, i) =>
          Buffer.from(rewrap.integrity.keyRowMac(row.tenant, row.algorithm, { ...toStoredKey(row), wrapped_seed: wrapped[i]! })),
        );
        await q(
          `UPDATE keys SET wrapped_seed = v.wrapped_seed, mac = v.mac
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[]) AS v(tenant, algorithm, key_version, wrapped_seed, mac)
           WHERE keys.tenant = v.tenant AND keys.algorithm = v.algorithm AND keys.key_version = v.key_version`,
          [
            batch.map((r) => r.tenant),
            batch.map((r) => r.algorithm),
            batch.map((r) => String(r.key_version)),
            wrapped.map((w) => Buffer.from(w)),
            macs,
          ],
        );
        rewrap.progress?.(start + batch.length, rows.length);
      }
      const apiKeys = (await q('SELECT * FROM api_keys')).rows.map((row) => this.#rows.apiKey(toApiKeyRow(row as never)));
      for (const row of apiKeys) {
        await q('UPDATE api_keys SET mac = $1 WHERE id = $2', [Buffer.from(rewrap.integrity.apiKeyRowMac(row)), row.id]);
      }
      for (const meta of rewrap.meta) {
        await q('INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value', [
          meta.name,
          Buffer.from(await meta.value()),
        ]);
      }
      return rows.length;
    });
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

/** node-postgres returns BYTEA as Buffer; the MAC covers plain bytes. */
function toApiKeyRow(row: ApiKeyRow): ApiKeyRow {
  return {
    ...row,
    digest: row.digest ? new Uint8Array(row.digest) : null,
    hash: row.hash ? new Uint8Array(row.hash) : null,
    mac: row.mac ? new Uint8Array(row.mac) : null,
  };
}

function toApiKeyRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    scopes: row.scopes === '' ? [] : (row.scopes.split(',') as Scope[]),
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}
