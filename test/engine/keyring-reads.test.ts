/**
 * How much of a keyring the engine reads: one row per key operation, a page and a count per
 * list, a few rows per lifecycle change, whatever the keyring holds. A counting wrapper around
 * the memory store sees every call, so a regression to whole-keyring reads fails here, not only
 * as a slower benchmark. Also the per-keyring version cap and list paging over the store's pages.
 */
import { describe, expect, test } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import {
  MemoryKeyStore,
  unwrap,
  type KeyPage,
  type KeyPageQuery,
  type KeyringChange,
  type KeyringView,
  type KeyStore,
  type StoredKey,
} from '../../src/index.js';
import { ALGORITHMS, type Algorithm } from '../../src/contract/algorithms.js';

const caller = { tenant: 't' };
const id = '00000000-0000-4000-8000-000000000000';

/** A store that counts calls and the rows each hands to the engine. */
class CountingStore implements KeyStore {
  readonly inner = new MemoryKeyStore();
  readonly ephemeral = true;
  calls: { method: string; rows: number }[] = [];

  async get(tenant: string, algorithm: Algorithm, version: number): Promise<StoredKey | undefined> {
    const key = await this.inner.get(tenant, algorithm, version);
    this.calls.push({ method: 'get', rows: key ? 1 : 0 });
    return key;
  }
  async active(tenant: string, algorithm: Algorithm): Promise<StoredKey | undefined> {
    const key = await this.inner.active(tenant, algorithm);
    this.calls.push({ method: 'active', rows: key ? 1 : 0 });
    return key;
  }
  async list(tenant: string, algorithm: Algorithm, query: KeyPageQuery): Promise<KeyPage> {
    const page = await this.inner.list(tenant, algorithm, query);
    this.calls.push({ method: 'list', rows: page.keys.length });
    return page;
  }
  async update<T>(tenant: string, algorithm: Algorithm, change: (ring: KeyringView) => KeyringChange<T>, target?: number): Promise<T> {
    return this.inner.update(
      tenant,
      algorithm,
      (ring) => {
        const outcome = change(ring);
        const rows = Number(ring.active !== undefined) + Number(ring.target !== undefined);
        this.calls.push({ method: 'update', rows: rows + (outcome.put?.length ?? 0) });
        return outcome;
      },
      target,
    );
  }
  take(): { method: string; rows: number }[] {
    return this.calls.splice(0);
  }
}

/** `count` versions that are not real keys (never used), retired or archived, as years of rotation leave. */
function history(count: number): StoredKey[] {
  return Array.from({ length: count }, (_, i) => ({
    key_version: i + 1,
    status: i % 2 ? 'retired' : 'archived',
    public_key: `pk${i + 1}`,
    created_at: new Date(0).toISOString(),
    wrapped_seed: new Uint8Array(40),
  }));
}

async function run(engine: Engine, operation: string, request: unknown) {
  return unwrap((await engine.execute(caller, operation, request, id)) as never) as Record<string, unknown>;
}

