/**
 * X-Wing (src/crypto/xwing.ts) against the draft's own vectors (test/vectors/hybrid/, see the
 * README there): key generation from the seed, encapsulation with a fixed eseed, decapsulation,
 * and the SPKI of the draft's x509/xwing.pub example.
 * @module
 */
import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { decodeSpki, encodeSpki } from '../../src/crypto/spki.js';
import {
  X_WING,
  XWING_EXPANDED_SECRET_KEY_LENGTH,
  xwingDecapsulate,
  xwingEncapsulate,
  xwingExpandSecretKey,
  xwingKeygen,
  xwingKeygenExpanded,
} from '../../src/crypto/xwing.js';

interface XWingVector {
  seed: string;
  sk: string;
  pk: string;
  eseed: string;
  ct: string;
  ss: string;
}

const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../vectors/hybrid/${name}`, import.meta.url), 'utf8')) as T;
const vectors = read<XWingVector[]>('xwing_test_vectors.json');
const x509 = read<{ publicKeySpkiDer: string; privateKeyPkcs8Der: string }>('xwing_x509_examples.json');

describe('X-Wing draft-connolly-cfrg-xwing-kem-10 test vectors', () => {
  it('has the three vectors', () => expect(vectors.length).toBe(3));

  it.each(vectors.map((v, i) => [i, v] as const))('vector %i: keygen, encaps with eseed, decaps', (_, v) => {
    expect(v.sk).toBe(v.seed);
    const { publicKey, secretKey } = xwingKeygen(hexToBytes(v.seed));
    expect(bytesToHex(publicKey)).toBe(v.pk);
    expect(bytesToHex(secretKey)).toBe(v.seed);
    const { cipherText, sharedSecret } = xwingEncapsulate(publicKey, hexToBytes(v.eseed));
    expect(bytesToHex(cipherText)).toBe(v.ct);
    expect(bytesToHex(sharedSecret)).toBe(v.ss);
    expect(bytesToHex(xwingDecapsulate(hexToBytes(v.ct), hexToBytes(v.seed)))).toBe(v.ss);
    // The expanded key (what key caches keep) decapsulates to the same secret with the draft's combiner.
    const expanded = xwingExpandSecretKey(hexToBytes(v.seed));
    expect(expanded.length).toBe(XWING_EXPANDED_SECRET_KEY_LENGTH);
    expect(bytesToHex(expanded.subarray(2432))).toBe(v.pk.slice(-64)); // pk_X closes both
    expect(bytesToHex(xwingDecapsulate(hexToBytes(v.ct), expanded))).toBe(v.ss);
    const pair = xwingKeygenExpanded(hexToBytes(v.seed));
    expect(bytesToHex(pair.publicKey)).toBe(v.pk);
    expect(pair.secretKey).toEqual(expanded);
  });

  it('the expanded key agrees with the seed on tampered ciphertexts too, and refuses a low-order X25519 half the same way', () => {
    const seed = new Uint8Array(32).fill(9);
    const expanded = xwingExpandSecretKey(seed);
    const { cipherText } = xwingEncapsulate(xwingKeygen(seed).publicKey);
    for (const i of [0, 500, 1087, 1088, 1119]) {
      const ct = cipherText.slice();
      ct[i]! ^= 1;
      expect(xwingDecapsulate(ct, expanded), `byte ${i}`).toEqual(xwingDecapsulate(ct, seed));
    }
    const lowOrder = cipherText.slice();
    lowOrder.fill(0, 1088);
    expect(() => xwingDecapsulate(lowOrder, seed)).toThrow();
    expect(() => xwingDecapsulate(lowOrder, expanded)).toThrow();
  });

  it('a changed ML-KEM ciphertext byte gives another secret (implicit rejection), not an error', () => {
    const v = vectors[0]!;
    const ct = hexToBytes(v.ct);
    ct[10]! ^= 1;
    const ss = xwingDecapsulate(ct, hexToBytes(v.seed));
    expect(ss.length).toBe(32);
    expect(bytesToHex(ss)).not.toBe(v.ss);
  });

  it('a changed X25519 ciphertext byte gives another secret', () => {
    const v = vectors[1]!;
    const ct = hexToBytes(v.ct);
    ct[1100]! ^= 1;
    expect(bytesToHex(xwingDecapsulate(ct, hexToBytes(v.seed)))).not.toBe(v.ss);
  });
});

describe('X-Wing arguments', () => {
  const { publicKey } = xwingKeygen(new Uint8Array(32).fill(5));

  it('sizes', () => {
    expect(X_WING).toMatchObject({ seedLength: 32, publicKeyLength: 1216, cipherTextLength: 1120, sharedSecretLength: 32 });
    const { cipherText, sharedSecret } = xwingEncapsulate(publicKey);
    expect([cipherText.length, sharedSecret.length]).toEqual([1120, 32]);
  });

  it('random encapsulations differ and both decapsulate', () => {
    const seed = new Uint8Array(32).fill(5);
    const a = xwingEncapsulate(publicKey);
    const b = xwingEncapsulate(publicKey);
    expect(a.cipherText).not.toEqual(b.cipherText);
    expect(xwingDecapsulate(a.cipherText, seed)).toEqual(a.sharedSecret);
    expect(xwingDecapsulate(b.cipherText, seed)).toEqual(b.sharedSecret);
  });

  it('refuses wrong lengths by name', () => {
    expect(() => xwingKeygen(new Uint8Array(31))).toThrow(/"seed" must be 32 bytes/);
    expect(() => xwingKeygen(new Uint8Array(64))).toThrow(RangeError);
    expect(() => xwingEncapsulate(publicKey.subarray(1))).toThrow(/"publicKey" must be 1216 bytes/);
    expect(() => xwingEncapsulate(publicKey, new Uint8Array(32))).toThrow(/"randomness" must be 64 bytes/);
    expect(() => xwingDecapsulate(new Uint8Array(1119), new Uint8Array(32))).toThrow(/"cipherText"/);
    expect(() => xwingDecapsulate(new Uint8Array(1120), new Uint8Array(64))).toThrow(
      /"secretKey" must be the 32-byte X-Wing seed or the 2464-byte expanded key, got 64/,
    );
    expect(() => xwingKeygen('seed' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('refuses an ML-KEM half failing the FIPS 203 modulus check and a low-order X25519 half', () => {
    const badMlKem = publicKey.slice();
    badMlKem[0] = 0xff;
    badMlKem[1] = 0xff;
    expect(() => xwingEncapsulate(badMlKem)).toThrow(/not a valid X-Wing public key/);
    const zeroX = publicKey.slice();
    zeroX.fill(0, 1184);
    expect(() => xwingEncapsulate(zeroX)).toThrow(RangeError);
    const ct = xwingEncapsulate(publicKey).cipherText;
    ct.fill(0, 1088);
    expect(() => xwingDecapsulate(ct, new Uint8Array(32).fill(5))).toThrow();
  });
});

describe('X-Wing SPKI (id-XWing 1.3.6.1.4.1.62253.25722, parameters absent)', () => {
  it("encodes the draft's x509/xwing.pub example from its private key (seed 00 01 … 1f)", () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
    const pkcs8 = hexToBytes(x509.privateKeyPkcs8Der);
    expect(bytesToHex(pkcs8)).toBe(`3034020100300d060b2b0601040183e62d81c87a0420${bytesToHex(seed)}`);
    const { publicKey } = xwingKeygen(seed);
    expect(bytesToHex(encodeSpki('X-Wing', publicKey))).toBe(x509.publicKeySpkiDer);
  });

  it('decodes it back and refuses a truncated or altered prefix', () => {
    const der = hexToBytes(x509.publicKeySpkiDer);
    const decoded = decodeSpki(der);
    expect(decoded?.algorithm).toBe('X-Wing');
    expect(decoded?.publicKey.length).toBe(1216);
    expect(decodeSpki(der.subarray(0, der.length - 1))).toBeUndefined();
    const bad = der.slice();
    bad[10]! ^= 1; // inside the OID
    expect(decodeSpki(bad)).toBeUndefined();
    expect(() => encodeSpki('X-Wing', new Uint8Array(1184))).toThrow(RangeError);
  });
});
