/**
 * Wrapped keys (src/crypto/key-wrap.ts): round trips for every allowed size, the size rule,
 * domain separation from the ciphertext format in both directions (by the type byte and, with
 * the byte rewritten, by the HPKE info label), one-way failure, the known-answer vectors in
 * test/vectors/key-wrap-v1.json, and interop with hpke-js (@hpke/core + @hpke/ml-kem) both ways.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { MlKem768 } from '@hpke/ml-kem';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { openCiphertext, parseHeader, sealCiphertext } from '../../src/crypto/format.js';
import { hpkeSeal } from '../../src/crypto/hpke.js';
import {
  encodeWrappedKeyHeader,
  KEY_WRAP_OVERHEAD,
  keyWrapInfo,
  parseWrappedKeyHeader,
  unwrapKey,
  WRAPPABLE_KEY_LENGTHS,
  wrapKey,
} from '../../src/crypto/key-wrap.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { generate, type KeyWrapVector } from '../vectors/generate-key-wrap.js';

const seed = Uint8Array.from({ length: 64 }, (_, i) => (i * 5 + 3) & 0xff);
const { publicKey, secretKey } = nobleProvider.mlKem768.keygen(seed);
const otherSeed = new Uint8Array(64).fill(8);
const aad = utf8ToBytes('tenant=acme');
const key32 = Uint8Array.from({ length: 32 }, (_, i) => 0x60 + i);
const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;
const suite = (): CipherSuite => new CipherSuite({ kem: new MlKem768(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const expectUnwrapFailed = (p: Promise<unknown>, what?: string) => expect(p, what).rejects.toThrow(/^unwrap failed$/);
const expectDecryptFailed = (p: Promise<unknown>, what?: string) => expect(p, what).rejects.toThrow(/^decryption failed$/);

describe('wrapKey / unwrapKey', () => {
  it('round trips every allowed size, with and without aad, with the seed and the expanded key', async () => {
    expect(WRAPPABLE_KEY_LENGTHS).toEqual([16, 24, 32, 48, 64]);
    for (const length of WRAPPABLE_KEY_LENGTHS) {
      const symmetricKey = Uint8Array.from({ length }, (_, i) => i ^ length);
      const wrapped = await wrapKey({ publicKey, keyVersion: 4, symmetricKey, aad });
      expect(wrapped.length).toBe(length + KEY_WRAP_OVERHEAD);
      expect(bytesToHex(wrapped.subarray(0, 6))).toBe('010200000004');
      expect(parseWrappedKeyHeader(wrapped)).toEqual({ formatVersion: 1, kem: 'ML-KEM-768', keyVersion: 4 });
      expect(await unwrapKey({ secretKey: seed, wrappedKey: wrapped, aad })).toEqual(symmetricKey);
      expect(await unwrapKey({ secretKey, wrappedKey: wrapped, aad })).toEqual(symmetricKey);
      const noAad = await wrapKey({ publicKey, keyVersion: 1, symmetricKey });
      expect(await unwrapKey({ secretKey: seed, wrappedKey: noAad })).toEqual(symmetricKey);
    }
  });

  it('is randomized', async () => {
    expect(await wrapKey({ publicKey, keyVersion: 1, symmetricKey: key32 })).not.toEqual(
      await wrapKey({ publicKey, keyVersion: 1, symmetricKey: key32 }),
    );
  });

  it('refuses other key sizes, naming the allowed ones, and other bad arguments by name', async () => {
    for (const length of [0, 1, 15, 17, 20, 31, 33, 47, 63, 65, 128]) {
      await expect(wrapKey({ publicKey, keyVersion: 1, symmetricKey: new Uint8Array(length) })).rejects.toThrow(
        new RangeError(`"symmetricKey" must be 16, 24, 32, 48 or 64 bytes, got ${length}`),
      );
    }
    await expect(wrapKey({ publicKey, keyVersion: 1, symmetricKey: 'k' as never })).rejects.toThrow(
      new TypeError('"symmetricKey" must be a Uint8Array'),
    );
    for (const kv of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      await expect(wrapKey({ publicKey, keyVersion: kv, symmetricKey: key32 })).rejects.toThrow(/"keyVersion"/);
    }
    await expect(wrapKey({ publicKey: publicKey.subarray(1), keyVersion: 1, symmetricKey: key32 })).rejects.toThrow(
      /"publicKey" must be 1184 bytes/,
    );
    const badKey = publicKey.slice();
    badKey[0] = 0xff;
    badKey[1]! |= 0x0f; // coefficient 0xfff ≥ q (FIPS 203 §7.2)
    await expect(wrapKey({ publicKey: badKey, keyVersion: 1, symmetricKey: key32 })).rejects.toThrow(
      /"publicKey" is not a valid ML-KEM-768 public key/,
    );
    await expect(unwrapKey({ secretKey: seed.subarray(1), wrappedKey: new Uint8Array(1142) })).rejects.toThrow(RangeError);
  });

  it('parseWrappedKeyHeader refuses impossible lengths, ciphertext headers, other versions, key_version 0', async () => {
    const wrapped = await wrapKey({ publicKey, keyVersion: 9, symmetricKey: key32 });
    expect(parseWrappedKeyHeader(wrapped)?.keyVersion).toBe(9);
    expect(parseWrappedKeyHeader(wrapped.subarray(0, wrapped.length - 1))).toBeUndefined();
    expect(parseWrappedKeyHeader(new Uint8Array(0))).toBeUndefined();
    for (const [i, value] of [
      [0, 0x02],
      [1, 0x00],
      [1, 0x01],
      [1, 0x03],
    ] as const) {
      const bad = wrapped.slice();
      bad[i] = value;
      expect(parseWrappedKeyHeader(bad), `byte ${i} = ${value}`).toBeUndefined();
    }
    const zero = wrapped.slice();
    zero.fill(0, 2, 6);
    expect(parseWrappedKeyHeader(zero)).toBeUndefined();
    expect(bytesToHex(encodeWrappedKeyHeader(0xffffffff))).toBe('0102ffffffff');
  });
});

describe('domain separation from the ciphertext format', () => {
  it('decrypt refuses a wrapped key, unwrap refuses a ciphertext of the same length', async () => {
    const wrapped = await wrapKey({ publicKey, keyVersion: 3, symmetricKey: key32, aad });
    const ciphertext = await sealCiphertext({ publicKey, keyVersion: 3, plaintext: key32, aad });
    expect(ciphertext.length).toBe(wrapped.length); // same shape, so only the separation stops them
    expect(parseHeader(wrapped)).toBeUndefined();
    expect(parseWrappedKeyHeader(ciphertext)).toBeUndefined();
    await expectDecryptFailed(openCiphertext({ secretKey: seed, ciphertext: wrapped, aad }));
    await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: ciphertext, aad }));
  });

  it('rewriting the type byte does not get through either: the HPKE info label differs', async () => {
    const wrapped = await wrapKey({ publicKey, keyVersion: 3, symmetricKey: key32, aad });
    const asCiphertext = wrapped.slice();
    asCiphertext[1] = 0x00;
    expect(parseHeader(asCiphertext)).toEqual({ formatVersion: 1, kem: 'ML-KEM-768', mode: 'standard', keyVersion: 3 });
    await expectDecryptFailed(openCiphertext({ secretKey: seed, ciphertext: asCiphertext, aad }));

    for (const mode of ['standard', 'deterministic'] as const) {
      const ciphertext = await sealCiphertext({
        publicKey,
        keyVersion: 3,
        plaintext: key32,
        aad,
        mode,
        encapRandomness: new Uint8Array(32),
      });
      const asWrapped = ciphertext.slice();
      asWrapped[1] = 0x02;
      expect(parseWrappedKeyHeader(asWrapped)).toEqual({ formatVersion: 1, kem: 'ML-KEM-768', keyVersion: 3 });
      await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: asWrapped, aad }));
    }
  });

  it('the label is what unwrap checks: HPKE with info = bare header (type 0x02) is refused, with label ‖ header accepted', async () => {
    const header = encodeWrappedKeyHeader(5);
    const bare = await hpkeSeal({ publicKey, info: header, aad, plaintext: key32 });
    await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: concatBytes(header, bare.enc, bare.ciphertext), aad }));
    const labelled = await hpkeSeal({ publicKey, info: keyWrapInfo(header), aad, plaintext: key32 });
    expect(await unwrapKey({ secretKey: seed, wrappedKey: concatBytes(header, labelled.enc, labelled.ciphertext), aad })).toEqual(key32);
    expect(bytesToHex(keyWrapInfo(header))).toBe(`${bytesToHex(utf8ToBytes('qpher/v1 key-wrap'))}010200000005`);
  });
});

describe('unwrapping fails one way', () => {
  it('any flipped byte, truncation, extension, wrong key, wrong or missing aad -> "unwrap failed"', async () => {
    const wrapped = await wrapKey({ publicKey, keyVersion: 3, symmetricKey: key32, aad });
    for (const i of [0, 1, 2, 5, 6, 600, 1093, 1094, 1094 + 31, wrapped.length - 16, wrapped.length - 1]) {
      const bad = wrapped.slice();
      bad[i]! ^= 0x01;
      await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: bad, aad }), `byte ${i}`);
    }
    for (const len of [0, 6, 1110, 1126, wrapped.length - 1]) {
      await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: wrapped.subarray(0, len), aad }), `length ${len}`);
    }
    await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: concatBytes(wrapped, new Uint8Array(8)), aad }));
    await expectUnwrapFailed(unwrapKey({ secretKey: otherSeed, wrappedKey: wrapped, aad }));
    await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: wrapped, aad: utf8ToBytes('tenant=acmf') }));
    await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: wrapped }));
    await expectUnwrapFailed(unwrapKey({ secretKey: seed, wrappedKey: 'not bytes' as never, aad }));
    const error = await unwrapKey({ secretKey: otherSeed, wrappedKey: wrapped, aad }).catch((e: unknown) => e);
    expect((error as Error).cause).toBeUndefined();
  });
});

describe('interop with hpke-js', () => {
  it('hpke-js opens our wrapped keys (info = label ‖ header, private key = the 64-byte seed)', async () => {
    const wrapped = await wrapKey({ publicKey, keyVersion: 11, symmetricKey: key32, aad });
    const s = suite();
    const recipientKey = await s.kem.importKey('raw', arrayBuffer(seed), false);
    const opened = await s.open(
      { recipientKey, enc: arrayBuffer(wrapped.subarray(6, 1094)), info: arrayBuffer(keyWrapInfo(wrapped.subarray(0, 6))) },
      arrayBuffer(wrapped.subarray(1094)),
      arrayBuffer(aad),
    );
    expect(new Uint8Array(opened)).toEqual(key32);
    // ... and refuses them with the bare header as info, as a ciphertext reader would use.
    await expect(
      s.open(
        { recipientKey, enc: arrayBuffer(wrapped.subarray(6, 1094)), info: arrayBuffer(wrapped.subarray(0, 6)) },
        arrayBuffer(wrapped.subarray(1094)),
        arrayBuffer(aad),
      ),
    ).rejects.toThrow();
  });

  it('we unwrap what hpke-js seals under our header and info', async () => {
    const s = suite();
    const recipientPublicKey = await s.kem.importKey('raw', arrayBuffer(publicKey), true);
    for (const length of WRAPPABLE_KEY_LENGTHS) {
      const symmetricKey = Uint8Array.from({ length }, (_, i) => 255 - i);
      const header = encodeWrappedKeyHeader(length);
      const sealed = await s.seal(
        { recipientPublicKey, info: arrayBuffer(keyWrapInfo(header)) },
        arrayBuffer(symmetricKey),
        arrayBuffer(aad),
      );
      const wrappedKey = concatBytes(header, new Uint8Array(sealed.enc), new Uint8Array(sealed.ct));
      expect(parseWrappedKeyHeader(wrappedKey)?.keyVersion).toBe(length);
      expect(await unwrapKey({ secretKey: seed, wrappedKey, aad })).toEqual(symmetricKey);
    }
  });
});

describe('known-answer vectors (test/vectors/key-wrap-v1.json)', () => {
  const file = JSON.parse(readFileSync(new URL('../vectors/key-wrap-v1.json', import.meta.url), 'utf8')) as { vectors: KeyWrapVector[] };

  it('regenerating from the fixed inputs gives the committed bytes, one vector per allowed size', async () => {
    expect(file.vectors.map((v) => v.symmetric_key.length / 2)).toEqual([16, 24, 32, 48, 64]);
    expect(await generate('ML-KEM-768')).toEqual(file.vectors);
  });

  it('each vector unwraps with our code and with hpke-js', async () => {
    const s = suite();
    for (const v of file.vectors) {
      const wrappedKey = hexToBytes(v.wrapped_key);
      expect(parseWrappedKeyHeader(wrappedKey)?.keyVersion).toBe(v.key_version);
      expect(bytesToHex(await unwrapKey({ secretKey: hexToBytes(v.seed), wrappedKey, aad: hexToBytes(v.aad) }))).toBe(v.symmetric_key);
      const recipientKey = await s.kem.importKey('raw', arrayBuffer(hexToBytes(v.seed)), false);
      const opened = await s.open(
        { recipientKey, enc: arrayBuffer(wrappedKey.subarray(6, 1094)), info: arrayBuffer(keyWrapInfo(wrappedKey.subarray(0, 6))) },
        arrayBuffer(wrappedKey.subarray(1094)),
        arrayBuffer(hexToBytes(v.aad)),
      );
      expect(bytesToHex(new Uint8Array(opened))).toBe(v.symmetric_key);
    }
  });
});
