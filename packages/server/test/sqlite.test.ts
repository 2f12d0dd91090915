/** The SQLite store on its own: the ServerStore contract (store-behaviour.ts) and SQLite's busy timeout. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ServiceUnavailableError } from 'qpher/host';
import { SqliteStore } from '../src/sqlite.js';
import { Integrity } from '../src/integrity.js';
import { IDEMPOTENCY_TTL_MS, PENDING_TTL_MS, type Reservation, ReservationLostError } from '../src/idempotency.js';
import { describeServerStore, key } from './store-behaviour.js';
import { removeDir, tempDir } from '../../../test/support/server.js';

function owner(reservation: Reservation): string {
  if (reservation.state !== 'acquired') throw new Error(`expected acquired, got ${reservation.state}`);
  return reservation.owner;
}

const integrity = Integrity.fromMasterKey(new Uint8Array(32).fill(9));
let dir: string;
let store: SqliteStore;

beforeAll(async () => {
  dir = await tempDir();
  store = new SqliteStore(join(dir, 'qpher.db'));
  store.attachIntegrity(integrity);
});
afterAll(async () => {
  await store.close();
  await removeDir(dir);
});

describe('SqliteStore', () => {
  it('answers a write lock held past the busy timeout with a retryable ERR_SERVICE_001', async () => {
    const other = new SqliteStore(join(dir, 'qpher.db'), { busyTimeoutMs: 50 });
    other.attachIntegrity(integrity);
    const holder = new Database(join(dir, 'qpher.db'));
    holder.exec('BEGIN IMMEDIATE');
    try {
      const failure = await other.update('t', 'Dilithium3', () => ({ keys: [key(1)], result: null })).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ServiceUnavailableError);
      expect(failure).toMatchObject({ code: 'ERR_SERVICE_001', message: 'Key store is busy; retry the request' });
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      await other.close();
    }
    expect(await store.read('t', 'Dilithium3')).toEqual([]);
  });

  it('stores API keys by HMAC digest only, and revokes them', () => {
    const { key, id } = store.issueApiKey('t', ['kms:read']);
    expect(store.findApiKey(key)).toMatchObject({ id, tenant: 't', scopes: ['kms:read'], revoked_at: null });
    expect(store.findApiKey(`qph_${'A'.repeat(43)}`)).toBeUndefined();
    const db = new Database(store.path, { readonly: true });
    const row = db.prepare('SELECT digest, hash FROM api_keys WHERE id = ?').get(id) as { digest: Buffer; hash: Buffer | null };
    db.close();
    expect(row.hash).toBeNull();
    expect(Buffer.from(integrity.apiKeyDigest(key)).equals(row.digest)).toBe(true);
    expect(store.revokeApiKey(id)).toBe(true);
    expect(store.revokeApiKey(id)).toBe(false);
    expect(store.findApiKey(key)?.revoked_at).not.toBeNull();
  });

  it('reserves, replays, refuses mismatches and expires idempotency records', () => {
    const t0 = 1_000_000;
    const acquired = { state: 'acquired', owner: expect.stringMatching(/^[0-9a-f]{32}$/) };
    const first = store.reserve('t', 'k', 'f1', t0);
    expect(first).toEqual(acquired);
    expect(store.reserve('t', 'k', 'f1', t0 + 1)).toEqual({ state: 'pending' });
    expect(store.reserve('t', 'k', 'f2', t0 + 1)).toEqual({ state: 'mismatch' });
    expect(store.reserve('u', 'k', 'f2', t0 + 1)).toEqual(acquired);
    store.complete('t', 'k', owner(first), { status: 200, data: { a: 1 } }, t0 + 2);
    expect(store.reserve('t', 'k', 'f1', t0 + 3)).toEqual({ state: 'replay', response: { status: 200, data: { a: 1 } } });
    expect(store.reserve('t', 'k', 'f1', t0 + 2 + IDEMPOTENCY_TTL_MS)).toEqual(acquired);
    // A reservation abandoned by a crashed process before any change is taken over after PENDING_TTL_MS.
    expect(store.reserve('u', 'k', 'f2', t0 + PENDING_TTL_MS)).toEqual({ state: 'pending' });
    expect(store.reserve('u', 'k', 'f3', t0 + 1 + PENDING_TTL_MS)).toEqual({ state: 'mismatch' });
    const taken = store.reserve('u', 'k', 'f2', t0 + 1 + PENDING_TTL_MS);
    expect(taken).toEqual(acquired);
    store.release('u', 'k', owner(taken));
    expect(store.reserve('u', 'k', 'f4', t0 + 2 + PENDING_TTL_MS)).toEqual(acquired);
  });

  it('never runs twice a reservation whose keyring change committed before its process died', async () => {
    const t0 = 5_000_000;
    const rotate = owner(store.reserve('c', 'rotate-1', 'f', t0));
    await store.run('c', 'rotate-1', rotate, () => store.update('c', 'Kyber768', () => ({ keys: [key(1)], result: null })));
    // ...the process dies here, before complete(): the change is saved, the response is not.
    expect(store.reserve('c', 'rotate-1', 'f', t0 + 1)).toEqual({ state: 'pending' });
    expect(store.reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });
    store.release('c', 'rotate-1', rotate); // a committed reservation is kept even on release
    expect(store.reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });

    // A change that was refused (rolled back) or wrote nothing does not count.
    const gen = owner(store.reserve('c', 'gen-1', 'f', t0));
    await expect(
      store.run('c', 'gen-1', gen, () =>
        store.update('c', 'Kyber768', () => {
          throw new Error('refused');
        }),
      ),
    ).rejects.toThrow();
    await store.run('c', 'gen-1', gen, () => store.update('c', 'Kyber768', () => ({ result: null })));
    expect(store.reserve('c', 'gen-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'acquired', owner: expect.any(String) });
  });

  it("rolls back the change of a stalled request whose reservation was taken over, and keeps the new owner's record", async () => {
    const t0 = 9_000_000;
    const add = (keys: readonly StoredKey[]) => ({
      keys: [...keys, key(keys.length + 1, keys.length === 0 ? 'active' : 'retired')],
      result: null,
    });
    const stalled = owner(store.reserve('s', 'once', 'f', t0));
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const first = store.run('s', 'once', stalled, async () => {
      await woken; // the handler stalls past PENDING_TTL_MS
      return store.update('s', 'Dilithium3', add);
    });
    // A repeat takes the reservation over, runs, commits and stores its answer.
    const repeat = owner(store.reserve('s', 'once', 'f', t0 + PENDING_TTL_MS + 1));
    expect(repeat).not.toBe(stalled);
    await store.run('s', 'once', repeat, () => store.update('s', 'Dilithium3', add));
    store.complete('s', 'once', repeat, { status: 201, data: { key_version: 1 } }, t0 + PENDING_TTL_MS + 2);
    // The stalled one wakes: its change is refused and rolled back; its complete/release are no-ops.
    wake();
    await expect(first).rejects.toBeInstanceOf(ReservationLostError);
    store.complete('s', 'once', stalled, { status: 201, data: { key_version: 2 } }, t0 + PENDING_TTL_MS + 3);
    store.release('s', 'once', stalled);
    expect((await store.read('s', 'Dilithium3')).map((k) => k.key_version)).toEqual([1]);
    expect(store.reserve('s', 'once', 'f', t0 + PENDING_TTL_MS + 4)).toEqual({
      state: 'replay',
      response: { status: 201, data: { key_version: 1 } },
    });
  });

  it('answers ping while open', () => {
    expect(store.ping()).toBe(true);
  });
});

describe('idempotency records stay bounded', () => {
  it('sweeps expired records through the time index in small batches', async () => {
    const dir2 = await tempDir();
    const s = new SqliteStore(join(dir2, 'qpher.db'));
    try {
      const db = new Database(s.path);
      const plan = db
        .prepare('EXPLAIN QUERY PLAN SELECT rowid FROM idempotency WHERE updated_ms < ? ORDER BY updated_ms LIMIT 200')
        .all(1) as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX idempotency_by_time/);
      const insert = db.prepare("INSERT INTO idempotency (tenant, key, fingerprint, response, updated_ms) VALUES ('old', ?, 'f', '{}', 0)");
      db.transaction(() => {
        for (let i = 0; i < 50_000; i++) insert.run(`k${i}`);
      })();
      const count = () => (db.prepare('SELECT COUNT(*) AS n FROM idempotency').get() as { n: number }).n;
      const now = IDEMPOTENCY_TTL_MS + 1;
      const started = performance.now();
      s.reserve('t', 'first', 'f', now); // the first reservation sweeps one batch
      const ms = performance.now() - started;
      expect(count()).toBe(50_000 - 200 + 1);
      expect(ms).toBeLessThan(100);
      for (let i = 0; i < 49; i++) s.reserve('t', `n${i}`, 'f', now); // no sweep until the 50th
      expect(count()).toBe(50_000 - 200 + 50);
      s.reserve('t', 'n49', 'f', now);
      expect(count()).toBe(50_000 - 400 + 51);
      db.close();
    } finally {
      s.close();
      await removeDir(dir2);
    }
  });

  it('caps the records of a tenant: its oldest answered ones make room, running ones never do', async () => {
    const dir2 = await tempDir();
    const s = new SqliteStore(join(dir2, 'qpher.db'), { maxIdempotencyRecordsPerTenant: 3 });
    try {
      for (let i = 0; i < 3; i++) {
        const reserved = s.reserve('t', `k${i}`, 'f', 1000 + i);
        s.complete('t', `k${i}`, owner(reserved), { status: 200, data: i }, 1000 + i);
      }
      s.reserve('t', 'k3', 'f', 2000); // evicts k0, the oldest
      expect(s.reserve('t', 'k0', 'f', 2001)).toEqual({ state: 'acquired', owner: expect.any(String) }); // k0 forgotten; evicts k1
      expect(s.reserve('t', 'k2', 'f', 2002)).toEqual({ state: 'replay', response: { status: 200, data: 2 } });
      expect(s.reserve('other', 'k9', 'f', 2003).state).toBe('acquired'); // other tenants are unaffected
      // k2 is the only answered record left; once it is gone, three running reservations fill the cap.
      s.reserve('t', 'k4', 'f', 2004);
      expect(() => s.reserve('t', 'k5', 'f', 2005)).toThrow(ServiceUnavailableError);
    } finally {
      s.close();
      await removeDir(dir2);
    }
  });
});
