/**
 * Unwrapped seeds leave the engine's cache wiped: on LRU eviction, and when their version is
 * archived. The wrapper here hands out the very arrays the cache keeps, so the test can look at
 * them afterwards.
 */
import { describe, expect, test } from 'vitest';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { bytesToBase64 } from '../../src/encoding.js';
import { Engine } from '../../src/engine/engine.js';
import { KeyMaterial } from '../../src/engine/key-material.js';
import { ephemeralSeedWrapper, type SeedWrapper } from '../../src/engine/seed-wrapper.js';
import { MemoryKeyStore } from '../../src/index.js';

async function unwrapRecorder(): Promise<{ wrapper: SeedWrapper; unwrapped: Uint8Array[] }> {
  const inner = await ephemeralSeedWrapper();
  const unwrapped: Uint8Array[] = [];
  return {
    unwrapped,
    wrapper: {
      wrap: (seed, binding) => inner.wrap(seed, binding),
      unwrap: async (wrapped, binding) => {
        const seed = await inner.unwrap(wrapped, binding);
        unwrapped.push(seed);
        return seed;
      },
    },
  };
}

const nextMacrotask = () => new Promise((resolve) => setTimeout(resolve, 5));
const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

describe('KeyMaterial seed cache', () => {
  test('wipes a seed when the LRU evicts it, not before', async () => {
    const { wrapper, unwrapped } = await unwrapRecorder();
    const keys = new KeyMaterial(wrapper, nobleProvider, 2);
    const now = new Date();
    const stored = await Promise.all(
      [1, 2, 3].map(async (key_version) => ({ key_version, status: 'active' as const, ...(await keys.create('t', 'Kyber768', now)) })),
    );
    const first = await keys.ref('t', 'Kyber768', stored[0]!);
    await keys.ref('t', 'Kyber768', stored[1]!);
    await nextMacrotask();
    expect(isZero(first.seed)).toBe(false);
    await keys.ref('t', 'Kyber768', stored[2]!); // evicts version 1
    expect(isZero(first.seed)).toBe(false); // still usable by whoever holds it in this turn
    await nextMacrotask();
    expect(isZero(first.seed)).toBe(true);
    expect(unwrapped.slice(1).some(isZero)).toBe(false);
  });

  test('the engine wipes the cached seed of a version it archives', async () => {
    const { wrapper, unwrapped } = await unwrapRecorder();
    const engine = await Engine.create({ store: new MemoryKeyStore(), wrapper });
    const caller = { tenant: 't' };
    const run = async (name: Parameters<Engine['execute']>[1], request: unknown) => {
      const envelope = await engine.execute(caller, name, request, '00000000-0000-4000-8000-000000000000');
      if ('error' in envelope) throw new Error(envelope.error.message);
      return envelope.data as Record<string, unknown>;
    };
    await run('kms.generate', { algorithm: 'Kyber768' });
    const { ciphertext } = await run('kem.encrypt', { plaintext: bytesToBase64(new Uint8Array([1, 2, 3])), key_version: 1 });
    await run('kem.decrypt', { ciphertext, key_version: 1 });
    expect(unwrapped).toHaveLength(1); // cached: one unwrap for both calls
    await run('kms.rotate', { algorithm: 'Kyber768' });
    await nextMacrotask();
    expect(isZero(unwrapped[0]!)).toBe(false); // retired keys still decrypt
    await run('kms.archive', { algorithm: 'Kyber768', key_version: 1 });
    await nextMacrotask();
    expect(isZero(unwrapped[0]!)).toBe(true);
  });
});
