/**
 * The algorithm table (src/contract/algorithms.ts) is the one place algorithm facts live, so
 * these tests hold each row against the primitives and the standards' encodings: a wrong size,
 * OID or SPKI prefix in a row fails here rather than somewhere downstream.
 */
import { describe, expect, test } from 'vitest';
import { ALGORITHM_TABLE, ALGORITHMS, algorithmsFor, factsOf } from '../../src/contract/algorithms.js';
import { OPERATION_NAMES } from '../../src/contract/operations.js';
import { formatOverhead } from '../../src/crypto/format.js';
import { keygenFor, loadKem, loadSigner } from '../../src/crypto/algorithm-primitives.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { decodeSpki, encodeSpki } from '../../src/crypto/spki.js';
import { Engine } from '../../src/engine/engine.js';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** DER OBJECT IDENTIFIER contents (X.690 §8.19) of a dotted OID. */
function oidContents(dotted: string): number[] {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const arc of [first! * 40 + second!, ...rest]) {
    const groups = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n & 0x7f) | 0x80);
    out.push(...groups);
  }
  return out;
}

/** DER length octets (X.690 §8.1.3) */
function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>>= 8) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

describe('algorithm table', () => {
  test.each(ALGORITHMS)('%s: the SPKI prefix is SEQUENCE { AlgorithmIdentifier { OID }, BIT STRING } for its OID and key size', (name) => {
    const facts = ALGORITHM_TABLE[name];
    const oid = oidContents(facts.oid);
    const algorithmIdentifier = [0x30, ...derLength(oid.length + 2), 0x06, oid.length, ...oid];
    const bitString = [0x03, ...derLength(facts.sizes.publicKey + 1), 0x00];
    const body = algorithmIdentifier.length + bitString.length + facts.sizes.publicKey;
    expect(facts.spkiPrefix).toBe(hex(Uint8Array.from([0x30, ...derLength(body), ...algorithmIdentifier, ...bitString])));
  });

  test.each(ALGORITHMS)('%s: sizes match what the primitive produces', async (name) => {
    const facts = factsOf(name);
    const seed = new Uint8Array(facts.sizes.seed).fill(3);
    const pair = await keygenFor(nobleProvider, facts, seed);
    expect(pair.publicKey.length).toBe(facts.sizes.publicKey);
    expect(pair.secretKey.length).toBe(facts.sizes.secretKey);
    expect(decodeSpki(encodeSpki(facts.standard, pair.publicKey))).toEqual({ algorithm: facts.standard, publicKey: pair.publicKey });
    if (facts.kind === 'kem') {
      const kem = await loadKem(nobleProvider, facts);
      const { cipherText, sharedSecret } = kem.encapsulate(pair.publicKey);
      expect(cipherText.length).toBe(facts.sizes.ciphertext);
      expect(sharedSecret.length).toBe(facts.sizes.sharedSecret);
      const fixed = kem.encapsulate(pair.publicKey, new Uint8Array(facts.sizes.encapRandomness).fill(7));
      expect(kem.decapsulate(fixed.cipherText, pair.secretKey)).toEqual(fixed.sharedSecret);
      expect(() => kem.encapsulate(pair.publicKey, new Uint8Array(facts.sizes.encapRandomness + 1))).toThrow(RangeError);
    } else {
      const signer = await loadSigner(nobleProvider, facts);
      for (let i = 0; i < 8; i++) {
        const signature = signer.sign(Uint8Array.of(i), pair.secretKey);
        expect(signature.length).toBeGreaterThanOrEqual(facts.sizes.minSignature);
        expect(signature.length).toBeLessThanOrEqual(facts.sizes.signature);
        expect(signer.verify(signature, Uint8Array.of(i), pair.publicKey)).toBe(true);
      }
      expect(() => signer.sign(new Uint8Array(1), pair.secretKey, { context: new Uint8Array(facts.sizes.context + 1) })).toThrow(
        RangeError,
      );
    }
  });

  test('the format overheads follow from the KEM rows: v1 6 + 1088 + 16, v2 8 + 1120 + 16', () => {
    expect(formatOverhead(ALGORITHM_TABLE.Kyber768)).toBe(1110);
    expect(formatOverhead(ALGORITHM_TABLE['X-Wing'])).toBe(1144);
  });

  test('every operation is served by at least one algorithm; kem and signature routes by their kind only', () => {
    for (const operation of OPERATION_NAMES) expect(algorithmsFor(operation).length).toBeGreaterThan(0);
    expect(algorithmsFor('kem.encrypt')).toEqual(['Kyber768', 'X-Wing']);
    expect(algorithmsFor('signature.sign')).toEqual(['Dilithium3', 'Composite-ML-DSA']);
    expect(algorithmsFor('kms.generate')).toEqual(['Kyber768', 'Dilithium3', 'X-Wing', 'Composite-ML-DSA']);
    for (const raw of ['kem.encapsulate', 'kem.decapsulate', 'kem.wrapKey', 'kem.unwrapKey'] as const) {
      expect(algorithmsFor(raw)).toEqual(['Kyber768', 'X-Wing']);
    }
    for (const raw of ['signature.signHash', 'signature.verifyHash'] as const) {
      expect(algorithmsFor(raw)).toEqual(['Dilithium3', 'Composite-ML-DSA']);
    }
  });

  test("sign-hash pre-hashes: any approved hash for ML-DSA-65, only the draft's SHA-512 for the composite", () => {
    expect(ALGORITHM_TABLE.Dilithium3.hashAlgorithms).toEqual(['SHA-256', 'SHA-384', 'SHA-512']);
    expect(ALGORITHM_TABLE['Composite-ML-DSA'].hashAlgorithms).toEqual(['SHA-512']);
  });

  test('an operation naming an algorithm it does not support is a 400 that names the ones it accepts', async () => {
    const engine = await Engine.create();
    const caller = { tenant: 't' };
    const id = '00000000-0000-4000-8000-000000000000';
    const encrypt = await engine.execute(caller, 'kem.encrypt', { plaintext: 'AA==', key_version: 1, algorithm: 'Dilithium3' }, id);
    expect(encrypt).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: algorithm must be one of "Kyber768", "X-Wing"' },
    });
    const sign = await engine.execute(caller, 'signature.sign', { message: 'AA==', key_version: 1, algorithm: 'X-Wing' }, id);
    expect(sign).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: algorithm must be one of "Dilithium3", "Composite-ML-DSA"' },
    });
    const generate = await engine.execute(caller, 'kms.generate', { algorithm: 'Kyber1024' }, id);
    expect(generate).toMatchObject({
      error: { message: 'Validation failed: algorithm must be one of "Kyber768", "Dilithium3", "X-Wing", "Composite-ML-DSA"' },
    });
    // The raw routes are driven by the same table.
    const encapsulate = await engine.execute(caller, 'kem.encapsulate', { key_version: 1, algorithm: 'Composite-ML-DSA' }, id);
    expect(encapsulate).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: algorithm must be one of "Kyber768", "X-Wing"' },
    });
    const hash = btoa(String.fromCharCode(...new Uint8Array(64)));
    const signHash = await engine.execute(
      caller,
      'signature.signHash',
      { hash, hash_algorithm: 'SHA-512', key_version: 1, algorithm: 'X-Wing' },
      id,
    );
    expect(signHash).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: algorithm must be one of "Dilithium3", "Composite-ML-DSA"' },
    });
    // Naming the right one works like leaving it out.
    await engine.execute(caller, 'kms.generate', { algorithm: 'Dilithium3' }, id);
    const signed = await engine.execute(caller, 'signature.sign', { message: 'AA==', key_version: 1, algorithm: 'Dilithium3' }, id);
    expect(signed).toMatchObject({ data: { key_version: 1 } });
  });
});
