/**
 * What every ServerStore (store.ts) must do, whatever keeps it: atomic keyring updates and their
 * constraints, API keys, idempotency records and the commit handshake of src/stores/keystore.ts.
 * sqlite.test.ts and postgres.test.ts run it on their store.
 */
import { describe, expect, it } from 'vitest';
import type { StoredKey } from 'qpher/host';
import { IDEMPOTENCY_TTL_MS, PENDING_TTL_MS } from '../src/idempotency.js';
import type { ServerStore } from '../src/store.js';

export const key = (key_version: number, status: StoredKey['status'] = 'active'): StoredKey => ({
  key_version,
  status,
  public_key: `pk${key_version}`,
  created_at: new Date(0).toISOString(),
  wrapped_seed: new Uint8Array([key_version, 1, 2]),
});

/** `store()` is read when the tests run (the caller opens it in a beforeAll). */
export function describeServerStore(name: string, store: () => ServerStore): void {
  describe(`${name}: the ServerStore contract`, () => {
    it('reads back what update wrote, per (tenant, algorithm)', async () => {
      await store().update('t', 'Kyber768', () => ({ keys: [key(1)], result: null }));
      await store().update('t', 'Kyber768', (keys) => ({
        keys: [...keys.map((k) => ({ ...k, status: 'retired' as const })), key(2)],
        result: null,
      }));
      expect((await store().read('t', 'Kyber768')).map((k) => [k.key_version, k.status])).toEqual([
        [1, 'retired'],
        [2, 'active'],
      ]);
      expect((await store().read('t', 'Kyber768'))[1]!.wrapped_seed).toEqual(new Uint8Array([2, 1, 2]));
      expect(await store().read('t', 'Dilithium3')).toEqual([]);
      expect(await store().read('u', 'Kyber768')).toEqual([]);
    });

    it('rolls back when change throws and when a constraint fails', async () => {
      await expect(
        store().update('t', 'Kyber768', () => {
          throw new Error('nope');
        }),
      ).rejects.toThrow('nope');
      // A second active key violates the one-active-key index: nothing of the change is kept.
      await expect(store().update('t', 'Kyber768', (keys) => ({ keys: [...keys, key(3)], result: null }))).rejects.toThrow(/UNIQUE|unique/);
      expect((await store().read('t', 'Kyber768')).map((k) => k.key_version)).toEqual([1, 2]);
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
      await store().run('c', 'rotate-1', () => store().update('c', 'Kyber768', () => ({ keys: [key(1)], result: null })));
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
      const append = (keys: readonly StoredKey[]) => ({
        keys: [...keys.map((k) => ({ ...k, status: 'retired' as const })), key(keys.length + 1)],
        result: keys.length + 1,
      });
      const versions = await Promise.all(Array.from({ length: 20 }, () => store().update('conc', 'Dilithium3', append)));
      expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const keys = await store().read('conc', 'Dilithium3');
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
