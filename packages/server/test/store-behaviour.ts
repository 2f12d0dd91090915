/**
 * What every ServerStore (store.ts) must do, whatever keeps it: one-row reads, paged and counted
 * lists, atomic keyring updates over a small view and their constraints, API keys, idempotency records and the commit handshake of src/stores/keystore.ts.
 * sqlite.test.ts and postgres.test.ts run it on their store.
 */
import { describe, expect, it } from 'vitest';
import type { KeyringView, StoredKey } from 'qpher/host';
import { IDEMPOTENCY_TTL_MS, PENDING_TTL_MS } from '../src/idempotency.js';
import type { ServerStore } from '../src/store.js';

export const key = (key_version: number, status: StoredKey['status'] = 'active'): StoredKey => ({
  key_version,
  status,
  public_key: `pk${key_version}`,
  created_at: new Date(0).toISOString(),
  wrapped_seed: new Uint8Array([key_version, 1, 2]),
});

/** The whole keyring, for assertions only (the engine never reads one). */
const all = async (s: ServerStore, tenant: string, algorithm: 'Kyber768' | 'Dilithium3') =>
  (await s.list(tenant, algorithm, { after: 0, limit: 1000 })).keys;

/** `store()` is read when the tests run (the caller opens it in a beforeAll). */
export function describeServerStore(name: string, store: () => ServerStore): void {
  describe(`${name}: the ServerStore contract`, () => {
    it('reads back what update wrote, per (tenant, algorithm), one row at a time', async () => {
      await store().update('t', 'Kyber768', () => ({ put: [key(1)], result: null }));
      await store().update('t', 'Kyber768', (ring) => ({ put: [{ ...ring.active!, status: 'retired' }, key(2)], result: null }));
      expect((await all(store(), 't', 'Kyber768')).map((k) => [k.key_version, k.status])).toEqual([
        [1, 'retired'],
        [2, 'active'],
      ]);
      expect((await store().get('t', 'Kyber768', 2))!.wrapped_seed).toEqual(new Uint8Array([2, 1, 2]));
      expect(await store().get('t', 'Kyber768', 1)).toEqual(key(1, 'retired'));
      expect(await store().active('t', 'Kyber768')).toEqual(key(2));
      expect(await store().get('t', 'Kyber768', 3)).toBeUndefined();
      expect(await all(store(), 't', 'Dilithium3')).toEqual([]);
      expect(await all(store(), 'u', 'Kyber768')).toEqual([]);
      expect(await store().active('u', 'Kyber768')).toBeUndefined();
    });

    it('hands change a view of the active key, the highest version and the targeted version only', async () => {
      const views: unknown[] = [];
      const look = (ring: KeyringView) => ({ result: views.push(ring) });
      await store().update('v', 'Dilithium3', (ring) => ({
        put: [key(1, 'archived'), key(2, 'retired'), key(3)],
        result: views.push(ring),
      }));
      await store().update('v', 'Dilithium3', look, 2);
      await store().update('v', 'Dilithium3', look, 3);
      await store().update('v', 'Dilithium3', look, 9);
      await store().update('v', 'Dilithium3', look);
      expect(views).toEqual([
        { active: undefined, maxVersion: 0, target: undefined },
        { active: key(3), maxVersion: 3, target: key(2, 'retired') },
        { active: key(3), maxVersion: 3, target: key(3) },
        { active: key(3), maxVersion: 3, target: undefined },
        { active: key(3), maxVersion: 3, target: undefined },
      ]);
      // Overwriting a version that is not stored is a bug in the rule, not a silent insert.
      await expect(store().update('v', 'Dilithium3', () => ({ put: [key(2, 'archived'), key(0)], result: null }))).rejects.toThrow();
      expect(await store().get('v', 'Dilithium3', 2)).toEqual(key(2, 'retired'));
    });

    it('pages a keyring by version and status, and counts it', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => key(i + 1, i === 29 ? 'active' : i % 3 === 0 ? 'archived' : 'retired'));
      await store().update('p', 'Kyber768', () => ({ put: keys, result: null }));
      expect(await store().list('p', 'Kyber768', { after: 10, limit: 5 })).toEqual({ keys: keys.slice(10, 15), total: 30 });
      const archived = keys.filter((k) => k.status === 'archived');
      expect(await store().list('p', 'Kyber768', { status: 'archived', after: 4, limit: 3 })).toEqual({
        keys: archived.filter((k) => k.key_version > 4).slice(0, 3),
        total: archived.length,
      });
      expect(await store().list('p', 'Kyber768', { status: 'active', after: 0, limit: 0 })).toEqual({ keys: [], total: 1 });
      expect(await store().list('p', 'Kyber768', { status: 'retired', after: 0, limit: 100 })).toEqual({
        keys: keys.filter((k) => k.status === 'retired'),
        total: 19,
      });
      expect(await store().list('p', 'Kyber768', { after: 30, limit: 10 })).toEqual({ keys: [], total: 30 });
      expect(await store().list('p', 'Dilithium3', { after: 0, limit: 10 })).toEqual({ keys: [], total: 0 });
      expect(await store().list('p', 'Dilithium3', { status: 'active', after: 0, limit: 0 })).toEqual({ keys: [], total: 0 });
    });

    it('rolls back when change throws and when a constraint fails', async () => {
      await expect(
        store().update('t', 'Kyber768', () => {
          throw new Error('nope');
        }),
      ).rejects.toThrow('nope');
      // A second active key violates the one-active-key index: nothing of the change is kept.
      await expect(
        store().update('t', 'Kyber768', (ring) => ({
          put: [{ ...ring.active!, public_key: 'changed' }, key(ring.maxVersion + 1)],
          result: null,
        })),
      ).rejects.toThrow(/UNIQUE|unique/);
      expect((await all(store(), 't', 'Kyber768')).map((k) => k.key_version)).toEqual([1, 2]);
      expect((await store().active('t', 'Kyber768'))!.public_key).toBe('pk2');
    });

    it('stores API keys by hash and revokes them', async () => {
      const hash = new Uint8Array(32).fill(7);
      await store().createApiKey({ id: 'key_1', tenant: 't', scopes: ['kms:read'], hash, created_at: new Date().toISOString() });
      expect(await store().findApiKey(hash)).toMatchObject({ id: 'key_1', tenant: 't', scopes: ['kms:read'], revoked_at: null });
      expect(await store().findApiKey(new Uint8Array(32))).toBeUndefined();
      expect(await store().revokeApiKey('key_1')).toBe(true);
      expect(await store().revokeApiKey('key_1')).toBe(false);
      expect((await store().findApiKey(hash))?.revoked_at).not.toBeNull();
    });

    it('reserves, replays, refuses mismatches and expires idempotency records', async () => {
      const t0 = 1_000_000;
      expect(await store().reserve('t', 'k', 'f1', t0)).toEqual({ state: 'acquired' });
      expect(await store().reserve('t', 'k', 'f1', t0 + 1)).toEqual({ state: 'pending' });
      expect(await store().reserve('t', 'k', 'f2', t0 + 1)).toEqual({ state: 'mismatch' });
      expect(await store().reserve('u', 'k', 'f2', t0 + 1)).toEqual({ state: 'acquired' });
      await store().complete('t', 'k', { status: 200, data: { a: 1 } }, t0 + 2);
      expect(await store().reserve('t', 'k', 'f1', t0 + 3)).toEqual({ state: 'replay', response: { status: 200, data: { a: 1 } } });
      expect(await store().reserve('t', 'k', 'f1', t0 + 2 + IDEMPOTENCY_TTL_MS)).toEqual({ state: 'acquired' });
      // A reservation abandoned by a crashed process before any change is taken over after PENDING_TTL_MS.
      expect(await store().reserve('u', 'k', 'f2', t0 + PENDING_TTL_MS)).toEqual({ state: 'pending' });
      expect(await store().reserve('u', 'k', 'f3', t0 + 1 + PENDING_TTL_MS)).toEqual({ state: 'mismatch' });
      expect(await store().reserve('u', 'k', 'f2', t0 + 1 + PENDING_TTL_MS)).toEqual({ state: 'acquired' });
      await store().release('u', 'k');
      expect(await store().reserve('u', 'k', 'f4', t0 + 2 + PENDING_TTL_MS)).toEqual({ state: 'acquired' });
    });

    it('never runs twice a reservation whose keyring change committed before its process died', async () => {
      const t0 = 5_000_000;
      expect(await store().reserve('c', 'rotate-1', 'f', t0)).toEqual({ state: 'acquired' });
      await store().run('c', 'rotate-1', () => store().update('c', 'Kyber768', () => ({ put: [key(1)], result: null })));
      // ...the process dies here, before complete(): the change is saved, the response is not.
      expect(await store().reserve('c', 'rotate-1', 'f', t0 + 1)).toEqual({ state: 'pending' });
      expect(await store().reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });
      await store().release('c', 'rotate-1'); // a committed reservation is kept even on release
      expect(await store().reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });

      // A change that was refused (rolled back) or wrote nothing does not count.
      expect(await store().reserve('c', 'gen-1', 'f', t0)).toEqual({ state: 'acquired' });
      await expect(
        store().run('c', 'gen-1', () =>
          store().update('c', 'Kyber768', () => {
            throw new Error('refused');
          }),
        ),
      ).rejects.toThrow();
      await store().run('c', 'gen-1', () => store().update('c', 'Kyber768', () => ({ result: null })));
      expect(await store().reserve('c', 'gen-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'acquired' });
    });

    it('serialises concurrent updates of one keyring: unique, gap-free versions, one active key', async () => {
      const append = (ring: KeyringView) => ({
        put: [...(ring.active ? [{ ...ring.active, status: 'retired' as const }] : []), key(ring.maxVersion + 1)],
        result: ring.maxVersion + 1,
      });
      const versions = await Promise.all(Array.from({ length: 20 }, () => store().update('conc', 'Dilithium3', append)));
      expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const keys = await all(store(), 'conc', 'Dilithium3');
      expect(keys.map((k) => k.key_version)).toEqual(versions);
      expect(keys.filter((k) => k.status === 'active').map((k) => k.key_version)).toEqual([20]);
    });

    it('keeps the first value of a meta entry', async () => {
      expect(await store().getMeta('check')).toBeUndefined();
      expect(await store().initMeta('check', new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 2]));
      expect(await store().initMeta('check', new Uint8Array([3]))).toEqual(new Uint8Array([1, 2]));
      expect(await store().getMeta('check')).toEqual(new Uint8Array([1, 2]));
    });

    it('answers ping while open', async () => {
      expect(await store().ping()).toBe(true);
    });
  });
}
