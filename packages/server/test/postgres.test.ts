/**
 * The PostgreSQL store on its own, against a throwaway cluster (test/support/postgres.ts): the
 * ServerStore contract (store-behaviour.ts), migrations under concurrent starts, the shared rate
 * limiter, and the faults that must become a retryable 503 rather than a hang or a raw error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ServiceUnavailableError } from 'qpher/host';
import { PostgresStore, redactDatabaseUrl } from '../src/postgres.js';
import { MIGRATIONS } from '../src/postgres-schema.js';
import { describeServerStore, key } from './store-behaviour.js';
import { type PostgresCluster, startPostgres } from '../../../test/support/postgres.js';

let cluster: PostgresCluster;
let url: string;
let store: PostgresStore;

beforeAll(async () => {
  cluster = await startPostgres();
  url = await cluster.createDatabase('store');
  store = await PostgresStore.open(url);
}, 120_000);
afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

describeServerStore('PostgresStore', () => store);

describe('PostgresStore', () => {
  it('migrates a fresh database once when many instances start together, and refuses a newer schema', async () => {
    const fresh = await cluster.createDatabase('migrate');
    const stores = await Promise.all(Array.from({ length: 6 }, () => PostgresStore.open(fresh, { poolSize: 2 })));
    await Promise.all(stores.map((s) => s.close()));
    const { rows } = await cluster.query('SELECT version FROM schema_migrations ORDER BY version', fresh);
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    await cluster.query(`INSERT INTO schema_migrations (version) VALUES (${MIGRATIONS.length + 1})`, fresh);
    await expect(PostgresStore.open(fresh)).rejects.toThrow(
      `the database has schema version ${MIGRATIONS.length + 1}; this qpher understands up to ${MIGRATIONS.length}`,
    );
  });

  it('brings a schema-1 database with keys to the current schema, keys intact', async () => {
    const old = await cluster.createDatabase('schema1');
    await cluster.query(
      `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
       ${MIGRATIONS[0]}
       INSERT INTO schema_migrations (version) VALUES (1);
       INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed)
         VALUES ('t', 'Kyber768', 1, 'retired', 'pk1', 'c', '\\x01'), ('t', 'Kyber768', 2, 'active', 'pk2', 'c', '\\x02');`,
      old,
    );
    const upgraded = await PostgresStore.open(old);
    try {
      const { rows } = await cluster.query('SELECT version FROM schema_migrations ORDER BY version', old);
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      const indexes = await cluster.query("SELECT indexname FROM pg_indexes WHERE tablename = 'keys' ORDER BY indexname", old);
      expect(indexes.rows.map((r) => r.indexname)).toEqual(['keys_by_status', 'keys_pkey', 'one_active_key']);
      expect(await upgraded.list('t', 'Kyber768', { status: 'retired', after: 0, limit: 10 })).toMatchObject({
        keys: [{ key_version: 1, public_key: 'pk1', wrapped_seed: new Uint8Array([1]) }],
        total: 1,
      });
      expect((await upgraded.active('t', 'Kyber768'))?.key_version).toBe(2);
    } finally {
      await upgraded.close();
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
    const filler = await PostgresStore.open(fresh, { poolSize: 1 });
    // No autovacuum: its ANALYZE would add its own page reads, and give the planner statistics.
    await cluster.query('ALTER TABLE keys SET (autovacuum_enabled = false)', fresh);
    const history = Array.from({ length: 3000 }, (_, i) => key(i + 1, i === 2999 ? 'active' : i % 2 ? 'retired' : 'archived'));
    await filler.update('big', 'Kyber768', () => ({ put: history, result: null }));
    await filler.close();
    const before = await settled(0);

    const reader = await PostgresStore.open(fresh, { poolSize: 1 });
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
    const other = await PostgresStore.open(url, { poolSize: 2 });
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
    const small = await PostgresStore.open(url, { poolSize: 1, acquireTimeoutMs: 300, statementTimeoutMs: 400 });
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
    const own = await PostgresStore.open(url, { acquireTimeoutMs: 500, statementTimeoutMs: 500 });
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
