import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { aesGcmSeedWrapper, type SeedWrapper } from '../../src/engine/seed-wrapper.js';
import { ForbiddenError } from '../../src/errors.js';
import { IndexedDbKeyStore } from '../../src/stores/indexeddb.js';
import type { KeyringView, StoredKey } from '../../src/stores/keystore.js';

let dbCount = 0;
const freshDb = () => `qpher-test-${process.pid}-${++dbCount}`;

function key(version: number, status: StoredKey['status'] = 'active'): StoredKey {
  return {
    key_version: version,
    status,
    public_key: `pk${version}`,
    created_at: new Date(0).toISOString(),
    wrapped_seed: new Uint8Array([version, 1, 2, 3]),
  };
}

/** Appends max+1 as the only active key, as rotate does: the test of atomicity is that no version is minted twice. */
const append = (ring: KeyringView) => {
  const next = ring.maxVersion + 1;
  return { put: [...(ring.active ? [{ ...ring.active, status: 'retired' as const }] : []), key(next)], result: next };
};

/** The whole keyring, for assertions only (the engine never reads one). */
const all = async (store: IndexedDbKeyStore, tenant: string, algorithm: 'Kyber768' | 'Dilithium3') =>
  (await store.list(tenant, algorithm, { after: 0, limit: 1000 })).keys;
const versions = async (store: IndexedDbKeyStore, tenant: string, algorithm: 'Kyber768' | 'Dilithium3') =>
  (await all(store, tenant, algorithm)).map((k) => k.key_version);

