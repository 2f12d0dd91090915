/**
 * The SQLite store on its own: the ServerStore contract (store-behaviour.ts), SQLite's busy
 * timeout, and the idempotency sweep's use of the time index on a large table.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ServiceUnavailableError } from 'qpher/host';
import { SqliteStore } from '../src/sqlite.js';
import { IDEMPOTENCY_SWEEP_BATCH, IDEMPOTENCY_TTL_MS } from '../src/idempotency.js';
import { describeServerStore, key, type OpenedStore, TEST_INTEGRITY } from './store-behaviour.js';
import { removeDir, tempDir } from '../../../test/support/server.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map(removeDir));
});

async function openSqlite(options: { maxIdempotencyRecordsPerTenant?: number } = {}): Promise<OpenedStore<SqliteStore>> {
  const dir = await tempDir();
  dirs.push(dir);
  const store = new SqliteStore(join(dir, 'qpher.db'), options);
  return {
    store,
    async sql(text, params = []) {
      // `$n` placeholders become SQLite's `?`, the values in the order they appear.
      const order = [...text.matchAll(/\$(\d+)/g)].map((m) => params[Number(m[1]) - 1]);
      const db = new Database(store.path);
      try {
        const statement = db.prepare(text.replace(/\$\d+/g, '?'));
        if (statement.reader) return { rows: statement.all(...order) as Record<string, unknown>[], changes: 0 };
        return { rows: [], changes: statement.run(...order).changes };
      } finally {
        db.close();
      }
    },
    close: () => store.close(),
  };
}

describeServerStore('SqliteStore', openSqlite);

describe('SqliteStore', () => {
  it('answers a write lock held past the busy timeout with a retryable ERR_SERVICE_001', async () => {
    const { store } = await openSqlite();
    store.attachIntegrity(TEST_INTEGRITY);
    const other = new SqliteStore(store.path, { busyTimeoutMs: 50 });
    other.attachIntegrity(TEST_INTEGRITY);
    const holder = new Database(store.path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const failure = await other.update('t', 'Dilithium3', () => ({ put: [key(1)], result: null })).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ServiceUnavailableError);
      expect(failure).toMatchObject({ code: 'ERR_SERVICE_001', message: 'Key store is busy; retry the request' });
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      await other.close();
    }
    expect(await store.list('t', 'Dilithium3', { after: 0, limit: 10 })).toEqual({ keys: [], total: 0 });
    await store.close();
  });

  it('sweeps 50,000 expired idempotency records through the time index, one small batch per sweep', async () => {
    const { store } = await openSqlite();
    try {
      const db = new Database(store.path);
      const plan = db
        .prepare('EXPLAIN QUERY PLAN SELECT rowid FROM idempotency WHERE updated_ms < ? ORDER BY updated_ms LIMIT 200')
        .all(1) as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX idempotency_by_time/);
      const insert = db.prepare("INSERT INTO idempotency (tenant, key, fingerprint, response, updated_ms) VALUES ('old', ?, 'f', '{}', 0)");
      db.transaction(() => {
        for (let i = 0; i < 50_000; i++) insert.run(`k${i}`);
      })();
      const count = () => (db.prepare('SELECT COUNT(*) AS n FROM idempotency').get() as { n: number }).n;
      await store.reserve('t', 'first', 'f', IDEMPOTENCY_TTL_MS + 1); // the first reservation sweeps one batch
      expect(count()).toBe(50_000 - IDEMPOTENCY_SWEEP_BATCH + 1);
      db.close();
    } finally {
      await store.close();
    }
  });
});
