/**
 * Every provider's results are interchangeable with every other's: for each ordered pair
 * (A, B) of the providers this runtime has, the same seed gives the same keys, a ciphertext
 * sealed by A (HPKE, random and deterministic) opens with B, a signature by A verifies with B
 * (with and without a context), and B rejects a tampered one. Under Node 20 the pairs are
 * noble×wasm; `npm run test:node-lts` adds native.
 */
import { describe, expect, it } from 'vitest';
import { hpkeOpen, hpkeSeal } from '../../src/crypto/hpke.js';
import { providersUnderTest } from './available.js';

const available = (await providersUnderTest()).filter((p) => p.provider !== undefined);
const pairs = available.flatMap((a) => available.map((b) => [a, b] as const));
const bytes = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
const enc = new TextEncoder();

describe.each(pairs.map(([a, b]) => ({ from: a.name, to: b.name, a: a.provider!, b: b.provider! })))('$from → $to', ({ a, b }) => {
  it('same seed → same public and expanded secret keys', () => {
    for (let i = 0; i < 3; i++) {
      const kemSeed = bytes(64);
      const dsaSeed = bytes(32);
      expect(b.mlKem768.keygen(kemSeed)).toEqual(a.mlKem768.keygen(kemSeed));
      expect(b.mlDsa65.keygen(dsaSeed)).toEqual(a.mlDsa65.keygen(dsaSeed));
    }
  });

  it('encapsulate with one, decapsulate with the other (random and given m)', () => {
    const keys = a.mlKem768.keygen(bytes(64));
    const random = a.mlKem768.encapsulate(keys.publicKey);
    expect(b.mlKem768.decapsulate(random.cipherText, keys.secretKey)).toEqual(random.sharedSecret);
    const m = bytes(32);
    expect(b.mlKem768.encapsulate(keys.publicKey, m)).toEqual(a.mlKem768.encapsulate(keys.publicKey, m));
  });

  it('HPKE: seal with one, open with the other (seed and expanded key)', async () => {
    const seed = bytes(64);
    const { publicKey, secretKey } = a.mlKem768.keygen(seed);
    const info = enc.encode('qpher cross');
    const aad = bytes(16);
    const plaintext = bytes(1024);
    const sealed = await hpkeSeal({ publicKey, info, aad, plaintext, provider: a });
    expect(await hpkeOpen({ secretKey: seed, ...sealed, info, aad, provider: b })).toEqual(plaintext);
    expect(await hpkeOpen({ secretKey: secretKey.slice(), ...sealed, info, aad, provider: b })).toEqual(plaintext);
  });

  it('sign with one, verify with the other (no context, context), tampering fails', () => {
    const { publicKey, secretKey } = a.mlDsa65.keygen(bytes(32));
    const message = bytes(1024);
    const context = enc.encode('qpher-ctx');
    const plain = a.mlDsa65.sign(message, secretKey);
    const withContext = a.mlDsa65.sign(message, secretKey, { context });
    expect(b.mlDsa65.verify(plain, message, publicKey)).toBe(true);
    expect(b.mlDsa65.verify(withContext, message, publicKey, { context })).toBe(true);
    expect(b.mlDsa65.verify(withContext, message, publicKey)).toBe(false);
    const tampered = plain.slice();
    tampered[100]! ^= 1;
    expect(b.mlDsa65.verify(tampered, message, publicKey)).toBe(false);
  });

  it('deterministic signatures are byte-identical', () => {
    const { secretKey } = a.mlDsa65.keygen(bytes(32));
    const message = bytes(200);
    const rnd = bytes(32);
    expect(b.mlDsa65.sign(message, secretKey, { randomness: false })).toEqual(a.mlDsa65.sign(message, secretKey, { randomness: false }));
    expect(b.mlDsa65.sign(message, secretKey, { randomness: rnd })).toEqual(a.mlDsa65.sign(message, secretKey, { randomness: rnd }));
  });
});

it('there is more than one provider to cross-check', () => {
  expect(available.length).toBeGreaterThanOrEqual(2);
});

describe.each(available.filter((p) => p.provider!.aes256Gcm).map((p) => ({ name: p.name, aead: p.provider!.aes256Gcm! })))(
  '$name aes256Gcm against WebCrypto',
  ({ aead }) => {
    it('same bytes both ways; a flipped bit or a short ciphertext throws', async () => {
      for (const length of [0, 1, 16, 1024]) {
        const key = bytes(32);
        const nonce = bytes(12);
        const aad = bytes(length % 7);
        const plaintext = bytes(length);
        const webKey = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']);
        const web = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, webKey, plaintext));
        const sealed = aead.seal(key, nonce, aad, plaintext);
        expect(sealed).toEqual(web);
        expect(aead.open(key, nonce, aad, web)).toEqual(plaintext);
        const flipped = sealed.slice();
        flipped[flipped.length - 1]! ^= 1;
        expect(() => aead.open(key, nonce, aad, flipped)).toThrow();
      }
      expect(() => aead.open(bytes(32), bytes(12), new Uint8Array(), bytes(15))).toThrow(RangeError);
    });
  },
);
