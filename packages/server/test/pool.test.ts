/**
 * The crypto pool's back-pressure, directly: a full queue refuses at once with
 * ServiceUnavailableError (ERR_SERVICE_001, 503), a task past its deadline rejects with
 * GatewayTimeoutError (ERR_TIMEOUT_001, 504) at the deadline and the same pool keeps working
 * afterwards (no thread is killed); pool signatures verify.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nobleProvider, selectProvider } from 'qpher/host';
import { GatewayTimeoutError, ServiceUnavailableError } from 'qpher/host';
import { CryptoPool } from '../src/pool.js';

let pool: CryptoPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const seed = new Uint8Array(32).fill(3);
const { publicKey } = nobleProvider.mlDsa65.keygen(seed);
const key = () => ({ id: 'k', seed: seed.slice(), publicKey });
const message = new Uint8Array(1024).fill(1);

describe('CryptoPool', () => {
  it('signs on its threads; signatures verify; reports its provider', async () => {
    pool = await CryptoPool.start({ threads: 2, provider: 'noble' });
    expect(pool.provider).toBe('noble');
    const signatures = await Promise.all(Array.from({ length: 4 }, () => pool!.sign(key(), message)));
    for (const signature of signatures) expect(nobleProvider.mlDsa65.verify(signature, message, publicKey)).toBe(true);
    expect(await pool.verify({ id: 'k', publicKey }, signatures[0]!, message)).toBe(true);
  });

  it('queue full: ServiceUnavailableError at once, not a longer wait', async () => {
    pool = await CryptoPool.start({ threads: 1, provider: 'noble', maxQueue: 2 });
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => pool!.sign(key(), message)));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailableError);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(pool.stats.busy).toBe(refused.length);
  });

  it('past the deadline: GatewayTimeoutError, and the same pool still answers afterwards', async () => {
    pool = await CryptoPool.start({ threads: 1, provider: 'noble', deadlineMs: 150 });
    // ~40 noble signatures (~9 ms each) on one thread: the later ones wait past 150 ms.
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => pool!.sign(key(), message)));
    const timedOut = results.filter((r) => r.status === 'rejected' && r.reason instanceof GatewayTimeoutError);
    expect(timedOut.length).toBeGreaterThan(0);
    expect(results.every((r) => r.status === 'fulfilled' || r.reason instanceof GatewayTimeoutError)).toBe(true);
    expect((timedOut[0] as PromiseRejectedResult).reason.code).toBe('ERR_TIMEOUT_001');
    expect(pool.stats.timedOut).toBe(timedOut.length);
    // Late tasks still run (their answers are dropped); once they have, the pool answers in time.
    while (pool.queued > 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(nobleProvider.mlDsa65.verify(await pool.sign(key(), message), message, publicKey)).toBe(true);
  });

  it('an explicit provider the runtime lacks stops start-up', async () => {
    const native = await selectProvider('native').catch(() => undefined);
    if (native) return; // Node 24: native is there
    await expect(CryptoPool.start({ threads: 1, provider: 'native' })).rejects.toThrow(/Node 24/);
  });
});
