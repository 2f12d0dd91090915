/**
 * Composite id-MLDSA65-ECDSA-P256-SHA512 (src/crypto/composite-ml-dsa.ts): the draft's M′ examples
 * and test vectors (test/vectors/hybrid/, including a high-S ECDSA half and a certificate signed
 * with the composite key), the seed derivation, the pre-hash form, and that a signature verifies
 * only as a whole. The ECDSA halves are cross-checked with node:crypto (OpenSSL).
 * @module
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  COMPOSITE_MLDSA65_P256,
  compositeExpandSecretKey,
  compositeKeygen,
  compositeKeygenExpanded,
  compositeMessageRepresentative,
  compositeSecretKeyFromSeed,
  compositeSign,
  compositeSignDigest,
  compositeVerify,
  compositeVerifyDigest,
} from '../../src/crypto/composite-ml-dsa.js';
import { decodeSpki, encodeSpki } from '../../src/crypto/spki.js';

const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../vectors/hybrid/${name}`, import.meta.url), 'utf8')) as T;
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const file = read<{
  m: string;
  ctx: string;
  tests: { tcId: string; pk: string; x5c: string; sk: string; sk_pkcs8: string; s: string; sWithContext: string }[];
}>('composite_mldsa65_test_vectors.json');
const mprime = read<{ examples: { alg: string; M: string; ctx: string; PH_M: string; MPrime: string; Label: string }[] }>(
  'composite_mldsa65_mprime_examples.json',
);
const vector = file.tests.find((t) => t.tcId === 'id-MLDSA65-ECDSA-P256-SHA512')!;
const m = b64(file.m);
const ctx = b64(file.ctx);
const N = p256.Point.CURVE().n;

/** Minimal DER reader for the certificate: returns [tag, header length, content length]. */
function tlv(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | der[at + 2 + i]!;
    start += n;
  }
  return { tag, start, end: start + len };
}

/** The ECDSA half as (r, s), to look at s and to build the n − s twin. */
function ecdsaHalf(signature: Uint8Array): Uint8Array {
  return signature.subarray(3309);
}

const flip = (bytes: Uint8Array, i: number) => {
  const c = bytes.slice();
  c[i]! ^= 1;
  return c;
};

describe('message representative M′ (draft appendix examples)', () => {
  it.each(mprime.examples.map((e) => [e.ctx === '' ? 'no ctx' : 'with ctx', e] as const))('%s', (_, e) => {
    expect(e.alg).toBe('id-MLDSA65-ECDSA-P256-SHA512');
    expect(e.Label).toBe(COMPOSITE_MLDSA65_P256.label);
    expect(bytesToHex(sha512(hexToBytes(e.M)))).toBe(e.PH_M);
    expect(bytesToHex(compositeMessageRepresentative(hexToBytes(e.PH_M), hexToBytes(e.ctx)))).toBe(e.MPrime);
  });
});

