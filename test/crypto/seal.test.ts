/**
 * Offline helpers (sealWithPublicKey, verifyWithPublicKey) and the SPKI codec they rely on.
 * @module
 */
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64 } from '../../src/encoding.js';
import { FORMAT_OVERHEAD, openCiphertext, parseHeader } from '../../src/crypto/format.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { sealWithPublicKey, verifyWithPublicKey } from '../../src/crypto/seal.js';
import { decodeSpki, encodeSpki } from '../../src/crypto/spki.js';

const kemSeed = Uint8Array.from({ length: 64 }, (_, i) => (i * 13) & 0xff);
const kem = nobleProvider.mlKem768.keygen(kemSeed);
const kemSpki = encodeSpki('ML-KEM-768', kem.publicKey);
const dsaSeed = new Uint8Array(32).fill(0x2a);
const dsa = nobleProvider.mlDsa65.keygen(dsaSeed);
const dsaSpki = encodeSpki('ML-DSA-65', dsa.publicKey);

const b64 = bytesToBase64;
const message = utf8ToBytes('signed statement');
const context = utf8ToBytes('qpher-test');
const signature = nobleProvider.mlDsa65.sign(message, dsa.secretKey, { context });

describe('SPKI', () => {
  it('uses the standard ML-KEM-768 and ML-DSA-65 prefixes', () => {
    expect(kemSpki.length).toBe(22 + 1184);
    expect(bytesToHex(kemSpki.subarray(0, 22))).toBe('308204b2300b0609608648016503040402038204a100');
    expect(bytesToHex(dsaSpki.subarray(0, 22))).toBe('308207b2300b0609608648016503040312038207a100');
  });

  it('round trips and identifies the algorithm', () => {
    expect(decodeSpki(kemSpki)).toEqual({ algorithm: 'ML-KEM-768', publicKey: kem.publicKey });
    expect(decodeSpki(dsaSpki)).toEqual({ algorithm: 'ML-DSA-65', publicKey: dsa.publicKey });
  });

  it('decodes into a copy', () => {
    const decoded = decodeSpki(kemSpki)!;
    decoded.publicKey[0]! ^= 1;
    expect(decodeSpki(kemSpki)!.publicKey).toEqual(kem.publicKey);
  });

  it('returns undefined for anything else', () => {
    const flip = (der: Uint8Array, i: number) => {
      const c = der.slice();
      c[i]! ^= 1;
      return c;
    };
    expect(decodeSpki(new Uint8Array(0))).toBeUndefined();
    expect(decodeSpki(kemSpki.subarray(0, kemSpki.length - 1))).toBeUndefined();
    const extended = new Uint8Array(kemSpki.length + 1);
    extended.set(kemSpki);
    expect(decodeSpki(extended)).toBeUndefined();
    for (let i = 0; i < 22; i++) expect(decodeSpki(flip(kemSpki, i)), `prefix byte ${i}`).toBeUndefined();
    for (let i = 0; i < 22; i++) expect(decodeSpki(flip(dsaSpki, i)), `prefix byte ${i}`).toBeUndefined();
    // A raw key without the SPKI wrapper.
    expect(decodeSpki(kem.publicKey)).toBeUndefined();
  });

  it('encodeSpki refuses wrong lengths and unknown algorithms', () => {
    expect(() => encodeSpki('ML-KEM-768', dsa.publicKey)).toThrow(RangeError);
    expect(() => encodeSpki('ML-DSA-65', kem.publicKey)).toThrow(RangeError);
    expect(() => encodeSpki('ML-KEM-1024' as 'ML-KEM-768', kem.publicKey)).toThrow(TypeError);
  });
});

