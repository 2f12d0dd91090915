/** The SQLite store on its own: the ServerStore contract (store-behaviour.ts) and SQLite's busy timeout. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ServiceUnavailableError } from 'qpher/host';
import { SqliteStore } from '../src/sqlite.js';
import { describeServerStore, key } from './store-behaviour.js';
import { removeDir, tempDir } from '../../../test/support/server.js';

let dir: string;
let store: SqliteStore;

beforeAll(async () => {
  dir = await tempDir();
  store = new SqliteStore(join(dir, 'qpher.db'));
});
afterAll(async () => {
  await store.close();
  await removeDir(dir);
});

describe('SqliteStore', () => {
  it('answers a write lock held past the busy timeout with a retryable ERR_SERVICE_001', async () => {
    const other = new SqliteStore(join(dir, 'qpher.db'), { busyTimeoutMs: 50 });
    const holder = new Database(join(dir, 'qpher.db'));
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
  });
});

describeServerStore('SqliteStore', () => store);
