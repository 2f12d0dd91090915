/**
 * Ciphertext format v2 (X-Wing): the 8-byte header that names the KEM, round trips, deterministic
 * mode, one error for every failure (including a ciphertext of the other KEM), and the
 * known-answer vectors in test/vectors/format-v2.json, recomputed here and opened with hpke-js
 * (@hpke/hybridkem-x-wing) as an independent check. format.test.ts covers v1 (ML-KEM-768).
 * @module
 */
import { readFileSync } from 'node:fs';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  CIPHERTEXT_OVERHEAD,
  deriveDeterministicRandomness,
  encodeHeader,
  openCiphertext,
  parseHeader,
  sealCiphertext,
} from '../../src/crypto/format.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { xwingKeygen } from '../../src/crypto/xwing.js';
import { type FormatVector, generate } from '../vectors/generate-format.js';

const kem = 'X-Wing' as const;
const seed = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
const { publicKey } = xwingKeygen(seed);
const plaintext = utf8ToBytes('a hybrid secret');
const aad = utf8ToBytes('record-42');
const salt = utf8ToBytes('per-tenant salt');

const seal = (o: { plaintext?: Uint8Array; keyVersion?: number } = {}) =>
  sealCiphertext({ kem, publicKey, keyVersion: o.keyVersion ?? 3, plaintext: o.plaintext ?? plaintext, aad });
const expectFailed = (p: Promise<unknown>, what?: string) => expect(p, what).rejects.toThrow(/^decryption failed$/);

describe('v2 header', () => {
  it('is 0x02 ‖ kem_id 0x647a ‖ mode ‖ key_version (u32 BE)', () => {
    expect(bytesToHex(encodeHeader('standard', 1, kem))).toBe('02647a0000000001');
    expect(bytesToHex(encodeHeader('deterministic', 0x01020304, kem))).toBe('02647a0101020304');
    expect(bytesToHex(encodeHeader('standard', 1))).toBe('010000000001'); // ML-KEM-768 stays v1
    expect(CIPHERTEXT_OVERHEAD).toEqual({ 'ML-KEM-768': 1110, 'X-Wing': 1144 });
  });

  it('parses what it encodes', () => {
    expect(parseHeader(encodeHeader('deterministic', 42, kem))).toEqual({ formatVersion: 2, kem, mode: 'deterministic', keyVersion: 42 });
    const buf = new Uint8Array(30);
    buf.set(encodeHeader('standard', 0xffffffff, kem), 3);
    expect(parseHeader(buf.subarray(3))).toEqual({ formatVersion: 2, kem, mode: 'standard', keyVersion: 0xffffffff });
  });

  it('refuses short input, another kem_id (ML-KEM-768 has no v2 form), unknown mode, key_version 0', () => {
    for (const hex of [
      '02647a00000001',
      '02',
      '02647a',
      '0200410000000001',
      '0200000000000001',
      '02647b0000000001',
      '02647a0200000001',
      '02647a0000000000',
    ]) {
      expect(parseHeader(hexToBytes(hex)), hex).toBeUndefined();
    }
    expect(() => encodeHeader('standard', 1, 'ML-KEM-1024' as 'X-Wing')).toThrow(TypeError);
  });
});

