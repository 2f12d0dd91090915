/** The SQLite store on its own: atomic keyring updates, constraints, API keys, idempotency records. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredKey } from 'qpher/host';
import Database from 'better-sqlite3';
import { ServiceUnavailableError } from 'qpher/host';
import { SqliteStore } from '../src/sqlite.js';
import { IDEMPOTENCY_TTL_MS, PENDING_TTL_MS } from '../src/idempotency.js';
import { removeDir, tempDir } from '../../../test/support/server.js';

let dir: string;
let store: SqliteStore;

const key = (key_version: number, status: StoredKey['status'] = 'active'): StoredKey => ({
  key_version,
  status,
  public_key: `pk${key_version}`,
  created_at: new Date(0).toISOString(),
  wrapped_seed: new Uint8Array([key_version, 1, 2]),
});

beforeAll(async () => {
  dir = await tempDir();
  store = new SqliteStore(join(dir, 'qpher.db'));
});
afterAll(async () => {
  store.close();
  await removeDir(dir);
});

/** The whole keyring, for assertions only (the engine never reads one). */
const all = async (s: SqliteStore, tenant: string, algorithm: 'Kyber768' | 'Dilithium3') =>
  (await s.list(tenant, algorithm, { after: 0, limit: 1000 })).keys;

describe('SqliteStore', () => {
  it('reads back what update wrote, per (tenant, algorithm)', async () => {
    await store.update('t', 'Kyber768', () => ({ put: [key(1)], result: null }));
    await store.update('t', 'Kyber768', (ring) => ({ put: [{ ...ring.active!, status: 'retired' }, key(2)], result: null }));
    expect((await all(store, 't', 'Kyber768')).map((k) => [k.key_version, k.status])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect((await store.get('t', 'Kyber768', 2))!.wrapped_seed).toEqual(new Uint8Array([2, 1, 2]));
    expect(await store.active('t', 'Kyber768')).toEqual(key(2));
    expect(await store.get('t', 'Kyber768', 3)).toBeUndefined();
    expect(await all(store, 't', 'Dilithium3')).toEqual([]);
    expect(await all(store, 'u', 'Kyber768')).toEqual([]);
    expect(await store.active('u', 'Kyber768')).toBeUndefined();
  });

  it('hands change a view of the active key, the highest version and the targeted version only', async () => {
    const views: unknown[] = [];
    await store.update('v', 'Dilithium3', (ring) => ({ put: [key(1, 'archived'), key(2, 'retired'), key(3)], result: views.push(ring) }));
    await store.update('v', 'Dilithium3', (ring) => ({ result: views.push(ring) }), 2);
    await store.update('v', 'Dilithium3', (ring) => ({ result: views.push(ring) }), 9);
    expect(views).toEqual([
      { active: undefined, maxVersion: 0, target: undefined },
      { active: key(3), maxVersion: 3, target: key(2, 'retired') },
      { active: key(3), maxVersion: 3, target: undefined },
    ]);
  });

  it('pages a keyring by version and status, and counts it', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => key(i + 1, i === 29 ? 'active' : i % 3 === 0 ? 'archived' : 'retired'));
    await store.update('p', 'Kyber768', () => ({ put: keys, result: null }));
    const page = await store.list('p', 'Kyber768', { after: 10, limit: 5 });
    expect(page).toEqual({ keys: keys.slice(10, 15), total: 30 });
    const archived = keys.filter((k) => k.status === 'archived');
    expect(await store.list('p', 'Kyber768', { status: 'archived', after: 4, limit: 3 })).toEqual({
      keys: archived.filter((k) => k.key_version > 4).slice(0, 3),
      total: archived.length,
    });
    expect(await store.list('p', 'Kyber768', { status: 'active', after: 0, limit: 0 })).toEqual({ keys: [], total: 1 });
    expect(await store.list('p', 'Kyber768', { after: 30, limit: 10 })).toEqual({ keys: [], total: 30 });
  });

  it('rolls back when change throws and when a constraint fails', async () => {
    await expect(
      store.update('t', 'Kyber768', () => {
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    // A second active key violates the one-active-key index: nothing of the change is kept.
    await expect(store.update('t', 'Kyber768', (ring) => ({ put: [key(ring.maxVersion + 1)], result: null }))).rejects.toThrow(/UNIQUE/);
    expect((await all(store, 't', 'Kyber768')).map((k) => k.key_version)).toEqual([1, 2]);
  });

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
      other.close();
    }
    expect(await all(store, 't', 'Dilithium3')).toEqual([]);
  });

  it('stores API keys by hash and revokes them', () => {
    const hash = new Uint8Array(32).fill(7);
    store.createApiKey({ id: 'key_1', tenant: 't', scopes: ['kms:read'], hash, created_at: new Date().toISOString() });
    expect(store.findApiKey(hash)).toMatchObject({ id: 'key_1', tenant: 't', scopes: ['kms:read'], revoked_at: null });
    expect(store.findApiKey(new Uint8Array(32))).toBeUndefined();
    expect(store.revokeApiKey('key_1')).toBe(true);
    expect(store.revokeApiKey('key_1')).toBe(false);
    expect(store.findApiKey(hash)?.revoked_at).not.toBeNull();
  });

  it('reserves, replays, refuses mismatches and expires idempotency records', () => {
    const t0 = 1_000_000;
    expect(store.reserve('t', 'k', 'f1', t0)).toEqual({ state: 'acquired' });
    expect(store.reserve('t', 'k', 'f1', t0 + 1)).toEqual({ state: 'pending' });
    expect(store.reserve('t', 'k', 'f2', t0 + 1)).toEqual({ state: 'mismatch' });
    expect(store.reserve('u', 'k', 'f2', t0 + 1)).toEqual({ state: 'acquired' });
    store.complete('t', 'k', { status: 200, data: { a: 1 } }, t0 + 2);
    expect(store.reserve('t', 'k', 'f1', t0 + 3)).toEqual({ state: 'replay', response: { status: 200, data: { a: 1 } } });
    expect(store.reserve('t', 'k', 'f1', t0 + 2 + IDEMPOTENCY_TTL_MS)).toEqual({ state: 'acquired' });
    // A reservation abandoned by a crashed process before any change is taken over after PENDING_TTL_MS.
    expect(store.reserve('u', 'k', 'f2', t0 + PENDING_TTL_MS)).toEqual({ state: 'pending' });
    expect(store.reserve('u', 'k', 'f3', t0 + 1 + PENDING_TTL_MS)).toEqual({ state: 'mismatch' });
    expect(store.reserve('u', 'k', 'f2', t0 + 1 + PENDING_TTL_MS)).toEqual({ state: 'acquired' });
    store.release('u', 'k');
    expect(store.reserve('u', 'k', 'f4', t0 + 2 + PENDING_TTL_MS)).toEqual({ state: 'acquired' });
  });

  it('never runs twice a reservation whose keyring change committed before its process died', async () => {
    const t0 = 5_000_000;
    expect(store.reserve('c', 'rotate-1', 'f', t0)).toEqual({ state: 'acquired' });
    await store.run('c', 'rotate-1', () => store.update('c', 'Kyber768', () => ({ put: [key(1)], result: null })));
    // ...the process dies here, before complete(): the change is saved, the response is not.
    expect(store.reserve('c', 'rotate-1', 'f', t0 + 1)).toEqual({ state: 'pending' });
    expect(store.reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });
    store.release('c', 'rotate-1'); // a committed reservation is kept even on release
    expect(store.reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });

    // A change that was refused (rolled back) or wrote nothing does not count.
    expect(store.reserve('c', 'gen-1', 'f', t0)).toEqual({ state: 'acquired' });
    await expect(
      store.run('c', 'gen-1', () =>
        store.update('c', 'Kyber768', () => {
          throw new Error('refused');
        }),
      ),
    ).rejects.toThrow();
    await store.run('c', 'gen-1', () => store.update('c', 'Kyber768', () => ({ result: null })));
    expect(store.reserve('c', 'gen-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'acquired' });
  });

  it('answers ping while open', () => {
    expect(store.ping()).toBe(true);
  });
});
