/**
 * The PostgreSQL store on its own, against a throwaway cluster (test/support/postgres.ts): the
 * ServerStore contract (store-behaviour.ts), migrations under concurrent starts and from a
 * database of the previous schema (rows without MACs, SHA-256 API keys), the shared rate limiter,
 * and the faults that must become a retryable 503 rather than a hang or a raw error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ServiceUnavailableError } from 'qpher/host';
import { PostgresStore, redactDatabaseUrl } from '../src/postgres.js';
import { IDEMPOTENCY_SWEEP_BATCH } from '../src/idempotency.js';
import { MIGRATIONS } from '../src/postgres-schema.js';
import { describeServerStore, key, type OpenedStore, TEST_INTEGRITY } from './store-behaviour.js';
import { type PostgresCluster, startPostgres } from '../../../test/support/postgres.js';

let cluster: PostgresCluster;
let url: string;
let store: PostgresStore;
let databases = 0;

/** Opens the store with the integrity keys of the contract attached. */
async function openAttached(databaseUrl: string, options: Parameters<typeof PostgresStore.open>[1] = {}): Promise<PostgresStore> {
  const opened = await PostgresStore.open(databaseUrl, options);
  opened.attachIntegrity(TEST_INTEGRITY);
  return opened;
}

beforeAll(async () => {
  cluster = await startPostgres();
  url = await cluster.createDatabase('store');
  store = await openAttached(url);
}, 120_000);
afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

async function openPostgres(options: { maxIdempotencyRecordsPerTenant?: number } = {}): Promise<OpenedStore<PostgresStore>> {
  const databaseUrl = await cluster.createDatabase(`contract${++databases}`);
  const opened = await PostgresStore.open(databaseUrl, options);
  return {
    store: opened,
    async sql(text, params) {
      const result = await cluster.query(text, databaseUrl, params);
      return { rows: result.rows, changes: result.rowCount ?? 0 };
    },
    close: () => opened.close(),
  };
}

describeServerStore('PostgresStore', openPostgres);

