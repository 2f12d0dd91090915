/**
 * Many `qpher serve` processes on one PostgreSQL database (a throwaway cluster from
 * test/support/postgres.ts): they start together, share API keys, keyrings and rate limits with no
 * stale state, keep every acknowledged rotate when one is killed with -9 mid-load, refuse a
 * different master key, answer 503 (never a hang or a 500) with a full pool or while PostgreSQL
 * restarts, and recover by themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  b64,
  call,
  createApiKey,
  expectEnvelope,
  freshDirs,
  type Reply,
  runCli,
  StartFailure,
  type ServerProcess,
  startServer,
} from '../../../test/support/server.js';
import { type PostgresCluster, startPostgres } from '../../../test/support/postgres.js';
import { MIGRATIONS } from '../src/postgres-schema.js';

const freshDir = freshDirs();
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_MASTER_KEY = Buffer.alloc(32, 9).toString('base64');

let cluster: PostgresCluster;
let url: string;
let a: ServerProcess;
let b: ServerProcess;
let key: string;

/** An instance on the shared database, with a data directory of its own. */
async function instance(args: string[] = [], env: NodeJS.ProcessEnv = { QPHER_MASTER_KEY: MASTER_KEY }): Promise<ServerProcess> {
  return startServer(await freshDir(), ['--database', url, '--rate-limit', '100000:100000', ...args], env);
}

async function newKey(tenant: string, scopes?: string): Promise<string> {
  return createApiKey(await freshDir(), tenant, scopes, { args: ['--database', url], env: { QPHER_MASTER_KEY: MASTER_KEY } });
}

/** A whole keyring from one page of the largest size (`total` proves nothing was left on a next page). */
function versionsOf(reply: Reply): { key_version: number; status: string }[] {
  const page = expectEnvelope(reply, 200).data;
  expect(page.total).toBe(page.keys.length);
  return page.keys;
}

beforeAll(async () => {
  cluster = await startPostgres();
  url = await cluster.createDatabase('shared');
  // Both on a fresh database at once: the migration runs exactly once, under its lock.
  [a, b] = await Promise.all([instance(), instance()]);
  key = await newKey('acme');
}, 120_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await cluster?.stop();
});

