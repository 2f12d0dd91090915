/**
 * Wrapped keys under X-Wing (src/crypto/key-wrap.ts, docs/format.md "Wrapped keys"): the 8-byte
 * version-2 header that names the KEM, round trips for every allowed size, separation from
 * X-Wing ciphertexts and from ML-KEM-768 wrapped keys in both directions, one-way failure, the
 * known-answer vectors in test/vectors/key-wrap-v2.json, and interop with hpke-js
 * (@hpke/hybridkem-x-wing) both ways. key-wrap.test.ts covers ML-KEM-768 (version 1).
 * @module
 */
import { readFileSync } from 'node:fs';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { openCiphertext, parseHeader, sealCiphertext } from '../../src/crypto/format.js';
import {
  encodeWrappedKeyHeader,
  keyWrapInfo,
  parseWrappedKeyHeader,
  unwrapKey,
  WRAPPABLE_KEY_LENGTHS,
  wrapKey,
} from '../../src/crypto/key-wrap.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { xwingExpandSecretKey, xwingKeygen } from '../../src/crypto/xwing.js';
import { generate, type KeyWrapVector } from '../vectors/generate-key-wrap.js';

const kem = 'X-Wing' as const;
const seed = Uint8Array.from({ length: 32 }, (_, i) => (i * 5 + 3) & 0xff);
const { publicKey } = xwingKeygen(seed);
const otherSeed = new Uint8Array(32).fill(8);
const aad = utf8ToBytes('tenant=acme');
const key32 = Uint8Array.from({ length: 32 }, (_, i) => 0x60 + i);
const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;
const suite = (): CipherSuite => new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const expectUnwrapFailed = (p: Promise<unknown>, what?: string) => expect(p, what).rejects.toThrow(/^unwrap failed$/);

describe('X-Wing wrapKey / unwrapKey', () => {
  it('header is 0x02 ‖ kem_id 0x647a ‖ 0x02 ‖ key_version; ML-KEM-768 keeps its 6-byte v1 header', () => {
    expect(bytesToHex(encodeWrappedKeyHeader(1, kem))).toBe('02647a0200000001');
    expect(bytesToHex(encodeWrappedKeyHeader(0xffffffff, kem))).toBe('02647a02ffffffff');
    expect(bytesToHex(encodeWrappedKeyHeader(1))).toBe('010200000001');
    expect(() => encodeWrappedKeyHeader(0, kem)).toThrow(/"keyVersion"/);
    expect(() => encodeWrappedKeyHeader(1, 'X-Wang' as never)).toThrow(/"kem" must be one of/);
  });

  it('round trips every allowed size (overhead 1144), with and without aad', async () => {
    for (const length of WRAPPABLE_KEY_LENGTHS) {
      const symmetricKey = Uint8Array.from({ length }, (_, i) => i ^ length);
      const wrapped = await wrapKey({ kem, publicKey, keyVersion: 4, symmetricKey, aad });
      expect(wrapped.length).toBe(length + 8 + 1120 + 16);
      expect(bytesToHex(wrapped.subarray(0, 8))).toBe('02647a0200000004');
      expect(parseWrappedKeyHeader(wrapped)).toEqual({ formatVersion: 2, kem, keyVersion: 4 });
      expect(await unwrapKey({ kem, secretKey: seed, wrappedKey: wrapped, aad })).toEqual(symmetricKey);
      expect(await unwrapKey({ kem, secretKey: xwingExpandSecretKey(seed), wrappedKey: wrapped, aad })).toEqual(symmetricKey);
      const noAad = await wrapKey({ kem, publicKey, keyVersion: 1, symmetricKey });
      expect(await unwrapKey({ kem, secretKey: seed, wrappedKey: noAad })).toEqual(symmetricKey);
    }
  });

  it('refuses bad arguments by name: key sizes, a public key of the other KEM, a secret key of the wrong size', async () => {
    await expect(wrapKey({ kem, publicKey, keyVersion: 1, symmetricKey: new Uint8Array(20) })).rejects.toThrow(
      new RangeError('"symmetricKey" must be 16, 24, 32, 48 or 64 bytes, got 20'),
    );
    const mlKem = nobleProvider.mlKem768.keygen(new Uint8Array(64).fill(1));
    await expect(wrapKey({ kem, publicKey: mlKem.publicKey, keyVersion: 1, symmetricKey: key32 })).rejects.toThrow(
      /"publicKey" must be 1216 bytes, got 1184/,
    );
    await expect(unwrapKey({ kem, secretKey: new Uint8Array(64), wrappedKey: new Uint8Array(1176) })).rejects.toThrow(
      new RangeError('"secretKey" must be the 32-byte X-Wing seed or the 2464-byte decapsulation key'),
    );
  });

  it('parseWrappedKeyHeader refuses impossible lengths, other kem_ids, ciphertext modes, key_version 0', async () => {
    const wrapped = await wrapKey({ kem, publicKey, keyVersion: 9, symmetricKey: key32 });
    expect(parseWrappedKeyHeader(wrapped.subarray(0, wrapped.length - 1))).toBeUndefined();
    for (const [i, value] of [
      [0, 0x01],
      [0, 0x03],
      [1, 0x00],
      [2, 0x41],
      [2, 0x7b],
      [3, 0x00],
      [3, 0x01],
      [3, 0x03],
    ] as const) {
      const bad = wrapped.slice();
      bad[i] = value;
      expect(parseWrappedKeyHeader(bad), `byte ${i} = ${value}`).toBeUndefined();
    }
    const zero = wrapped.slice();
    zero.fill(0, 4, 8);
    expect(parseWrappedKeyHeader(zero)).toBeUndefined();
  });
});

