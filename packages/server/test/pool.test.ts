/**
 * The crypto pool's back-pressure, directly: a full queue refuses at once with
 * ServiceUnavailableError (ERR_SERVICE_001, 503), a task past its deadline rejects with
 * GatewayTimeoutError (ERR_TIMEOUT_001, 504) at the deadline and the same pool keeps working
 * afterwards (no thread is killed); pool signatures verify; encrypt, verify, encapsulate, wrapKey
 * and verifyHash never send the seed to a thread.
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

  it('a queue that would run past the deadline: refused at once with 503, by what the pool has measured', async () => {
    pool = await CryptoPool.start({ threads: 1, provider: 'noble', maxQueue: 1000, deadlineMs: 1000 });
    // Nothing measured yet: the queue bound alone decides, so a burst is queued whole.
    const first = await Promise.allSettled(Array.from({ length: 20 }, () => pool!.sign(key(), message)));
    expect(first.every((r) => r.status === 'fulfilled')).toBe(true);
    // Now the pool knows a signature's time (~9 ms here): of 400 at once, far below the queue
    // bound, it admits about half a deadline's worth and refuses the rest before queueing them.
    const burst = Array.from({ length: 400 }, () => {
      const started = performance.now();
      return pool!.sign(key(), message).then(
        () => ({ status: 200, ms: performance.now() - started }),
        (error: unknown) => ({ status: (error as { status: number }).status, ms: performance.now() - started }),
      );
    });
    const answers = await Promise.all(burst);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(100);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    expect(answers.every((a) => a.status === 200 || a.status === 503 || a.status === 504)).toBe(true);
    expect(Math.max(...refused.map((a) => a.ms))).toBeLessThan(200); // at once, not after a wait
    expect(pool.stats.busy).toBe(refused.length);
    // An empty queue always admits: the pool is never locked out by its own estimate.
    while (pool.queued > 0) await new Promise((r) => setTimeout(r, 20));
    expect(nobleProvider.mlDsa65.verify(await pool.sign(key(), message), message, publicKey)).toBe(true);
  });

  it('encrypt and verify send the public key only: the seed is never read, open and sign do read it', async () => {
    pool = await CryptoPool.start({ threads: 1, provider: 'noble' });
    const kemSeed = new Uint8Array(64).fill(5);
    const kem = { id: 'kem', publicKey: nobleProvider.mlKem768.keygen(kemSeed).publicKey };
    // A key whose seed is a trap: any read of it (by the pool, or by structured clone of the
    // object into a task) is recorded and throws.
    const reads: string[] = [];
    const trapped = <T extends { id: string; publicKey: Uint8Array }>(ref: T, op: string) =>
      Object.defineProperty({ ...ref }, 'seed', {
        enumerable: true,
        get() {
          reads.push(op);
          throw new Error('seed read');
        },
      }) as T & { seed: Uint8Array };
    const plaintext = new TextEncoder().encode('public key only');
    const aad = new Uint8Array(0);
    const ciphertext = await pool.seal(trapped(kem, 'seal'), { keyVersion: 1, plaintext, aad, mode: 'standard' });
    const signature = await pool.sign(key(), message);
    expect(await pool.verify(trapped({ id: 'k', publicKey }, 'verify'), signature, message)).toBe(true);
    expect(reads).toEqual([]);
    // The ciphertext is real: it opens with the seed. And the trap works: open and sign read it.
    expect(await pool.open({ ...kem, seed: kemSeed.slice() }, { ciphertext, aad })).toEqual(plaintext);
    await expect((async () => pool!.open(trapped(kem, 'open'), { ciphertext, aad }))()).rejects.toThrow('seed read');
    await expect((async () => pool!.sign(trapped({ id: 'k', publicKey }, 'sign'), message))()).rejects.toThrow('seed read');
    expect(reads).toEqual(['open', 'sign']);
  });

  it('raw KEM, key wrap and digest signatures run on its threads; encapsulate, wrapKey and verifyHash never read the seed', async () => {
    pool = await CryptoPool.start({ threads: 1, provider: 'noble' });
    const kemSeed = new Uint8Array(64).fill(6);
    const kem = { id: 'kem', publicKey: nobleProvider.mlKem768.keygen(kemSeed).publicKey, algorithm: 'Kyber768' as const };
    const reads: string[] = [];
    const trapped = <T extends { id: string; publicKey: Uint8Array }>(ref: T, op: string) =>
      Object.defineProperty({ ...ref }, 'seed', {
        enumerable: true,
        get() {
          reads.push(op);
          throw new Error('seed read');
        },
      }) as T & { seed: Uint8Array };
    const before = pool.stats.completed;

    const { kemCiphertext, sharedSecret } = await pool.encapsulate(trapped(kem, 'encapsulate'));
    expect(kemCiphertext.length).toBe(1088);
    expect(await pool.decapsulate({ ...kem, seed: kemSeed.slice() }, kemCiphertext)).toEqual(sharedSecret);

    const symmetricKey = new Uint8Array(32).fill(9);
    const wrapped = await pool.wrapKey(trapped(kem, 'wrapKey'), { keyVersion: 1, symmetricKey });
    expect(await pool.unwrapKey({ ...kem, seed: kemSeed.slice() }, wrapped)).toEqual(symmetricKey);
    wrapped[wrapped.length - 1]! ^= 1;
    await expect(pool.unwrapKey({ ...kem, seed: kemSeed.slice() }, wrapped)).rejects.toThrow('unwrap failed');

    const hashArgs = { hashAlgorithm: 'SHA-384' as const, hash: new Uint8Array(48).fill(2) };
    const signature = await pool.signHash({ ...key(), algorithm: 'Dilithium3' }, hashArgs);
    expect(
      await pool.verifyHash(trapped({ id: 'k', publicKey, algorithm: 'Dilithium3' as const }, 'verifyHash'), signature, hashArgs),
    ).toBe(true);
    // a HashML-DSA signature is not a pure ML-DSA one
    expect(await pool.verify({ id: 'k', publicKey }, signature, hashArgs.hash)).toBe(false);
    expect(reads).toEqual([]);
    expect(pool.stats.completed - before).toBe(7); // eight tasks, the failed unwrap not counted as completed
    await expect((async () => pool!.decapsulate(trapped(kem, 'decapsulate'), kemCiphertext))()).rejects.toThrow('seed read');
    await expect((async () => pool!.signHash(trapped({ id: 'k', publicKey }, 'signHash'), hashArgs))()).rejects.toThrow('seed read');
  });

  it('X-Wing raw KEM and key wrap, composite sign-hash/verify-hash run on its threads, two at a time; the public-key tasks never read the seed', async () => {
    pool = await CryptoPool.start({ threads: 2, provider: 'noble' });
    const { xwingDecapsulate, xwingKeygen } = await import('../../../src/crypto/xwing.js');
    const { compositeKeygen, compositeVerify } = await import('../../../src/crypto/composite-ml-dsa.js');
    const { sha512 } = await import('@noble/hashes/sha2.js');
    const xSeed = new Uint8Array(32).fill(4);
    const xwing = { id: 'xwing', publicKey: xwingKeygen(xSeed).publicKey, algorithm: 'X-Wing' as const };
    const cSeed = new Uint8Array(32).fill(5);
    const composite = { id: 'composite', publicKey: compositeKeygen(cSeed).publicKey, algorithm: 'Composite-ML-DSA' as const };
    const noSeed = <T extends object>(ref: T) =>
      Object.defineProperty({ ...ref }, 'seed', {
        enumerable: true,
        get() {
          throw new Error('seed read');
        },
      }) as T & { seed: Uint8Array };

    // Several at once, so both threads get some (each thread expands the key itself).
    const sent = await Promise.all(Array.from({ length: 4 }, () => pool!.encapsulate(noSeed(xwing))));
    for (const { kemCiphertext, sharedSecret } of sent) {
      expect(kemCiphertext.length).toBe(1120);
      expect(xwingDecapsulate(kemCiphertext, xSeed)).toEqual(sharedSecret);
    }
    const got = await Promise.all(sent.map((s) => pool!.decapsulate({ ...xwing, seed: xSeed.slice() }, s.kemCiphertext)));
    expect(got).toEqual(sent.map((s) => s.sharedSecret));
    const lowOrder = sent[0]!.kemCiphertext.slice();
    lowOrder.fill(0, 1088);
    await expect(pool.decapsulate({ ...xwing, seed: xSeed.slice() }, lowOrder)).rejects.toThrow();

    const symmetricKey = new Uint8Array(48).fill(9);
    const wrapped = await pool.wrapKey(noSeed(xwing), { keyVersion: 3, symmetricKey });
    expect(wrapped.length).toBe(48 + 1144);
    expect(Array.from(wrapped.subarray(0, 4))).toEqual([0x02, 0x64, 0x7a, 0x02]);
    expect(await pool.unwrapKey({ ...xwing, seed: xSeed.slice() }, wrapped)).toEqual(symmetricKey);

    const hashArgs = { hashAlgorithm: 'SHA-512' as const, hash: sha512(message) };
    const signatures = await Promise.all(Array.from({ length: 2 }, () => pool!.signHash({ ...composite, seed: cSeed.slice() }, hashArgs)));
    for (const signature of signatures) {
      expect(await pool.verifyHash(noSeed(composite), signature, hashArgs)).toBe(true);
      // the digest signature is the composite signature of the message itself
      expect(compositeVerify(signature, message, composite.publicKey)).toBe(true);
      expect(await pool.verify(noSeed(composite), signature, message)).toBe(true);
      const broken = signature.slice();
      broken[signature.length - 3]! ^= 1; // the ECDSA half
      expect(await pool.verifyHash(noSeed(composite), broken, hashArgs)).toBe(false);
    }
    await expect(
      pool.signHash({ ...composite, seed: cSeed.slice() }, { hashAlgorithm: 'SHA-256', hash: new Uint8Array(32) }),
    ).rejects.toThrow(/SHA-512/);
  });

  it('an explicit provider the runtime lacks stops start-up', async () => {
    const native = await selectProvider('native').catch(() => undefined);
    if (native) return; // Node 24.7+: native is there
    await expect(CryptoPool.start({ threads: 1, provider: 'native' })).rejects.toThrow(/Node 24/);
  });
});