// Each test starts server processes: generous timeouts for a loaded machine.
describe('many instances on one PostgreSQL database', { timeout: 120_000 }, () => {
  it('start together and report the database in /readyz', async () => {
    for (const server of [a, b]) {
      expect(expectEnvelope(await call(server.url, 'GET', '/readyz'), 200).data).toMatchObject({ status: 'ready', store: 'postgres' });
    }
    const { rows } = await cluster.query('SELECT count(*)::int AS n FROM schema_migrations', url);
    expect(rows[0].n).toBe(MIGRATIONS.length);
  });

  it('share API keys: the CLI works on the database, and a revoke is seen by every instance at once', async () => {
    // The CLI needs the master key on a database too: API keys are stored as HMACs under it.
    const cliEnv = { QPHER_DATABASE_URL: url, QPHER_MASTER_KEY: MASTER_KEY };
    const extra = await createApiKey(await freshDir(), 'acme', 'kms:read', { env: cliEnv });
    for (const server of [a, b]) expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: extra }), 200);
    const listed = await runCli(['api-key', 'list', '--json', '--database', url], { QPHER_MASTER_KEY: MASTER_KEY });
    expect(listed.code).toBe(0);
    const id = (JSON.parse(listed.stdout) as { id: string; scopes: string[] }[]).find((k) => k.scopes.join() === 'kms:read')!.id;
    expect((await runCli(['api-key', 'revoke', id, '--database', url], { QPHER_MASTER_KEY: MASTER_KEY })).code).toBe(0);
    // No cache: the very next request on either instance is refused.
    for (const server of [a, b])
      expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: extra }), 401, 'ERR_AUTH_001');
  });

  it('share keyrings with no stale state: a rotate, retire or archive on one is seen by the next request to the other', async () => {
    const k = { key };
    expectEnvelope(await call(a.url, 'POST', '/api/v1/kms/keys/generate', { ...k, body: { algorithm: 'Kyber768' } }), 201);
    const ciphertext = expectEnvelope(
      await call(b.url, 'POST', '/api/v1/kem/encrypt', { ...k, body: { plaintext: b64('hi'), key_version: 1 } }),
      200,
    ).data.ciphertext;
    expectEnvelope(await call(a.url, 'POST', '/api/v1/kms/keys/rotate', { ...k, body: { algorithm: 'Kyber768' } }), 200);
    expect(expectEnvelope(await call(b.url, 'GET', '/api/v1/kms/keys/active?algorithm=Kyber768', k), 200).data.key_version).toBe(2);
    expectEnvelope(await call(b.url, 'POST', '/api/v1/kms/keys/retire', { ...k, body: { algorithm: 'Kyber768', key_version: 2 } }), 200);
    expectEnvelope(
      await call(a.url, 'POST', '/api/v1/kem/encrypt', { ...k, body: { plaintext: b64('x'), key_version: 2 } }),
      403,
      'ERR_FORBIDDEN_001',
    );
    expectEnvelope(await call(a.url, 'POST', '/api/v1/kem/decrypt', { ...k, body: { ciphertext, key_version: 1 } }), 200);
    expectEnvelope(await call(a.url, 'POST', '/api/v1/kms/keys/archive', { ...k, body: { algorithm: 'Kyber768', key_version: 1 } }), 200);
    expectEnvelope(
      await call(b.url, 'POST', '/api/v1/kem/decrypt', { ...k, body: { ciphertext, key_version: 1 } }),
      403,
      'ERR_FORBIDDEN_001',
    );
  });

  it('cap versions per keyring with --max-key-versions (403 naming the cap), and page a shared keyring', async () => {
    const capped = await instance(['--max-key-versions', '3']);
    try {
      const k = { key: await newKey('capped') };
      const rotate = (server: ServerProcess) =>
        call(server.url, 'POST', '/api/v1/kms/keys/rotate', { ...k, body: { algorithm: 'X-Wing' } });
      expectEnvelope(await rotate(a), 200);
      expectEnvelope(await rotate(capped), 200);
      expectEnvelope(await rotate(capped), 200);
      const full = await rotate(capped);
      expectEnvelope(full, 403, 'ERR_FORBIDDEN_001');
      expect(full.body.error.message).toBe('Key version limit reached: X-Wing keyrings hold at most 3 versions, and this one has 3');
      // The cap is each instance's setting: one with the default still rotates.
      expectEnvelope(await rotate(a), 200);
      // Pages of one key, read from either instance, add up to the whole keyring.
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const query = `/api/v1/kms/keys?algorithm=X-Wing&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = expectEnvelope(await call((i % 2 ? a : capped).url, 'GET', query, k), 200).data;
        expect(page.total).toBe(4);
        seen.push(...page.keys.map((x: { key_version: number }) => x.key_version));
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      expect(seen).toEqual([1, 2, 3, 4]);
      const retired = expectEnvelope(await call(capped.url, 'GET', '/api/v1/kms/keys?algorithm=X-Wing&status=retired&limit=2', k), 200);
      expect(retired.data).toMatchObject({ total: 3, keys: [{ key_version: 1 }, { key_version: 2 }], next_cursor: expect.any(String) });
    } finally {
      await capped.stop();
    }
  });

  it('replay an Idempotency-Key across instances', async () => {
    const headers = { 'Idempotency-Key': 'rotate-across-1' };
    const first = await call(a.url, 'POST', '/api/v1/kms/keys/rotate', { key, headers, body: { algorithm: 'Kyber768' } });
    const again = await call(b.url, 'POST', '/api/v1/kms/keys/rotate', { key, headers, body: { algorithm: 'Kyber768' } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(expectEnvelope(again, 200).data).toEqual(expectEnvelope(first, 200).data);
  });

  it('run an Idempotency-Key rotate once when a stalled first request is taken over on another instance', async () => {
    // Both instances wait up to 30 s for a lock, so the test decides who stalls and for how long.
    const [c, d] = await Promise.all([instance(['--db-statement-timeout-ms', '30000']), instance(['--db-statement-timeout-ms', '30000'])]);
    const owner = await newKey('stall');
    const k = { key: owner };
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      expectEnvelope(await call(c.url, 'POST', '/api/v1/kms/keys/generate', { ...k, body: { algorithm: 'Kyber768' } }), 201);
      const headers = { 'Idempotency-Key': 'stalled-rotate-1' };
      const waiters = async () =>
        (await holder.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0].n as number;
      const until = async (n: number) => {
        for (let i = 0; i < 600 && (await waiters()) < n; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await waiters()).toBe(n);
      };
      // The keyring's lock (postgres.ts takes it first in every keyring change) is held here: the
      // first rotate reserves the key, then stalls on it.
      await holder.query('SELECT pg_advisory_lock(1903, hashtext($1))', ['stall\nKyber768']);
      const first = call(c.url, 'POST', '/api/v1/kms/keys/rotate', { ...k, headers, body: { algorithm: 'Kyber768' } });
      await until(1);
      // As if it had stalled past the pending time (60 s): a repeat on another instance takes over.
      expect(
        (await holder.query("UPDATE idempotency SET updated_ms = updated_ms - 61000 WHERE tenant = 'stall' AND response IS NULL")).rowCount,
      ).toBe(1);
      const repeat = call(d.url, 'POST', '/api/v1/kms/keys/rotate', { ...k, headers, body: { algorithm: 'Kyber768' } });
      await until(2);
      await holder.query('SELECT pg_advisory_unlock(1903, hashtext($1))', ['stall\nKyber768']);
      const [stalled, taken] = await Promise.all([first, repeat]);
      // The stalled one lost its reservation: its rotate was rolled back, whichever ran first.
      const lost = expectEnvelope(stalled, 503, 'ERR_SERVICE_001');
      expect(lost.error.message).toMatch(/ran past its Idempotency-Key reservation.*rolled back/);
      expect(expectEnvelope(taken, 200).data.key_version).toBe(2);
      const replay = await call(c.url, 'POST', '/api/v1/kms/keys/rotate', { ...k, headers, body: { algorithm: 'Kyber768' } });
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(expectEnvelope(replay, 200).data).toEqual(taken.body.data);
      expect(versionsOf(await call(d.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768&limit=1000', k)).map((v) => v.key_version)).toEqual([
        1, 2,
      ]);
    } finally {
      await holder.end();
      await Promise.all([c.stop(), d.stop()]);
    }
  });

  it('hold one rate budget per API key across all instances together', async () => {
    const [c, d] = await Promise.all([instance(['--rate-limit', '0.1:6']), instance(['--rate-limit', '0.1:6'])]);
    try {
      const limited = await newKey('limited', 'kms:read');
      const replies: Reply[] = [];
      for (let i = 0; i < 12; i++)
        replies.push(await call(i % 2 ? d.url : c.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: limited }));
      const allowed = replies.filter((r) => r.status === 200).length;
      // Per instance, 12 would pass (6 each); shared, the burst of 6 (plus one token per 10 s of refill).
      expect(allowed).toBeGreaterThanOrEqual(6);
      expect(allowed).toBeLessThanOrEqual(7);
      const refused = replies.filter((r) => r.status === 429);
      expect(refused.length).toBe(12 - allowed);
      for (const r of refused) {
        expectEnvelope(r, 429, 'ERR_RATE_001');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await Promise.all([c.stop(), d.stop()]);
    }
  });

  it('refuse to start with another master key, or with none', async () => {
    const wrong = await instance([], { QPHER_MASTER_KEY: OTHER_MASTER_KEY }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(StartFailure);
    expect((wrong as StartFailure).code).toBe(1);
    expect((wrong as StartFailure).output).toMatch(/does not match.*Refusing to start/s);
    expect((wrong as StartFailure).output).not.toContain(OTHER_MASTER_KEY);
    const none = await instance([], {}).catch((e: unknown) => e);
    expect((none as StartFailure).output).toMatch(/No master key: every instance on a shared database needs the same one/);
  });

  it('lose no acknowledged rotate and skip or repeat no version when one instance is killed -9 mid-load', async () => {
    expectEnvelope(await call(a.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Dilithium3' } }), 201);
    const acknowledged: number[] = [];
    let stop = false;
    const worker = async (server: ServerProcess) => {
      while (!stop) {
        try {
          const reply = await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Dilithium3' } });
          if (reply.status === 200) acknowledged.push(reply.body.data.key_version);
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const workers = [a, a, a, b, b, b].map(worker);
    await new Promise((r) => setTimeout(r, 500 + Math.random() * 500));
    await a.kill9();
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(workers);
    a = await instance();
    const keys = versionsOf(await call(a.url, 'GET', '/api/v1/kms/keys?algorithm=Dilithium3&limit=1000', { key }));
    const versions = keys.map((k) => k.key_version);
    expect(acknowledged.length).toBeGreaterThan(2);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    for (const v of acknowledged) expect(versions).toContain(v);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    expect(keys.filter((k) => k.status === 'active').map((k) => k.key_version)).toEqual([versions.length]);
  });

  it('answer 503 with Retry-After, not a hang, when the pool is full', async () => {
    const small = await instance(['--db-pool-size', '1', '--db-acquire-timeout-ms', '300', '--db-statement-timeout-ms', '600']);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE keys IN ACCESS EXCLUSIVE MODE');
      const started = performance.now();
      const replies = await Promise.all(
        Array.from({ length: 4 }, () => call(small.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key })),
      );
      expect(performance.now() - started).toBeLessThan(5000);
      for (const reply of replies) {
        expectEnvelope(reply, 503, 'ERR_SERVICE_001');
        expect(reply.headers.get('retry-after')).toBe('1');
      }
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expectEnvelope(await call(small.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key }), 200);
    await small.stop();
  });

  it('answer 503 with Retry-After while PostgreSQL restarts under load, never a 500 or a hang, and recover by themselves', async () => {
    const outcomes: { status: number; code?: string; retryAfter: string | null; ms: number }[] = [];
    let stop = false;
    const worker = async (server: ServerProcess, i: number) => {
      while (!stop) {
        const started = performance.now();
        const reply =
          i % 2
            ? await call(server.url, 'GET', '/api/v1/kms/keys/active?algorithm=Kyber768', { key })
            : await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Kyber768' } });
        outcomes.push({
          status: reply.status,
          code: reply.body?.error?.code,
          retryAfter: reply.headers.get('retry-after'),
          ms: performance.now() - started,
        });
        if (reply.status === 503) await new Promise((r) => setTimeout(r, 50));
      }
    };
    const workers = [a, b, a, b].map(worker);
    await new Promise((r) => setTimeout(r, 300));
    await cluster.stopServer();
    const ready = expectEnvelope(await call(a.url, 'GET', '/readyz'), 503, 'ERR_SERVICE_001');
    expect(ready.error.message).toMatch(/not ready/);
    await new Promise((r) => setTimeout(r, 1000));
    await cluster.start();
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(workers);
    expect(outcomes.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    for (const o of outcomes) {
      expect([200, 503]).toContain(o.status);
      if (o.status === 503) expect(o).toMatchObject({ code: 'ERR_SERVICE_001', retryAfter: '1' });
      // Bounded by the acquire and statement timeouts (2 s, 3 s), never a hang; slack for a loaded machine.
      expect(o.ms).toBeLessThan(10_000);
    }
    // Recovered: both instances answer and agree, with no restart of their own.
    for (const server of [a, b]) {
      expect(expectEnvelope(await call(server.url, 'GET', '/readyz'), 200).data.store).toBe('postgres');
      expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Kyber768' } }), 200);
    }
    const keys = versionsOf(await call(b.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768&limit=1000', { key }));
    expect(keys.map((k) => k.key_version)).toEqual(Array.from({ length: keys.length }, (_, i) => i + 1));
  });
});