describe('draft-ietf-lamps-pq-composite-sigs-19 test vector (id-MLDSA65-ECDSA-P256-SHA512)', () => {
  const sk = b64(vector.sk);
  const pk = b64(vector.pk);

  it('rebuilds the public key from the draft private key (ML-DSA seed ‖ ECPrivateKey)', () => {
    expect(sk.length).toBe(83);
    expect(bytesToHex(compositeKeygen(sk).publicKey)).toBe(bytesToHex(pk));
    expect(bytesToHex(b64(vector.sk_pkcs8))).toBe(`3064020100300a06082b0601050507062d0453${bytesToHex(sk)}`);
  });

  it('verifies s (empty ctx) and sWithContext (ctx), and not with the ctx swapped', () => {
    const s = b64(vector.s);
    const sc = b64(vector.sWithContext);
    expect(compositeVerify(s, m, pk)).toBe(true);
    expect(compositeVerify(sc, m, pk, { context: ctx })).toBe(true);
    expect(compositeVerify(s, m, pk, { context: ctx })).toBe(false);
    expect(compositeVerify(sc, m, pk)).toBe(false);
    expect(compositeVerifyDigest(sc, sha512(m), pk, { context: ctx })).toBe(true);
  });

  it('accepts the high-S ECDSA half of sWithContext (noble with its default lowS would not)', () => {
    const sc = b64(vector.sWithContext);
    const sig = p256.Signature.fromBytes(ecdsaHalf(sc), 'der');
    expect(sig.s > N / 2n).toBe(true);
    const mPrime = compositeMessageRepresentative(sha512(m), ctx);
    const ecPk = pk.subarray(1952);
    expect(p256.verify(ecdsaHalf(sc), mPrime, ecPk, { format: 'der' })).toBe(false); // lowS: true
    expect(p256.verify(ecdsaHalf(sc), mPrime, ecPk, { format: 'der', lowS: false })).toBe(true);
    const ecSpki = concatBytes(hexToBytes('3059301306072a8648ce3d020106082a8648ce3d030107034200'), ecPk);
    const key = createPublicKey({ key: Buffer.from(ecSpki), format: 'der', type: 'spki' });
    expect(nodeVerify('sha256', mPrime, { key, dsaEncoding: 'der' }, ecdsaHalf(sc))).toBe(true); // OpenSSL agrees
  });

  it('the x5c certificate carries our SPKI and its signature verifies over tbsCertificate', () => {
    const cert = b64(vector.x5c);
    const spki = encodeSpki('MLDSA65-ECDSA-P256-SHA512', pk);
    expect(bytesToHex(cert)).toContain(bytesToHex(spki));
    expect(decodeSpki(spki)).toEqual({ algorithm: 'MLDSA65-ECDSA-P256-SHA512', publicKey: pk });
    const outer = tlv(cert, 0);
    const tbs = tlv(cert, outer.start);
    const algId = tlv(cert, tbs.end);
    const sigBits = tlv(cert, algId.end);
    expect([outer.tag, tbs.tag, algId.tag, sigBits.tag, sigBits.end]).toEqual([0x30, 0x30, 0x30, 0x03, cert.length]);
    expect(bytesToHex(cert.subarray(algId.start - 2, algId.end))).toBe('300a06082b0601050507062d');
    expect(cert[sigBits.start]).toBe(0); // no unused bits
    const tbsBytes = cert.subarray(outer.start, tbs.end);
    const signature = cert.subarray(sigBits.start + 1, sigBits.end);
    expect(compositeVerify(signature, tbsBytes, pk)).toBe(true);
    expect(compositeVerify(signature, flip(tbsBytes, 50), pk)).toBe(false);
  });

  it('the SPKI prefix is exact: a changed OID byte or length is refused', () => {
    const spki = encodeSpki('MLDSA65-ECDSA-P256-SHA512', pk);
    expect(bytesToHex(spki.subarray(0, 21))).toBe('308207f2300a06082b0601050507062d038207e200');
    expect(decodeSpki(flip(spki, 12))).toBeUndefined();
    expect(decodeSpki(spki.subarray(0, spki.length - 1))).toBeUndefined();
  });
});

