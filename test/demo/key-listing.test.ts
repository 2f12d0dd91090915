/**
 * The playground's key table reads whole key rings page by page, so the active key of a ring with
 * more versions than one page holds is still known to the panels, and draws the newest rows of
 * each algorithm. Over the real library: Qpher + an in-process LocalBackend.
 */
import { describe, expect, test } from 'vitest';
import { listEveryKey, ROWS_PER_ALGORITHM, rowsToDraw } from '../../demo/key-listing.js';
import { LocalBackend, MemoryKeyStore, Qpher, ServiceUnavailableError, type StoredKey, unwrap } from '../../src/index.js';

/** Archived versions 1..count, as an old key ring would hold them (listing reads no seed). */
function history(count: number): StoredKey[] {
  return Array.from({ length: count }, (_, i) => ({
    key_version: i + 1,
    status: 'archived',
    public_key: `pk${i + 1}`,
    created_at: new Date(0).toISOString(),
    wrapped_seed: new Uint8Array(40),
  }));
}

const descending = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i);

describe('the key table', () => {
  test('knows every version of a ring past one page of the largest size, and draws the newest of each algorithm', async () => {
    const store = new MemoryKeyStore();
    await store.update('local', 'Kyber768', () => ({ put: history(1205), result: null }));
    const q = new Qpher({ backend: new LocalBackend({ store }) });
    expect(unwrap(await q.kms.rotate({ algorithm: 'Kyber768' })).key_version).toBe(1206);
    unwrap(await q.kms.generate({ algorithm: 'Dilithium3' }));

    const listed = await listEveryKey(q);
    if ('error' in listed) throw new Error(listed.error.message);
    const versions = (algorithm: string, keys = listed.keys) => keys.filter((k) => k.algorithm === algorithm).map((k) => k.key_version);
    expect(versions('Kyber768')).toEqual(descending(1206, 1));
    expect(listed.keys[0]).toMatchObject({ algorithm: 'Kyber768', key_version: 1206, status: 'active' });
    expect(versions('Dilithium3')).toEqual([1]);

    const { shown, hidden } = rowsToDraw(listed.keys);
    expect(versions('Kyber768', shown)).toEqual(descending(1206, 1206 - ROWS_PER_ALGORITHM + 1));
    expect(versions('Dilithium3', shown)).toEqual([1]);
    expect(hidden).toBe(1206 - ROWS_PER_ALGORITHM);
  });

  test('gives back the first error envelope instead of a partial list', async () => {
    const store = new MemoryKeyStore();
    store.list = async () => {
      throw new ServiceUnavailableError('Service temporarily unavailable: the store is busy');
    };
    const listed = await listEveryKey(new Qpher({ backend: new LocalBackend({ store }) }));
    expect('error' in listed && listed.error.code).toBe('ERR_SERVICE_001');
  });
});