describe('sealWithPublicKey', () => {
  it('produces a v1 ciphertext the key holder opens (base64 and byte inputs)', async () => {
    const plaintext = utf8ToBytes('hello offline');
    const aad = utf8ToBytes('aad');
    const fromStrings = await sealWithPublicKey({
      public_key: b64(kemSpki),
      key_version: 5,
      plaintext: b64(plaintext),
      aad: b64(aad),
    });
    const fromBytes = await sealWithPublicKey({ public_key: kemSpki, key_version: 5, plaintext, aad });
    for (const out of [fromStrings, fromBytes]) {
      const ct = base64ToBytes(out)!;
      expect(ct.length).toBe(plaintext.length + FORMAT_OVERHEAD);
      expect(parseHeader(ct)).toEqual({ formatVersion: 1, kem: 'ML-KEM-768', mode: 'standard', keyVersion: 5 });
      expect(await openCiphertext({ secretKey: kemSeed, ciphertext: ct, aad })).toEqual(plaintext);
    }
  });

  it('works without aad and with an empty plaintext', async () => {
    const out = await sealWithPublicKey({ public_key: b64(kemSpki), key_version: 1, plaintext: '' });
    expect(await openCiphertext({ secretKey: kemSeed, ciphertext: base64ToBytes(out)! })).toEqual(new Uint8Array(0));
  });

  it('throws TypeError/RangeError naming the argument', async () => {
    const good = { public_key: b64(kemSpki), key_version: 1, plaintext: 'aGk=' };
    await expect(sealWithPublicKey({ ...good, public_key: 'not base64!' })).rejects.toThrow(/"public_key"/);
    await expect(sealWithPublicKey({ ...good, public_key: b64(dsaSpki) })).rejects.toThrow(TypeError);
    await expect(sealWithPublicKey({ ...good, public_key: b64(kem.publicKey) })).rejects.toThrow(/"public_key"/);
    await expect(sealWithPublicKey({ ...good, plaintext: 'aGk' })).rejects.toThrow(/"plaintext"/);
    await expect(sealWithPublicKey({ ...good, plaintext: 'aG k=' })).rejects.toThrow(TypeError);
    await expect(sealWithPublicKey({ ...good, aad: 'a===' })).rejects.toThrow(/"aad"/);
    for (const kv of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      await expect(sealWithPublicKey({ ...good, key_version: kv })).rejects.toThrow(RangeError);
    }
    await expect(sealWithPublicKey({ ...good, key_version: '1' as unknown as number })).rejects.toThrow(/"key_version"/);
  });

  it('refuses an SPKI whose key fails the FIPS 203 §7.2 modulus check', async () => {
    const bad = kem.publicKey.slice();
    bad[0] = 0xff;
    bad[1] = 0xff;
    await expect(sealWithPublicKey({ public_key: encodeSpki('ML-KEM-768', bad), key_version: 1, plaintext: '' })).rejects.toThrow(
      /"public_key"/,
    );
  });
});

describe('verifyWithPublicKey', () => {
  const good = { public_key: b64(dsaSpki), message: b64(message), signature: b64(signature), context: b64(context) };

  it('accepts a valid signature (base64 and byte inputs)', async () => {
    expect(await verifyWithPublicKey(good)).toBe(true);
    expect(await verifyWithPublicKey({ public_key: dsaSpki, message, signature, context })).toBe(true);
  });

  it('without context verifies only signatures made without context', async () => {
    const plain = nobleProvider.mlDsa65.sign(message, dsa.secretKey);
    expect(await verifyWithPublicKey({ public_key: dsaSpki, message, signature: plain })).toBe(true);
    expect(await verifyWithPublicKey({ public_key: dsaSpki, message, signature })).toBe(false);
  });

  it('is false for a wrong message, context, signature, empty or wrong-length signature', async () => {
    expect(await verifyWithPublicKey({ ...good, message: b64(utf8ToBytes('signed statemenT')) })).toBe(false);
    expect(await verifyWithPublicKey({ ...good, context: b64(utf8ToBytes('qpher-tesT')) })).toBe(false);
    const flipped = signature.slice();
    flipped[10]! ^= 1;
    expect(await verifyWithPublicKey({ ...good, signature: b64(flipped) })).toBe(false);
    expect(await verifyWithPublicKey({ ...good, signature: '' })).toBe(false);
    expect(await verifyWithPublicKey({ ...good, signature: b64(signature.subarray(1)) })).toBe(false);
    const longer = new Uint8Array(signature.length + 1);
    longer.set(signature);
    expect(await verifyWithPublicKey({ ...good, signature: b64(longer) })).toBe(false);
  });

  it('throws for malformed base64, the wrong key type and an over-long context', async () => {
    await expect(verifyWithPublicKey({ ...good, public_key: 'x' })).rejects.toThrow(/"public_key"/);
    await expect(verifyWithPublicKey({ ...good, public_key: b64(kemSpki) })).rejects.toThrow(TypeError);
    await expect(verifyWithPublicKey({ ...good, message: 'abc' })).rejects.toThrow(/"message"/);
    await expect(verifyWithPublicKey({ ...good, signature: 'ab=c' })).rejects.toThrow(/"signature"/);
    await expect(verifyWithPublicKey({ ...good, context: '@@@@' })).rejects.toThrow(/"context"/);
    await expect(verifyWithPublicKey({ ...good, context: b64(new Uint8Array(256)) })).rejects.toThrow(RangeError);
  });
});