describe('PostgresStore', () => {
  it('migrates a fresh database once when many instances start together, and refuses a newer schema', async () => {
    const fresh = await cluster.createDatabase('migrate');
    const stores = await Promise.all(Array.from({ length: 6 }, () => PostgresStore.open(fresh, { poolSize: 2 })));
    await Promise.all(stores.map((s) => s.close()));
    const { rows } = await cluster.query('SELECT version FROM schema_migrations ORDER BY version', fresh);
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    await cluster.query(`INSERT INTO schema_migrations (version) VALUES (${MIGRATIONS.length + 1})`, fresh);
    await expect(PostgresStore.open(fresh)).rejects.toThrow(
      new RegExp(`schema version ${MIGRATIONS.length + 1}; this qpher understands up to ${MIGRATIONS.length}`),
    );
  });

  it('migrates a database of schema 1 with its rows: they are legacy until sealed, and its SHA-256 API key still works', async () => {
    const old = await cluster.createDatabase('schema1');
    // What the previous qpher left: schema 1 only, a key row without a MAC, an API key by SHA-256.
    await cluster.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())', old);
    await cluster.query(MIGRATIONS[0]!, old);
    await cluster.query('INSERT INTO schema_migrations (version) VALUES (1)', old);
    await cluster.query(
      "INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed) VALUES ('acme', 'Kyber768', 1, 'active', 'pk1', 'then', $1)",
      old,
      [Buffer.from([1, 2, 3])],
    );
    const apiKey = `qph_${'o'.repeat(43)}`;
    await cluster.query(
      "INSERT INTO api_keys (id, hash, tenant, scopes, created_at) VALUES ('key_old', sha256($1::bytea), 'acme', 'kms:read', 'then')",
      old,
      [Buffer.from(apiKey)],
    );
    const lines: string[] = [];
    const [first, second] = await Promise.all([0, 1].map(() => PostgresStore.open(old, { poolSize: 2, log: (l) => lines.push(l) })));
    try {
      expect(lines).toEqual([`database schema migrated to version ${MIGRATIONS.length}`]);
      const { rows } = await cluster.query('SELECT version FROM schema_migrations ORDER BY version', old);
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      first!.attachIntegrity(TEST_INTEGRITY);
      second!.attachIntegrity(TEST_INTEGRITY);
      const legacy = await first!.legacyRows();
      expect(legacy.apiKeys).toBe(1);
      expect(legacy.keys).toEqual([
        {
          tenant: 'acme',
          algorithm: 'Kyber768',
          key: { key_version: 1, status: 'active', public_key: 'pk1', created_at: 'then', wrapped_seed: new Uint8Array([1, 2, 3]) },
        },
      ]);
      expect(await first!.sealLegacyRows(legacy.keys)).toEqual({ keys: 1, apiKeys: 1 });
      expect((await second!.get('acme', 'Kyber768', 1))?.public_key).toBe('pk1');
      const indexes = await cluster.query("SELECT indexname FROM pg_indexes WHERE tablename = 'keys' ORDER BY indexname", old);
      expect(indexes.rows.map((r) => r.indexname)).toEqual(['keys_by_status', 'keys_pkey', 'one_active_key']);
      expect(await second!.findApiKey(apiKey)).toMatchObject({ id: 'key_old', tenant: 'acme' });
      const [row] = (
        await cluster.query("SELECT digest IS NOT NULL AS digest, hash IS NULL AS gone FROM api_keys WHERE id = 'key_old'", old)
      ).rows;
      expect(row).toEqual({ digest: true, gone: true });
      expect(await first!.findApiKey(apiKey)).toMatchObject({ id: 'key_old' });
    } finally {
      await Promise.all([first!.close(), second!.close()]);
    }
  });

  it('sweeps expired idempotency records through the time index', async () => {
    const swept = await cluster.createDatabase('sweep');
    const s = await openAttached(swept);
    try {
      await cluster.query(
        "INSERT INTO idempotency (tenant, key, fingerprint, response, updated_ms) SELECT 'old', 'k' || i, 'f', '{}', i FROM generate_series(1, 50000) AS i",
        swept,
      );
      await cluster.query('ANALYZE idempotency', swept);
      const plan = await cluster.query(
        `EXPLAIN SELECT ctid FROM idempotency WHERE updated_ms < 100000000 ORDER BY updated_ms LIMIT ${IDEMPOTENCY_SWEEP_BATCH}`,
        swept,
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan using idempotency_updated/);
      await s.reserve('t', 'first', 'f', 100_000_000);
      const { rows } = await cluster.query('SELECT count(*)::int AS n FROM idempotency', swept);
      expect(rows[0].n).toBe(50_000 - IDEMPOTENCY_SWEEP_BATCH + 1);
    } finally {
      await s.close();
    }
  });

  it('enforces one active key and unique versions in the database itself', async () => {
    await store.update('db', 'Kyber768', () => ({ put: [key(1)], result: null }));
    await expect(
      cluster.query(
        "INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed) VALUES ('db', 'Kyber768', 2, 'active', 'x', 'y', '\\x00')",
        url,
      ),
    ).rejects.toThrow(/one_active_key/);
    await expect(
      cluster.query(
        "INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed) VALUES ('db', 'Kyber768', 1, 'retired', 'x', 'y', '\\x00')",
        url,
      ),
    ).rejects.toThrow(/keys_pkey/);
  });

  it('reads a few pages per key lookup and update, with 3,000 versions in a table not yet analysed', async () => {
    const fresh = await cluster.createDatabase('reads');
    // Buffer pages of `keys` (heap and indexes) touched so far; a backend reports them when it exits.
    const pages = async () => {
      const { rows } = await cluster.query(
        "SELECT coalesce(heap_blks_read + heap_blks_hit + idx_blks_read + idx_blks_hit, 0)::int AS n FROM pg_statio_user_tables WHERE relname = 'keys'",
        fresh,
      );
      return (rows[0]?.n as number | undefined) ?? 0;
    };
    const settled = async (above: number) => {
      for (let i = 0; i < 100; i++) {
        const n = await pages();
        if (n > above) return n;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the store backend never reported its statistics');
    };
    const filler = await openAttached(fresh, { poolSize: 1 });
    // No autovacuum: its ANALYZE would add its own page reads, and give the planner statistics.
    await cluster.query('ALTER TABLE keys SET (autovacuum_enabled = false)', fresh);
    const history = Array.from({ length: 3000 }, (_, i) => key(i + 1, i === 2999 ? 'active' : i % 2 ? 'retired' : 'archived'));
    await filler.update('big', 'Kyber768', () => ({ put: history, result: null }));
    await filler.close();
    const before = await settled(0);

    const reader = await openAttached(fresh, { poolSize: 1 });
    const rounds = 10;
    for (let i = 0; i < rounds; i++) {
      expect((await reader.get('big', 'Kyber768', 1500 + i))?.key_version).toBe(1500 + i);
      expect((await reader.active('big', 'Kyber768'))?.key_version).toBe(3000);
      const view = await reader.update('big', 'Kyber768', (ring) => ({ result: ring }), 17);
      expect(view).toMatchObject({ maxVersion: 3000, active: { key_version: 3000 }, target: { key_version: 17 } });
    }
    await reader.close();
    const touched = (await settled(before)) - before;
    // A round is a lookup by version, the active key and an update's view (three statements of a
    // few index levels and one row each: about 14 pages); walking the keyring's 3,000 entries
    // once would cost more than all ten rounds together.
    expect(touched).toBeLessThan(rounds * 20);
  });

  it('shares one token bucket per API key across instances', async () => {
    const other = await openAttached(url, { poolSize: 2 });
    try {
      const limit = { rps: 0.5, burst: 4 };
      const a = store.sharedRateLimiter(limit);
      const b = other.sharedRateLimiter(limit);
      const decisions = [];
      for (let i = 0; i < 10; i++) decisions.push(await (i % 2 ? b : a).take('key_shared'));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(4);
      expect(decisions.at(-1)).toEqual({ allowed: false, retryAfterSeconds: 2 });
      expect(await a.take('key_other')).toEqual({ allowed: true });
    } finally {
      await other.close();
    }
  });

  it('answers a lock held past the statement timeout, and a full pool, with a retryable ERR_SERVICE_001', async () => {
    const small = await openAttached(url, { poolSize: 1, acquireTimeoutMs: 300, statementTimeoutMs: 400 });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE keys IN ACCESS EXCLUSIVE MODE');
      const started = performance.now();
      // The first waits on the lock holding the pool's only connection; the second cannot get one.
      const [locked, starved] = await Promise.all([
        small.active('t', 'Kyber768').catch((e: unknown) => e),
        new Promise((r) => setTimeout(r, 50)).then(() => small.listApiKeys().catch((e: unknown) => e)),
      ]);
      expect(locked).toBeInstanceOf(ServiceUnavailableError);
      expect(starved).toBeInstanceOf(ServiceUnavailableError);
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await small.active('none', 'Kyber768')).toBeUndefined(); // the pool recovered
    await small.close();
  });

  it('answers 503 while the database is down and recovers by itself', async () => {
    const own = await openAttached(url, { acquireTimeoutMs: 500, statementTimeoutMs: 500 });
    expect(await own.ping()).toBe(true);
    await cluster.stopServer();
    try {
      await expect(own.get('t', 'Kyber768', 1)).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(own.update('t', 'Kyber768', () => ({ result: null }))).rejects.toBeInstanceOf(ServiceUnavailableError);
      expect(await own.ping()).toBe(false);
    } finally {
      await cluster.start();
    }
    expect(await own.ping()).toBe(true);
    expect((await own.list('db', 'Kyber768', { after: 0, limit: 10 })).total).toBe(1);
    await own.close();
  });

  it('never shows the password of a database URL', () => {
    expect(redactDatabaseUrl('postgres://qpher:s3cret@db:5432/qpher')).toBe('postgres://qpher:***@db:5432/qpher');
    expect(redactDatabaseUrl('postgres://qpher@db/qpher')).toBe('postgres://qpher@db/qpher');
  });
});