describe('keyring reads', () => {
  test('each key operation reads one row, each lifecycle change a few, with 3,000 versions stored', async () => {
    const store = new CountingStore();
    const engine = await Engine.create({ store });
    for (const algorithm of ['Kyber768', 'Dilithium3'] as const) {
      await store.update('t', algorithm, () => ({ put: history(3000), result: null }));
    }
    store.take();
    expect(await run(engine, 'kms.rotate', { algorithm: 'Kyber768' })).toMatchObject({ key_version: 3001, old_key_version: null });
    expect(store.take()).toEqual([{ method: 'update', rows: 1 }]);
    await run(engine, 'kms.rotate', { algorithm: 'Dilithium3' });
    store.take();

    const { ciphertext } = await run(engine, 'kem.encrypt', { plaintext: 'aGk=', key_version: 3001 });
    await run(engine, 'kem.decrypt', { ciphertext, key_version: 3001 });
    const { signature } = await run(engine, 'signature.sign', { message: 'aGk=', key_version: 3001 });
    await run(engine, 'signature.verify', { message: 'aGk=', signature, key_version: 3001 });
    await run(engine, 'kms.get', { algorithm: 'Kyber768', key_version: 17 });
    expect(store.take()).toEqual(Array.from({ length: 5 }, () => ({ method: 'get', rows: 1 })));

    await run(engine, 'kms.active', { algorithm: 'Dilithium3' });
    expect(store.take()).toEqual([{ method: 'active', rows: 1 }]);

    // rotate: the active key in, the retired one and the new one out
    expect(await run(engine, 'kms.rotate', { algorithm: 'Kyber768' })).toMatchObject({ key_version: 3002, old_key_version: 3001 });
    expect(store.take()).toEqual([{ method: 'update', rows: 3 }]);
    await run(engine, 'kms.retire', { algorithm: 'Kyber768', key_version: 3002 });
    expect(store.take()).toEqual([{ method: 'update', rows: 3 }]); // active + target in, the retired key out
    await run(engine, 'kms.archive', { algorithm: 'Kyber768', key_version: 3002 });
    expect(store.take()).toEqual([{ method: 'update', rows: 2 }]);

    // list: a page of 10 (one more to know another page follows) and a count per other keyring
    const page = await run(engine, 'kms.list', { limit: 10 });
    expect(page).toMatchObject({ total: 6003, next_cursor: expect.any(String) });
    expect(store.take()).toEqual([{ method: 'list', rows: 11 }, ...ALGORITHMS.slice(1).map(() => ({ method: 'list', rows: 0 }))]);
  });

  test('list pages over several keyrings, with and without a status filter, equal the whole list', async () => {
    const store = new MemoryKeyStore();
    const engine = await Engine.create({ store });
    await store.update('t', 'Kyber768', () => ({ put: history(7), result: null }));
    await store.update('t', 'Dilithium3', () => ({ put: history(5), result: null }));
    await store.update('t', 'Composite-ML-DSA', () => ({ put: history(3), result: null })); // X-Wing between stays empty
    for (const status of [undefined, 'retired', 'archived', 'active'] as const) {
      const filter = status === undefined ? {} : { status };
      const everything = (await run(engine, 'kms.list', { ...filter, limit: 1000 })) as { keys: unknown[]; total: number };
      expect(everything.total).toBe(everything.keys.length);
      for (const limit of [1, 2, 3, 4, 7, 12]) {
        const seen: unknown[] = [];
        let cursor: string | undefined;
        do {
          const page = (await run(engine, 'kms.list', { ...filter, limit, ...(cursor ? { cursor } : {}) })) as {
            keys: unknown[];
            total: number;
            next_cursor?: string;
          };
          expect(page.total).toBe(everything.total);
          expect(page.keys.length).toBeLessThanOrEqual(limit);
          seen.push(...page.keys);
          cursor = page.next_cursor;
          if (cursor) expect(page.keys).toHaveLength(limit);
        } while (cursor);
        expect(seen).toEqual(everything.keys);
      }
    }
  });
});

describe('version cap', () => {
  test('rotate and generate past maxKeyVersions are 403 ERR_FORBIDDEN_001 naming the cap; versions are never freed', async () => {
    const engine = await Engine.create({ maxKeyVersions: 3 });
    await run(engine, 'kms.generate', { algorithm: 'Kyber768' });
    await run(engine, 'kms.rotate', { algorithm: 'Kyber768' });
    await run(engine, 'kms.rotate', { algorithm: 'Kyber768' });
    const refused = {
      error: {
        code: 'ERR_FORBIDDEN_001',
        message: 'Key version limit reached: Kyber768 keyrings hold at most 3 versions, and this one has 3',
      },
    };
    expect(await engine.execute(caller, 'kms.rotate', { algorithm: 'Kyber768' }, id)).toMatchObject(refused);
    await run(engine, 'kms.archive', { algorithm: 'Kyber768', key_version: 3 });
    expect(await engine.execute(caller, 'kms.generate', { algorithm: 'Kyber768' }, id)).toMatchObject(refused);
    // Other keyrings have their own count; the full one still decrypts and lists.
    expect(await run(engine, 'kms.generate', { algorithm: 'Dilithium3' })).toMatchObject({ key_version: 1 });
    expect(await run(engine, 'kms.list', { algorithm: 'Kyber768' })).toMatchObject({ total: 3 });
  });

  test('defaults to 10,000 and refuses a cap that is not a whole number from 1', async () => {
    expect((await Engine.create()).maxKeyVersions).toBe(10_000);
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 32]) {
      await expect(Engine.create({ maxKeyVersions: bad })).rejects.toThrow(RangeError);
    }
  });
});