describe('seed keys, signing, pre-hash', () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => 7 * i);
  const { publicKey } = compositeKeygen(seed);
  const message = utf8ToBytes('composite message');

  it('sizes; the seed and its draft-form export give the same key', () => {
    expect(publicKey.length).toBe(2017);
    expect(publicKey[1952]).toBe(0x04);
    const draftSk = compositeSecretKeyFromSeed(seed);
    expect(draftSk.length).toBe(83);
    expect(compositeKeygen(draftSk).publicKey).toEqual(publicKey);
    expect(compositeVerify(compositeSign(message, draftSk), message, publicKey)).toBe(true);
    // Domain separation: the two halves are not the same bytes and the derivation is fixed.
    expect(bytesToHex(draftSk.subarray(0, 32))).not.toBe(bytesToHex(draftSk.subarray(39, 71)));
    expect(compositeSecretKeyFromSeed(seed)).toEqual(draftSk);
    expect(compositeKeygen(flip(seed, 0)).publicKey).not.toEqual(publicKey);
  });

  it('signs (hedged by default, deterministic on request) with low-S, with and without context', () => {
    const a = compositeSign(message, seed);
    const b = compositeSign(message, seed);
    expect(a).not.toEqual(b);
    for (const s of [a, b]) {
      expect(s.length).toBeGreaterThanOrEqual(3309 + 8);
      expect(s.length).toBeLessThanOrEqual(3309 + 72);
      expect(compositeVerify(s, message, publicKey)).toBe(true);
      expect(p256.Signature.fromBytes(ecdsaHalf(s), 'der').s <= N / 2n).toBe(true);
    }
    const d1 = compositeSign(message, seed, { randomness: false, context: ctx });
    expect(compositeSign(message, seed, { randomness: false, context: ctx })).toEqual(d1);
    expect(compositeVerify(d1, message, publicKey, { context: ctx })).toBe(true);
    expect(compositeVerify(d1, message, publicKey)).toBe(false);
    expect(compositeVerify(d1, message, publicKey, { context: flip(ctx, 0) })).toBe(false);
  });

  it('pre-hash: signing SHA-512(M) gives the same signature as signing M, and each verifies the other way', () => {
    const digest = sha512(message);
    expect(compositeSignDigest(digest, seed, { randomness: false })).toEqual(compositeSign(message, seed, { randomness: false }));
    expect(compositeVerify(compositeSignDigest(digest, seed), message, publicKey)).toBe(true);
    expect(compositeVerifyDigest(compositeSign(message, seed), digest, publicKey)).toBe(true);
    expect(compositeVerifyDigest(compositeSign(message, seed), flip(digest, 0), publicKey)).toBe(false);
    expect(() => compositeSignDigest(digest.subarray(1), seed)).toThrow(/"digest" must be 64 bytes/);
    expect(compositeVerifyDigest(compositeSign(message, seed), digest.subarray(1), publicKey)).toBe(false);
  });

  it('the expanded key (what key caches keep) signs exactly as the seed and the draft form do', () => {
    const expanded = compositeExpandSecretKey(seed);
    expect(expanded.length).toBe(COMPOSITE_MLDSA65_P256.expandedSecretKeyLength);
    expect(expanded.length).toBe(4064);
    expect(compositeExpandSecretKey(compositeSecretKeyFromSeed(seed))).toEqual(expanded);
    expect(compositeKeygenExpanded(seed)).toEqual({ publicKey, secretKey: expanded });
    const bySeed = compositeSign(message, seed, { randomness: false, context: ctx });
    expect(compositeSign(message, expanded, { randomness: false, context: ctx })).toEqual(bySeed);
    expect(compositeSignDigest(sha512(message), expanded, { randomness: false, context: ctx })).toEqual(bySeed);
    expect(compositeVerify(compositeSign(message, expanded), message, publicKey)).toBe(true);
    expect(expanded).toEqual(compositeExpandSecretKey(seed)); // signing does not wipe a key it was given
    const badScalar = expanded.slice();
    badScalar.fill(0xff, 4032);
    expect(() => compositeSign(message, badScalar)).toThrow(/not an expanded composite secret key/);
    expect(() => compositeSign(message, new Uint8Array(100))).toThrow(
      /32-byte seed, the 83-byte draft private key or the 4064-byte expanded key/,
    );
  });

  it('verifies only as a whole: one broken half, swapped halves or halves of another key -> false', () => {
    const s = compositeSign(message, seed);
    expect(compositeVerify(flip(s, 100), message, publicKey)).toBe(false); // ML-DSA half broken, ECDSA valid
    expect(compositeVerify(flip(s, s.length - 5), message, publicKey)).toBe(false); // ECDSA half broken, ML-DSA valid
    const other = compositeSign(utf8ToBytes('other message'), seed);
    expect(compositeVerify(concatBytes(s.subarray(0, 3309), ecdsaHalf(other)), message, publicKey)).toBe(false);
    expect(compositeVerify(concatBytes(other.subarray(0, 3309), ecdsaHalf(s)), message, publicKey)).toBe(false);
    const seed2 = new Uint8Array(32).fill(9);
    const pk2 = compositeKeygen(seed2).publicKey;
    const mixedPk = concatBytes(publicKey.subarray(0, 1952), pk2.subarray(1952));
    expect(compositeVerify(s, message, mixedPk)).toBe(false);
    expect(compositeVerify(s, utf8ToBytes('composite messagE'), publicKey)).toBe(false);
  });

  it('a high-S twin of our own signature verifies (X9.62), a DER with trailing bytes does not', () => {
    const s = compositeSign(message, seed);
    const sig = p256.Signature.fromBytes(ecdsaHalf(s), 'der');
    const twin = new p256.Signature(sig.r, N - sig.s).toBytes('der');
    expect(compositeVerify(concatBytes(s.subarray(0, 3309), twin), message, publicKey)).toBe(true);
    expect(compositeVerify(concatBytes(s, Uint8Array.of(0)), message, publicKey)).toBe(false);
  });

  it('ECDSA halves agree with node:crypto both ways', () => {
    const draftSk = compositeSecretKeyFromSeed(seed);
    const d = draftSk.subarray(39, 71);
    const point = publicKey.subarray(1952);
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      d: Buffer.from(d).toString('base64url'),
      x: Buffer.from(point.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(point.subarray(33)).toString('base64url'),
    };
    const mPrime = compositeMessageRepresentative(sha512(message));
    const s = compositeSign(message, seed);
    expect(nodeVerify('sha256', mPrime, { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'der' }, ecdsaHalf(s))).toBe(
      true,
    );
    const theirs = new Uint8Array(nodeSign('sha256', mPrime, { key: createPrivateKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'der' }));
    expect(compositeVerify(concatBytes(s.subarray(0, 3309), theirs), message, publicKey)).toBe(true);
  });

  it('refuses bad arguments when signing, returns false for any malformed input when verifying', () => {
    expect(() => compositeSign(message, new Uint8Array(31))).toThrow(RangeError);
    expect(() => compositeSign(message, new Uint8Array(64))).toThrow(RangeError);
    const badDer = compositeSecretKeyFromSeed(seed);
    badDer[33] = 0x32; // SEQUENCE length 0x31 -> 0x32
    expect(() => compositeSign(message, badDer)).toThrow(TypeError);
    const zeroD = compositeSecretKeyFromSeed(seed);
    zeroD.fill(0, 39, 71);
    expect(() => compositeSign(message, zeroD)).toThrow(TypeError);
    expect(() => compositeSign(message, seed, { context: new Uint8Array(256) })).toThrow(RangeError);
    const s = compositeSign(message, seed);
    expect(compositeVerify(s, message, publicKey, { context: new Uint8Array(256) })).toBe(false);
    expect(compositeVerify(s.subarray(0, 3316), message, publicKey)).toBe(false);
    expect(compositeVerify(new Uint8Array(3400), message, publicKey)).toBe(false);
    expect(compositeVerify(s, message, publicKey.subarray(1))).toBe(false);
    const compressedMarker = publicKey.slice();
    compressedMarker[1952] = 0x02;
    expect(compositeVerify(s, message, compressedMarker)).toBe(false);
    const offCurve = publicKey.slice();
    offCurve[2016]! ^= 1;
    expect(compositeVerify(s, message, offCurve)).toBe(false);
    expect(compositeVerify('x' as unknown as Uint8Array, message, publicKey)).toBe(false);
  });
});