/** Every value in every object store of a database, read with the raw IndexedDB API. */
async function dumpDatabase(name: string): Promise<unknown[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const values: unknown[] = [];
  for (const storeName of db.objectStoreNames) {
    const all = await new Promise<unknown[]>((resolve, reject) => {
      const request = db.transaction(storeName).objectStore(storeName).getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    values.push(...all);
  }
  db.close();
  return values;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Every byte run found in a value, as hex, so a seed can be searched for anywhere. */
function bytesIn(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(hex(value));
  else if (value instanceof ArrayBuffer) out.push(hex(new Uint8Array(value)));
  else if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) bytesIn(v, out);
  return out;
}

const stores: IndexedDbKeyStore[] = [];
function open(name: string): IndexedDbKeyStore {
  const store = new IndexedDbKeyStore(name);
  stores.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describe('IndexedDbKeyStore', () => {
  it('reads an empty keyring as nothing and round-trips keys as copies', async () => {
    const store = open(freshDb());
    expect(await all(store, 't', 'Kyber768')).toEqual([]);
    expect(await store.active('t', 'Kyber768')).toBeUndefined();
    expect(await store.update('t', 'Kyber768', () => ({ put: [key(1)], result: 'ok' }))).toBe('ok');
    const read = (await store.get('t', 'Kyber768', 1))!;
    expect(read).toEqual(key(1));
    read.wrapped_seed[0] = 99;
    read.status = 'archived';
    expect(await store.get('t', 'Kyber768', 1)).toEqual(key(1));
    expect(await store.active('t', 'Kyber768')).toEqual(key(1));
    expect(await store.get('t', 'Kyber768', 2)).toBeUndefined();
  });

  it('hands change a view of the active key, the highest version and the targeted version only', async () => {
    const store = open(freshDb());
    const views: KeyringView[] = [];
    await store.update('v', 'Dilithium3', (ring) => ({ put: [key(1, 'archived'), key(2, 'retired'), key(3)], result: views.push(ring) }));
    await store.update('v', 'Dilithium3', (ring) => ({ result: views.push(ring) }), 2);
    await store.update('v', 'Dilithium3', (ring) => ({ put: [{ ...ring.target!, status: 'archived' }], result: views.push(ring) }), 2);
    await store.update('v', 'Dilithium3', (ring) => ({ result: views.push(ring) }), 9);
    expect(views).toEqual([
      { active: undefined, maxVersion: 0, target: undefined },
      { active: key(3), maxVersion: 3, target: key(2, 'retired') },
      { active: key(3), maxVersion: 3, target: key(2, 'retired') },
      { active: key(3), maxVersion: 3, target: undefined },
    ]);
    expect(await store.get('v', 'Dilithium3', 2)).toEqual(key(2, 'archived'));
  });

  it('pages a keyring by version and status, and counts it', async () => {
    const store = open(freshDb());
    const keys = Array.from({ length: 30 }, (_, i) => key(i + 1, i === 29 ? 'active' : i % 3 === 0 ? 'archived' : 'retired'));
    await store.update('p', 'Kyber768', () => ({ put: keys, result: null }));
    await store.update('q', 'Kyber768', () => ({ put: [key(1)], result: null })); // another tenant's keys never count
    expect(await store.list('p', 'Kyber768', { after: 10, limit: 5 })).toEqual({ keys: keys.slice(10, 15), total: 30 });
    const archived = keys.filter((k) => k.status === 'archived');
    expect(await store.list('p', 'Kyber768', { status: 'archived', after: 4, limit: 3 })).toEqual({
      keys: archived.filter((k) => k.key_version > 4).slice(0, 3),
      total: archived.length,
    });
    expect(await store.list('p', 'Kyber768', { status: 'active', after: 0, limit: 0 })).toEqual({ keys: [], total: 1 });
    expect(await store.list('p', 'Kyber768', { after: 30, limit: 10 })).toEqual({ keys: [], total: 30 });
    expect(await store.list('p', 'Dilithium3', { after: 0, limit: 10 })).toEqual({ keys: [], total: 0 });
  });

  it('namespaces keyrings by tenant and algorithm', async () => {
    const store = open(freshDb());
    await store.update('a', 'Kyber768', append);
    await store.update('a', 'Kyber768', append);
    await store.update('b', 'Kyber768', append);
    await store.update('a', 'Dilithium3', append);
    expect(await versions(store, 'a', 'Kyber768')).toEqual([1, 2]);
    expect(await versions(store, 'b', 'Kyber768')).toEqual([1]);
    expect(await versions(store, 'a', 'Dilithium3')).toEqual([1]);
    expect(await versions(store, 'b', 'Dilithium3')).toEqual([]);
  });

  it('passes an error thrown by change through untouched and writes nothing', async () => {
    const store = open(freshDb());
    await store.update('t', 'Kyber768', append);
    const refusal = new ForbiddenError('no');
    await expect(
      store.update('t', 'Kyber768', () => {
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(await all(store, 't', 'Kyber768')).toEqual([key(1)]);
    // A change without `put` leaves the keyring as it was.
    expect(await store.update('t', 'Kyber768', () => ({ result: 7 }))).toBe(7);
    expect(await all(store, 't', 'Kyber768')).toEqual([key(1)]);
  });

  it('never mints a version twice when two connections update at once', async () => {
    const name = freshDb();
    const [tabA, tabB] = [open(name), open(name)];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? tabA : tabB).update('t', 'Dilithium3', append)));
    expect(new Set(results).size).toBe(40);
    expect(await versions(tabA, 't', 'Dilithium3')).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await tabB.active('t', 'Dilithium3'))?.key_version).toBe(40);
  });

  it('maps a quota failure to ERR_SERVICE_001 and leaves the keyring whole', async () => {
    const store = open(freshDb());
    await store.update('t', 'Kyber768', append);
    const proto = globalThis.IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      await expect(store.update('t', 'Kyber768', append)).rejects.toMatchObject({
        code: 'ERR_SERVICE_001',
        message: 'Browser storage quota exceeded: the keyring was not changed',
      });
    } finally {
      proto.put = put;
    }
    expect(await all(store, 't', 'Kyber768')).toEqual([key(1)]);
  });

  it('maps an aborted transaction to ERR_SERVICE_001 with nothing written', async () => {
    const store = open(freshDb());
    await store.update('t', 'Kyber768', append);
    const proto = globalThis.IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      const request = put.apply(this, args);
      this.transaction.abort(); // e.g. the browser evicting the origin's storage mid-write
      return request;
    };
    try {
      await expect(store.update('t', 'Kyber768', append)).rejects.toMatchObject({ code: 'ERR_SERVICE_001' });
    } finally {
      proto.put = put;
    }
    expect(await all(store, 't', 'Kyber768')).toEqual([key(1)]);
  });

  it('fails with ERR_SERVICE_001 once closed', async () => {
    const store = open(freshDb());
    await store.close();
    await expect(store.get('t', 'Kyber768', 1)).rejects.toMatchObject({ code: 'ERR_SERVICE_001' });
    await expect(store.update('t', 'Kyber768', append)).rejects.toMatchObject({ code: 'ERR_SERVICE_001' });
  });
});