describe('separation', () => {
  it('from X-Wing ciphertexts: decrypt refuses a wrapped key, unwrap a ciphertext, even with the type byte rewritten', async () => {
    const wrapped = await wrapKey({ kem, publicKey, keyVersion: 3, symmetricKey: key32, aad });
    const ciphertext = await sealCiphertext({ kem, publicKey, keyVersion: 3, plaintext: key32, aad });
    expect(ciphertext.length).toBe(wrapped.length);
    expect(parseHeader(wrapped)).toBeUndefined();
    expect(parseWrappedKeyHeader(ciphertext)).toBeUndefined();
    await expect(openCiphertext({ kem, secretKey: seed, ciphertext: wrapped, aad })).rejects.toThrow(/^decryption failed$/);
    await expectUnwrapFailed(unwrapKey({ kem, secretKey: seed, wrappedKey: ciphertext, aad }));

    const asCiphertext = wrapped.slice();
    asCiphertext[3] = 0x00;
    expect(parseHeader(asCiphertext)).toEqual({ formatVersion: 2, kem, mode: 'standard', keyVersion: 3 });
    await expect(openCiphertext({ kem, secretKey: seed, ciphertext: asCiphertext, aad })).rejects.toThrow(/^decryption failed$/);
    const asWrapped = ciphertext.slice();
    asWrapped[3] = 0x02;
    expect(parseWrappedKeyHeader(asWrapped)).toEqual({ formatVersion: 2, kem, keyVersion: 3 });
    await expectUnwrapFailed(unwrapKey({ kem, secretKey: seed, wrappedKey: asWrapped, aad }));
  });

  it("from ML-KEM-768 wrapped keys: each KEM refuses the other one's", async () => {
    const mlKemSeed = new Uint8Array(64).fill(5);
    const mlKem = nobleProvider.mlKem768.keygen(mlKemSeed);
    const mlWrapped = await wrapKey({ publicKey: mlKem.publicKey, keyVersion: 3, symmetricKey: key32 });
    const xWrapped = await wrapKey({ kem, publicKey, keyVersion: 3, symmetricKey: key32 });
    expect(parseWrappedKeyHeader(mlWrapped)?.kem).toBe('ML-KEM-768');
    expect(parseWrappedKeyHeader(xWrapped)?.kem).toBe(kem);
    await expectUnwrapFailed(unwrapKey({ kem, secretKey: seed, wrappedKey: mlWrapped }));
    await expectUnwrapFailed(unwrapKey({ secretKey: mlKemSeed, wrappedKey: xWrapped }));
  });
});