describe('nobleProvider.mlDsa65', () => {
  it('signs hedged by default and deterministically with randomness: false', () => {
    const a = nobleProvider.mlDsa65.sign(message, dsa.secretKey);
    const b = nobleProvider.mlDsa65.sign(message, dsa.secretKey);
    expect(a).not.toEqual(b);
    expect(nobleProvider.mlDsa65.verify(a, message, dsa.publicKey)).toBe(true);
    const c = nobleProvider.mlDsa65.sign(message, dsa.secretKey, { randomness: false });
    const d = nobleProvider.mlDsa65.sign(message, dsa.secretKey, { randomness: false });
    expect(c).toEqual(d);
  });

  it('refuses bad signing arguments and never throws from verify', () => {
    expect(() => nobleProvider.mlDsa65.sign(message, dsa.secretKey, { context: new Uint8Array(256) })).toThrow(RangeError);
    expect(() => nobleProvider.mlDsa65.sign(message, dsa.secretKey, { randomness: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => nobleProvider.mlDsa65.keygen(new Uint8Array(31))).toThrow(RangeError);
    const v = nobleProvider.mlDsa65.verify;
    expect(v(signature, message, dsa.publicKey, { context: new Uint8Array(256) })).toBe(false);
    expect(v(signature, message, dsa.publicKey.subarray(1), { context })).toBe(false);
    expect(v(new Uint8Array(0), message, dsa.publicKey)).toBe(false);
    expect(v(undefined as unknown as Uint8Array, message, dsa.publicKey)).toBe(false);
  });
});

describe('nobleProvider.mlKem768', () => {
  it('validates lengths up front', () => {
    expect(() => nobleProvider.mlKem768.keygen(new Uint8Array(32))).toThrow(RangeError);
    expect(() => nobleProvider.mlKem768.encapsulate(kem.publicKey, new Uint8Array(31))).toThrow(RangeError);
    expect(() => nobleProvider.mlKem768.decapsulate(new Uint8Array(1087), kem.secretKey)).toThrow(RangeError);
  });

  it('decapsulates a random-encapsulation round trip', () => {
    const { cipherText, sharedSecret } = nobleProvider.mlKem768.encapsulate(kem.publicKey);
    expect(nobleProvider.mlKem768.decapsulate(cipherText, kem.secretKey)).toEqual(sharedSecret);
  });
});

describe('the hybrids: the SPKI says which algorithm', () => {
  const xwingSeed = new Uint8Array(32).fill(0x11);
  const compositeSeed = new Uint8Array(32).fill(0x22);

  it('seals to an X-Wing key: a v2 ciphertext the seed opens, overhead 1144', async () => {
    const { xwingKeygen } = await import('../../src/crypto/xwing.js');
    const spki = encodeSpki('X-Wing', xwingKeygen(xwingSeed).publicKey);
    const out = base64ToBytes(await sealWithPublicKey({ public_key: b64(spki), key_version: 3, plaintext: 'aGk=', aad: 'YQ==' }))!;
    expect(out.length).toBe(1144 + 2);
    expect(parseHeader(out)).toEqual({ formatVersion: 2, kem: 'X-Wing', mode: 'standard', keyVersion: 3 });
    expect(await openCiphertext({ kem: 'X-Wing', secretKey: xwingSeed, ciphertext: out, aad: utf8ToBytes('a') })).toEqual(
      utf8ToBytes('hi'),
    );
    // The same bytes do not open as ML-KEM-768 (the header names X-Wing).
    await expect(openCiphertext({ secretKey: kemSeed, ciphertext: out, aad: utf8ToBytes('a') })).rejects.toThrow('decryption failed');
    // A composite (signature) SPKI is no KEM key.
    const { compositeKeygen } = await import('../../src/crypto/composite-ml-dsa.js');
    const compositeSpki = encodeSpki('MLDSA65-ECDSA-P256-SHA512', compositeKeygen(compositeSeed).publicKey);
    await expect(sealWithPublicKey({ public_key: b64(compositeSpki), key_version: 1, plaintext: '' })).rejects.toThrow(
      '"public_key" must be the DER SubjectPublicKeyInfo of a ML-KEM-768 or X-Wing key',
    );
  });

  it('verifies a composite signature as a whole: either half broken is false', async () => {
    const { compositeKeygen, compositeSign } = await import('../../src/crypto/composite-ml-dsa.js');
    const spki = b64(encodeSpki('MLDSA65-ECDSA-P256-SHA512', compositeKeygen(compositeSeed).publicKey));
    const sig = compositeSign(message, compositeSeed, { context });
    const input = { public_key: spki, message: b64(message), signature: b64(sig), context: b64(context) };
    expect(await verifyWithPublicKey(input)).toBe(true);
    expect(await verifyWithPublicKey({ ...input, context: undefined })).toBe(false);
    for (const at of [10, sig.length - 5]) {
      const broken = sig.slice();
      broken[at]! ^= 1; // the ML-DSA half, then the ECDSA half
      expect(await verifyWithPublicKey({ ...input, signature: b64(broken) })).toBe(false);
    }
    // An ML-DSA-65 signature alone is not a composite signature, and the other way round.
    expect(await verifyWithPublicKey({ ...input, signature: b64(sig.subarray(0, 3309)) })).toBe(false);
    expect(await verifyWithPublicKey({ ...good(), signature: b64(sig.subarray(0, 3309)) })).toBe(false);
  });
});

function good() {
  return { public_key: b64(dsaSpki), message: b64(message), context: b64(context) };
}
