/**
 * Plain ML-KEM-768 encapsulate/decapsulate (src/crypto/kem.ts) on every provider this runtime has:
 * round trips with the seed and the expanded key, implicit rejection recomputed from FIPS 203
 * (K̄ = J(z ‖ c) = SHAKE256(z ‖ c, 32)), and the Wycheproof mlkem_768 file run with the 64-byte
 * seed as the key (the form the key stores keep; test/crypto/vectors.test.ts runs the same file
 * on the provider with the expanded key), checking which argument each invalid case names.
 * @module
 */
import { readFileSync } from 'node:fs';
import { shake256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { kemDecapsulate, kemEncapsulate } from '../../src/crypto/kem.js';
import { ML_KEM_768 } from '../../src/crypto/primitives.js';
import { providersUnderTest } from '../providers/available.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const load = (name: string): Json => JSON.parse(readFileSync(new URL(`../vectors/official/${name}`, import.meta.url), 'utf8')) as Json;
const h = (hex: string): Uint8Array => hexToBytes(hex.toLowerCase());

const seed = Uint8Array.from({ length: 64 }, (_, i) => (i * 13 + 1) & 0xff);
const z = seed.subarray(32, 64);

const providers = (await providersUnderTest()).filter((p) => p.provider !== undefined);

describe.each(providers)('kemEncapsulate / kemDecapsulate on $name', ({ provider }) => {
  const { publicKey, secretKey } = provider!.mlKem768.keygen(seed);

  it('round trips: 1088-byte ciphertext, 32-byte secret, with the seed and the expanded key', () => {
    const { sharedSecret, kemCiphertext } = kemEncapsulate({ publicKey, provider });
    expect(kemCiphertext.length).toBe(ML_KEM_768.cipherTextLength);
    expect(sharedSecret.length).toBe(32);
    expect(kemDecapsulate({ secretKey: seed, kemCiphertext, provider })).toEqual(sharedSecret);
    expect(kemDecapsulate({ secretKey, kemCiphertext, provider })).toEqual(sharedSecret);
    expect(kemEncapsulate({ publicKey, provider }).sharedSecret).not.toEqual(sharedSecret);
  });

  it('fixed randomness m is reproducible (known-answer use only)', () => {
    const m = new Uint8Array(32).fill(0x42);
    const a = kemEncapsulate({ publicKey, randomness: m, provider });
    expect(kemEncapsulate({ publicKey, randomness: m, provider })).toEqual(a);
  });

  it('a well-formed wrong ciphertext yields the implicit-rejection secret J(z ‖ c), not an error', () => {
    const { sharedSecret, kemCiphertext } = kemEncapsulate({ publicKey, provider });
    for (const i of [0, 500, 1087]) {
      const tampered = kemCiphertext.slice();
      tampered[i]! ^= 0x01;
      const rejected = kemDecapsulate({ secretKey: seed, kemCiphertext: tampered, provider });
      expect(rejected).not.toEqual(sharedSecret);
      expect(bytesToHex(rejected)).toBe(bytesToHex(shake256(concatBytes(z, tampered), { dkLen: 32 })));
      expect(kemDecapsulate({ secretKey, kemCiphertext: tampered, provider })).toEqual(rejected);
    }
    // Under another key the honest ciphertext is just as "wrong".
    const otherSeed = new Uint8Array(64).fill(9);
    expect(bytesToHex(kemDecapsulate({ secretKey: otherSeed, kemCiphertext, provider }))).toBe(
      bytesToHex(shake256(concatBytes(otherSeed.subarray(32), kemCiphertext), { dkLen: 32 })),
    );
  });

  it('wrong lengths and invalid keys throw RangeError naming the argument', () => {
    const { kemCiphertext } = kemEncapsulate({ publicKey, provider });
    for (const len of [0, 1087, 1089, 1120]) {
      expect(() => kemDecapsulate({ secretKey: seed, kemCiphertext: new Uint8Array(len), provider })).toThrow(
        new RangeError(`"kemCiphertext" must be 1088 bytes, got ${len}`),
      );
    }
    expect(() => kemDecapsulate({ secretKey: seed.subarray(1), kemCiphertext, provider })).toThrow(
      new RangeError('"secretKey" must be the 64-byte ML-KEM-768 seed or the 2400-byte decapsulation key, got 63'),
    );
    const badHash = secretKey.slice();
    badHash[2336]! ^= 1; // H(ek) inside dk (FIPS 203 §7.3 hash check)
    expect(() => kemDecapsulate({ secretKey: badHash, kemCiphertext, provider })).toThrow(
      new RangeError('"secretKey" is not a valid ML-KEM-768 decapsulation key'),
    );
    expect(() => kemEncapsulate({ publicKey: publicKey.subarray(1), provider })).toThrow(
      new RangeError('"publicKey" must be 1184 bytes, got 1183'),
    );
    expect(() => kemEncapsulate({ publicKey, randomness: new Uint8Array(31), provider })).toThrow(/"randomness" must be 32 bytes/);
    expect(() => kemDecapsulate({ secretKey: seed, kemCiphertext: 'x' as never, provider })).toThrow(TypeError);
  });

  it('keys failing the FIPS 203 §7.2 modulus check are refused by name; ACVP encapsulationKeyCheck agrees', () => {
    const bad = publicKey.slice();
    bad[0] = 0xff; // first 12-bit coefficient of t̂ := 0xfff ≥ q = 3329
    bad[1]! |= 0x0f;
    expect(() => kemEncapsulate({ publicKey: bad, provider })).toThrow(
      new RangeError('"publicKey" is not a valid ML-KEM-768 encapsulation key'),
    );
    // ACVP's failing keys are also the wrong length (1600 bytes), so they stop at the length check.
    const group = (load('acvp_ML-KEM-encapDecap-FIPS203_768.json').testGroups as Json[]).find(
      (g) => g.function === 'encapsulationKeyCheck',
    )!;
    const results = (group.tests as Json[]).map((t) => {
      try {
        kemEncapsulate({ publicKey: h(t.ek), provider });
        return t.testPassed === true;
      } catch (error) {
        return t.testPassed === false && error instanceof RangeError && error.message.startsWith('"publicKey"');
      }
    });
    expect(results.length).toBeGreaterThan(0);
    expect(results.every(Boolean)).toBe(true);
  });

  it('Wycheproof mlkem_768 with the 64-byte seed as the key: K matches; short/long key or ciphertext name the argument', () => {
    const failures: string[] = [];
    let total = 0;
    for (const g of load('wycheproof_mlkem_768_test.json').testGroups as Json[]) {
      for (const t of g.tests as Json[]) {
        total++;
        const s = h(t.seed);
        const c = h(t.c);
        if (t.result === 'valid') {
          const k = kemDecapsulate({ secretKey: s, kemCiphertext: c, provider });
          if (bytesToHex(k) !== t.K.toLowerCase()) failures.push(`tcId ${t.tcId}: K mismatch`);
          continue;
        }
        const expected = s.length !== 64 ? '"secretKey"' : '"kemCiphertext"';
        try {
          kemDecapsulate({ secretKey: s, kemCiphertext: c, provider });
          failures.push(`tcId ${t.tcId}: expected a throw`);
        } catch (error) {
          if (!(error instanceof RangeError) || !error.message.startsWith(expected)) failures.push(`tcId ${t.tcId}: ${error}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(100);
  });
});