describe('unwrapping fails one way', () => {
  it('any flipped byte, truncation, extension, wrong key, wrong or missing aad -> "unwrap failed"', async () => {
    const wrapped = await wrapKey({ kem, publicKey, keyVersion: 3, symmetricKey: key32, aad });
    for (const i of [0, 1, 2, 3, 7, 8, 600, 1127, 1128, 1128 + 31, wrapped.length - 16, wrapped.length - 1]) {
      const bad = wrapped.slice();
      bad[i]! ^= 0x01;
      await expectUnwrapFailed(unwrapKey({ kem, secretKey: seed, wrappedKey: bad, aad }), `byte ${i}`);
    }
    for (const len of [0, 8, 1144, 1160, wrapped.length - 1]) {
      await expectUnwrapFailed(unwrapKey({ kem, secretKey: seed, wrappedKey: wrapped.subarray(0, len), aad }), `length ${len}`);
    }
    await expectUnwrapFailed(unwrapKey({ kem, secretKey: seed, wrappedKey: concatBytes(wrapped, new Uint8Array(8)), aad }));
    await expectUnwrapFailed(unwrapKey({ kem, secretKey: otherSeed, wrappedKey: wrapped, aad }));
    await expectUnwrapFailed(unwrapKey({ kem, secretKey: seed, wrappedKey: wrapped }));
  });
});

describe('interop with hpke-js (@hpke/hybridkem-x-wing)', () => {
  it('hpke-js opens our wrapped keys (info = label ‖ 8-byte header, private key = the 32-byte seed) and we open its', async () => {
    const s = suite();
    const wrapped = await wrapKey({ kem, publicKey, keyVersion: 11, symmetricKey: key32, aad });
    const recipientKey = await s.kem.importKey('raw', arrayBuffer(seed), false);
    const opened = await s.open(
      { recipientKey, enc: arrayBuffer(wrapped.subarray(8, 1128)), info: arrayBuffer(keyWrapInfo(wrapped.subarray(0, 8))) },
      arrayBuffer(wrapped.subarray(1128)),
      arrayBuffer(aad),
    );
    expect(new Uint8Array(opened)).toEqual(key32);

    const recipientPublicKey = await s.kem.importKey('raw', arrayBuffer(publicKey), true);
    const header = encodeWrappedKeyHeader(48, kem);
    const sealed = await s.seal({ recipientPublicKey, info: arrayBuffer(keyWrapInfo(header)) }, arrayBuffer(key32), arrayBuffer(aad));
    const wrappedKey = concatBytes(header, new Uint8Array(sealed.enc), new Uint8Array(sealed.ct));
    expect(await unwrapKey({ kem, secretKey: seed, wrappedKey, aad })).toEqual(key32);
  });
});

describe('known-answer vectors (test/vectors/key-wrap-v2.json)', () => {
  const file = JSON.parse(readFileSync(new URL('../vectors/key-wrap-v2.json', import.meta.url), 'utf8')) as { vectors: KeyWrapVector[] };

  it('regenerating from the fixed inputs gives the committed bytes, one vector per allowed size', async () => {
    expect(file.vectors.map((v) => v.symmetric_key.length / 2)).toEqual([16, 24, 32, 48, 64]);
    expect(await generate('X-Wing')).toEqual(file.vectors);
  });

  it('each vector unwraps with our code and with hpke-js', async () => {
    const s = suite();
    for (const v of file.vectors) {
      const wrappedKey = hexToBytes(v.wrapped_key);
      expect(parseWrappedKeyHeader(wrappedKey)).toEqual({ formatVersion: 2, kem, keyVersion: v.key_version });
      const secretKey = hexToBytes(v.seed);
      expect(bytesToHex(await unwrapKey({ kem, secretKey, wrappedKey, aad: hexToBytes(v.aad) }))).toBe(v.symmetric_key);
      const recipientKey = await s.kem.importKey('raw', arrayBuffer(secretKey), false);
      const opened = await s.open(
        { recipientKey, enc: arrayBuffer(wrappedKey.subarray(8, 1128)), info: arrayBuffer(keyWrapInfo(wrappedKey.subarray(0, 8))) },
        arrayBuffer(wrappedKey.subarray(1128)),
        arrayBuffer(hexToBytes(v.aad)),
      );
      expect(bytesToHex(new Uint8Array(opened))).toBe(v.symmetric_key);
    }
  });
});