describe('seal / open with X-Wing', () => {
  it('round trips; overhead 1144 bytes', async () => {
    const ct = await seal();
    expect(ct.length).toBe(plaintext.length + 1144);
    expect(parseHeader(ct)).toEqual({ formatVersion: 2, kem, mode: 'standard', keyVersion: 3 });
    expect(await openCiphertext({ kem, secretKey: seed, ciphertext: ct, aad })).toEqual(plaintext);
    const empty = await seal({ plaintext: new Uint8Array(0) });
    expect(empty.length).toBe(1144);
    expect(await openCiphertext({ kem, secretKey: seed, ciphertext: empty, aad })).toEqual(new Uint8Array(0));
  });

  it('deterministic: equal inputs give equal bytes, any other input differs; eseed needs the 32-byte seed', async () => {
    const det = (o: { salt?: Uint8Array; plaintext?: Uint8Array } = {}) =>
      sealCiphertext({
        kem,
        publicKey,
        keyVersion: 1,
        plaintext: o.plaintext ?? plaintext,
        aad,
        mode: 'deterministic',
        encapRandomness: deriveDeterministicRandomness(seed, o.salt ?? salt, aad, o.plaintext ?? plaintext, kem),
      });
    const a = await det();
    expect(await det()).toEqual(a);
    expect(await det({ salt: utf8ToBytes('other salt') })).not.toEqual(a);
    expect(await det({ plaintext: utf8ToBytes('a hybrid secreT') })).not.toEqual(a);
    expect(parseHeader(a)?.mode).toBe('deterministic');
    expect(await openCiphertext({ kem, secretKey: seed, ciphertext: a, aad })).toEqual(plaintext);
    expect(deriveDeterministicRandomness(seed, salt, aad, plaintext, kem).length).toBe(64);
    expect(() => deriveDeterministicRandomness(new Uint8Array(64), salt, aad, plaintext, kem)).toThrow(
      /"seed" must be 32 bytes for X-Wing/,
    );
    expect(() => deriveDeterministicRandomness(seed, salt, aad, plaintext)).toThrow(RangeError); // ML-KEM wants 64
    await expect(sealCiphertext({ kem, publicKey, keyVersion: 1, plaintext, mode: 'deterministic' })).rejects.toThrow(/encapRandomness/);
  });

  it('tampering anywhere, truncating, extending, wrong key or aad -> "decryption failed"', async () => {
    const ct = await seal();
    for (const i of [0, 1, 2, 3, 4, 7, 8, 600, 8 + 1087, 8 + 1100, 8 + 1119, 8 + 1120, ct.length - 1]) {
      const bad = ct.slice();
      bad[i]! ^= 0x01;
      await expectFailed(openCiphertext({ kem, secretKey: seed, ciphertext: bad, aad }), `byte ${i}`);
    }
    for (const len of [0, 8, 1143, ct.length - 1])
      await expectFailed(openCiphertext({ kem, secretKey: seed, ciphertext: ct.subarray(0, len), aad }));
    const extended = new Uint8Array(ct.length + 1);
    extended.set(ct);
    await expectFailed(openCiphertext({ kem, secretKey: seed, ciphertext: extended, aad }));
    await expectFailed(openCiphertext({ kem, secretKey: new Uint8Array(32).fill(1), ciphertext: ct, aad }));
    await expectFailed(openCiphertext({ kem, secretKey: seed, ciphertext: ct }));
  });

  it('a ciphertext of one KEM never opens as the other (the header names the KEM)', async () => {
    const xw = await seal();
    const mlSeed = new Uint8Array(64).fill(9);
    await expectFailed(openCiphertext({ secretKey: mlSeed, ciphertext: xw, aad }));
    const ml = await sealCiphertext({ publicKey: nobleProvider.mlKem768.keygen(mlSeed).publicKey, keyVersion: 3, plaintext, aad });
    await expectFailed(openCiphertext({ kem, secretKey: seed, ciphertext: ml, aad }));
  });

  it('refuses bad keys by name before looking at the ciphertext', async () => {
    const ct = await seal();
    await expect(openCiphertext({ kem, secretKey: new Uint8Array(64), ciphertext: ct })).rejects.toThrow(/32-byte X-Wing seed/);
    await expect(sealCiphertext({ kem, publicKey: publicKey.subarray(0, 1184), keyVersion: 1, plaintext })).rejects.toThrow(RangeError);
    await expect(sealCiphertext({ kem: 'x' as 'X-Wing', publicKey, keyVersion: 1, plaintext })).rejects.toThrow(TypeError);
  });
});

describe('known-answer vectors (test/vectors/format-v2.json)', () => {
  const file = JSON.parse(readFileSync(new URL('../vectors/format-v2.json', import.meta.url), 'utf8')) as { vectors: FormatVector[] };

  it('regenerating from the fixed inputs gives the committed bytes', async () => {
    expect(file.vectors.length).toBe(4);
    expect(await generate('X-Wing')).toEqual(file.vectors);
  });

  it('each vector opens with our implementation and re-derives its eseed', async () => {
    for (const v of file.vectors) {
      const s = hexToBytes(v.seed);
      const ct = hexToBytes(v.ciphertext);
      expect(parseHeader(ct)).toEqual({ formatVersion: 2, kem, mode: v.mode, keyVersion: v.key_version });
      expect(bytesToHex(await openCiphertext({ kem, secretKey: s, ciphertext: ct, aad: hexToBytes(v.aad) }))).toBe(v.plaintext);
      if (v.mode === 'deterministic') {
        expect(bytesToHex(deriveDeterministicRandomness(s, hexToBytes(v.salt!), hexToBytes(v.aad), hexToBytes(v.plaintext), kem))).toBe(
          v.encap_randomness,
        );
      }
    }
  });

  it('each vector opens with hpke-js (info = 8-byte header, enc = next 1120 bytes, private key = seed)', async () => {
    const suite = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    for (const v of file.vectors) {
      const ct = hexToBytes(v.ciphertext);
      const recipientKey = await suite.kem.importKey('raw', hexToBytes(v.seed).buffer as ArrayBuffer, false);
      const opened = await suite.open(
        { recipientKey, enc: ct.slice(8, 8 + 1120), info: ct.slice(0, 8) },
        ct.slice(8 + 1120),
        hexToBytes(v.aad),
      );
      expect(bytesToHex(new Uint8Array(opened))).toBe(v.plaintext);
    }
  });
});