describe('IndexedDbKeyStore schema upgrade from version 1 (one row per keyring)', () => {
  /** A database exactly as earlier releases left it: idb-keyval's single `keyrings` store, version 1. */
  async function legacyDatabase(name: string, rows: [IDBValidKey, unknown][]): Promise<void> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore('keyrings');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('keyrings', 'readwrite');
      for (const [id, value] of rows) tx.objectStore('keyrings').put(value, id);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }

  it('keeps every key and the wrapping key, and leaves a marker an earlier release refuses', async () => {
    const name = freshDb();
    const wrapping = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const ring = [key(1, 'archived'), key(2, 'retired'), key(3)];
    await legacyDatabase(name, [
      ['wrapping-key', wrapping],
      [['keyring', 'app', 'Dilithium3'], { format: 1, keys: ring }],
      [['keyring', 'other', 'Kyber768'], { format: 1, keys: [key(1)] }],
    ]);
    const store = open(name);
    expect(await all(store, 'app', 'Dilithium3')).toEqual(ring);
    expect(await store.active('app', 'Dilithium3')).toEqual(key(3));
    expect(await store.get('other', 'Kyber768', 1)).toEqual(key(1));
    // The same CryptoKey: seeds wrapped before the upgrade still unwrap.
    const sealed = await aesGcmSeedWrapper(wrapping).wrap(new Uint8Array([5]), new Uint8Array());
    expect(await aesGcmSeedWrapper(await store.wrappingKey()).unwrap(sealed, new Uint8Array())).toEqual(new Uint8Array([5]));
    // Rotation continues from the migrated highest version.
    expect(await store.update('app', 'Dilithium3', append)).toBe(4);
    // Where an earlier release looks for the keyring it finds a format it refuses (it reads format 1 only).
    await store.close();
    const values = await dumpDatabase(name);
    expect(values.filter((v) => (v as { format?: number }).format !== undefined)).toEqual([{ format: 2 }, { format: 2 }]);
  });

  it('refuses to open, changing nothing, when a keyring row is in an unknown format', async () => {
    const name = freshDb();
    await legacyDatabase(name, [
      [['keyring', 'a', 'Kyber768'], { format: 1, keys: [key(1)] }],
      [['keyring', 't', 'Kyber768'], { format: 99, keys: [] }],
    ]);
    await expect(open(name).get('a', 'Kyber768', 1)).rejects.toMatchObject({
      code: 'ERR_SERVICE_001',
      message: 'Browser key storage holds a keyring in an unknown format',
    });
    const values = await dumpDatabase(name);
    expect(values).toEqual(
      expect.arrayContaining([
        { format: 1, keys: [key(1)] },
        { format: 99, keys: [] },
      ]),
    );
    expect(values).toHaveLength(2);
  });
});

