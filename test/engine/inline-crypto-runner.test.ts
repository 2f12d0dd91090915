/**
 * The inline runner reads a seed before its first `await`: the engine's key material may wipe a
 * seed it dropped once the caller has yielded (src/engine/key-material.ts), and the raw operations
 * and the hybrids load their code with dynamic imports first. Each operation that takes a seed is
 * called, the caller's seed is wiped at once, and the answer must still be the right one.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { compositeKeygen, compositeVerify } from '../../src/crypto/composite-ml-dsa.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { xwingEncapsulate, xwingKeygen } from '../../src/crypto/xwing.js';
import { InlineCryptoRunner } from '../../src/engine/inline-crypto-runner.js';

const wipedAfterCall = <T>(seed: Uint8Array, call: (seed: Uint8Array) => Promise<T>): Promise<T> => {
  const promise = call(seed);
  seed.fill(0); // what KeyMaterial does to a dropped seed after the caller yielded
  return promise;
};

describe('InlineCryptoRunner copies the seed before it yields', () => {
  it('X-Wing decapsulate and unwrapKey, composite sign and signHash, ML-KEM decrypt, with a fresh runner each (cold cache)', async () => {
    const xSeed = new Uint8Array(32).fill(7);
    const xwing = { id: 'x', publicKey: xwingKeygen(xSeed).publicKey, algorithm: 'X-Wing' as const };
    const { cipherText, sharedSecret } = xwingEncapsulate(xwing.publicKey);
    expect(
      await wipedAfterCall(xSeed.slice(), (seed) => new InlineCryptoRunner(nobleProvider).decapsulate({ ...xwing, seed }, cipherText)),
    ).toEqual(sharedSecret);
    const wrapped = await new InlineCryptoRunner(nobleProvider).wrapKey(xwing, { keyVersion: 1, symmetricKey: new Uint8Array(32).fill(3) });
    expect(
      await wipedAfterCall(xSeed.slice(), (seed) => new InlineCryptoRunner(nobleProvider).unwrapKey({ ...xwing, seed }, wrapped)),
    ).toEqual(new Uint8Array(32).fill(3));

    const cSeed = new Uint8Array(32).fill(8);
    const composite = { id: 'c', publicKey: compositeKeygen(cSeed).publicKey, algorithm: 'Composite-ML-DSA' as const };
    const message = new Uint8Array(100).fill(1);
    const signature = await wipedAfterCall(cSeed.slice(), (seed) =>
      new InlineCryptoRunner(nobleProvider).sign({ ...composite, seed }, message),
    );
    expect(compositeVerify(signature, message, composite.publicKey)).toBe(true);
    const digestSignature = await wipedAfterCall(cSeed.slice(), (seed) =>
      new InlineCryptoRunner(nobleProvider).signHash({ ...composite, seed }, { hashAlgorithm: 'SHA-512', hash: sha512(message) }),
    );
    expect(compositeVerify(digestSignature, message, composite.publicKey)).toBe(true);

    const kSeed = new Uint8Array(64).fill(9);
    const kyber = { id: 'k', publicKey: nobleProvider.mlKem768.keygen(kSeed).publicKey, algorithm: 'Kyber768' as const };
    const sealed = await new InlineCryptoRunner(nobleProvider).seal(kyber, {
      keyVersion: 1,
      plaintext: message,
      aad: new Uint8Array(),
      mode: 'standard',
    });
    expect(
      await wipedAfterCall(kSeed.slice(), (seed) =>
        new InlineCryptoRunner(nobleProvider).open({ ...kyber, seed }, { ciphertext: sealed, aad: new Uint8Array() }),
      ),
    ).toEqual(message);
  });
});