describe('IndexedDbKeyStore wrapping key', () => {
  it('is a non-extractable AES-256-GCM CryptoKey, created once and kept', async () => {
    const name = freshDb();
    const key1 = await open(name).wrappingKey();
    expect(key1.extractable).toBe(false);
    expect(key1.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    await expect(globalThis.crypto.subtle.exportKey('raw', key1)).rejects.toThrow();
    const key2 = await open(name).wrappingKey(); // a later start of the app
    const sealed = await aesGcmSeedWrapper(key1).wrap(new Uint8Array([1, 2, 3]), new Uint8Array());
    expect(await aesGcmSeedWrapper(key2).unwrap(sealed, new Uint8Array())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('ends with one key when two tabs start at the same moment', async () => {
    const name = freshDb();
    const keys = await Promise.all(Array.from({ length: 4 }, () => open(name).wrappingKey()));
    const sealed = await aesGcmSeedWrapper(keys[0]!).wrap(new Uint8Array([9]), new Uint8Array());
    for (const k of keys) expect(await aesGcmSeedWrapper(k).unwrap(sealed, new Uint8Array())).toEqual(new Uint8Array([9]));
    const values = await dumpDatabase(name);
    expect(values.filter((v) => v instanceof CryptoKey)).toHaveLength(1);
  });
});

describe('Engine over IndexedDbKeyStore', () => {
  async function engineFor(name: string, seeds?: Uint8Array[]) {
    const store = open(name);
    const inner = aesGcmSeedWrapper(await store.wrappingKey());
    const wrapper: SeedWrapper = seeds
      ? {
          wrap: (seed, binding) => {
            seeds.push(seed.slice());
            return inner.wrap(seed, binding);
          },
          unwrap: inner.unwrap,
        }
      : inner;
    return Engine.create({ store, wrapper });
  }
  const caller = { tenant: 'app' };

  it('two tabs rotating concurrently 20 times end with 21 distinct consecutive versions', async () => {
    const name = freshDb();
    const [tabA, tabB] = await Promise.all([engineFor(name), engineFor(name)]);
    const generated = await tabA.execute(caller, 'kms.generate', { algorithm: 'Dilithium3' }, 'g');
    expect(generated).toMatchObject({ data: { key_version: 1 } });
    const rotated = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? tabA : tabB).execute(caller, 'kms.rotate', { algorithm: 'Dilithium3' }, `r${i}`)),
    );
    const versions = rotated.map((e) => ('data' in e ? (e.data as { key_version: number }).key_version : e.error.code));
    expect([...versions].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const list = await tabB.execute(caller, 'kms.list', { algorithm: 'Dilithium3' }, 'l');
    const keys = (list as { data: { keys: { key_version: number; status: string }[] } }).data.keys;
    expect(keys.map((k) => k.key_version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(keys.filter((k) => k.status === 'active')).toEqual([expect.objectContaining({ key_version: 21 })]);
    // Either tab can use a key the other one minted: one wrapping key for the database.
    const signed = await tabA.execute(caller, 'signature.sign', { message: 'aGk=', key_version: 21 }, 's');
    expect(signed).toHaveProperty('data.signature');
  });

  it('stores no raw seed anywhere in the database', async () => {
    const name = freshDb();
    const seeds: Uint8Array[] = [];
    const engine = await engineFor(name, seeds);
    await engine.execute(caller, 'kms.generate', { algorithm: 'Kyber768' }, '1');
    await engine.execute(caller, 'kms.generate', { algorithm: 'Dilithium3' }, '2');
    await engine.execute(caller, 'kms.rotate', { algorithm: 'Dilithium3' }, '3');
    expect(seeds).toHaveLength(3);
    const haystack = bytesIn(await dumpDatabase(name)).join('|');
    expect(haystack.length).toBeGreaterThan(1000);
    for (const seed of seeds) {
      expect(haystack).not.toContain(hex(seed));
      expect(haystack).not.toContain(Buffer.from(seed).toString('base64'));
    }
  });

  it('turns a storage failure into an ERR_SERVICE_001 envelope', async () => {
    const engine = await engineFor(freshDb());
    const proto = globalThis.IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      const envelope = await engine.execute(caller, 'kms.generate', { algorithm: 'Kyber768' }, 'q');
      expect(envelope).toMatchObject({
        error: { code: 'ERR_SERVICE_001', message: 'Browser storage quota exceeded: the keyring was not changed' },
      });
    } finally {
      proto.put = put;
    }
    expect(await engine.execute(caller, 'kms.list', { algorithm: 'Kyber768' }, 'l')).toMatchObject({ data: { keys: [] } });
  });
});
