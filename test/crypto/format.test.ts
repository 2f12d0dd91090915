/**
 * Ciphertext format v1: header edge cases, deterministic mode, tamper resistance (one error for
 * every failure), sizes, and the known-answer vectors in test/vectors/format-v1.json, which are
 * recomputed here and opened with hpke-js as an independent check.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { MlKem768 } from '@hpke/ml-kem';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { equalBytes } from '@noble/post-quantum/utils.js';
import { describe, expect, it } from 'vitest';
import {
  FORMAT_OVERHEAD,
  FORMAT_VERSION,
  HEADER_LENGTH,
  deriveDeterministicRandomness,
  encodeHeader,
  openCiphertext,
  parseHeader,
  sealCiphertext,
} from '../../src/crypto/format.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { generate, type FormatVector } from '../vectors/generate-format.js';

const seed = Uint8Array.from({ length: 64 }, (_, i) => 200 - i);
const { publicKey, secretKey } = nobleProvider.mlKem768.keygen(seed);
const otherSeed = new Uint8Array(64).fill(3);
const other = nobleProvider.mlKem768.keygen(otherSeed);
const plaintext = utf8ToBytes('a secret worth keeping');
const aad = utf8ToBytes('record-17');
const salt = utf8ToBytes('per-tenant salt');

async function seal(opts: { plaintext?: Uint8Array; aad?: Uint8Array; keyVersion?: number } = {}) {
  return sealCiphertext({ publicKey, keyVersion: opts.keyVersion ?? 3, plaintext: opts.plaintext ?? plaintext, aad: opts.aad ?? aad });
}

async function sealDet(
  inputs: { seed?: Uint8Array; salt?: Uint8Array; aad?: Uint8Array; plaintext?: Uint8Array; keyVersion?: number } = {},
) {
  const s = inputs.seed ?? seed;
  const pt = inputs.plaintext ?? plaintext;
  const a = inputs.aad ?? aad;
  return sealCiphertext({
    publicKey: nobleProvider.mlKem768.keygen(s).publicKey,
    keyVersion: inputs.keyVersion ?? 3,
    plaintext: pt,
    aad: a,
    mode: 'deterministic',
    encapRandomness: deriveDeterministicRandomness(s, inputs.salt ?? salt, a, pt),
  });
}

describe('header', () => {
  it('encodes version, mode and big-endian key_version', () => {
    expect(FORMAT_VERSION).toBe(1);
    expect(HEADER_LENGTH).toBe(6);
    expect(FORMAT_OVERHEAD).toBe(1110);
    expect(bytesToHex(encodeHeader('standard', 1))).toBe('010000000001');
    expect(bytesToHex(encodeHeader('deterministic', 0x01020304))).toBe('010101020304');
    expect(bytesToHex(encodeHeader('standard', 0xffffffff))).toBe('0100ffffffff');
  });

  it('parses what it encodes, reading only the first 6 bytes', () => {
    expect(parseHeader(encodeHeader('deterministic', 42))).toEqual({
      formatVersion: 1,
      kem: 'ML-KEM-768',
      mode: 'deterministic',
      keyVersion: 42,
    });
    const longer = new Uint8Array(100);
    longer.set(encodeHeader('standard', 0xffffffff));
    expect(parseHeader(longer)).toEqual({ formatVersion: 1, kem: 'ML-KEM-768', mode: 'standard', keyVersion: 0xffffffff });
    // A view at an offset into a bigger buffer.
    const buf = new Uint8Array(20);
    buf.set(encodeHeader('standard', 9), 5);
    expect(parseHeader(buf.subarray(5))?.keyVersion).toBe(9);
  });

  it('returns undefined for short input, unknown version or mode, key_version 0', () => {
    expect(parseHeader(new Uint8Array(0))).toBeUndefined();
    expect(parseHeader(hexToBytes('0100000001'))).toBeUndefined();
    expect(parseHeader(hexToBytes('000000000001'))).toBeUndefined();
    expect(parseHeader(hexToBytes('020000000001'))).toBeUndefined();
    expect(parseHeader(hexToBytes('010200000001'))).toBeUndefined();
    expect(parseHeader(hexToBytes('01ff00000001'))).toBeUndefined();
    expect(parseHeader(hexToBytes('010000000000'))).toBeUndefined();
  });

  it('refuses bad arguments by name', () => {
    for (const kv of [0, -1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => encodeHeader('standard', kv)).toThrow(/"keyVersion"/);
    }
    expect(() => encodeHeader('other' as 'standard', 1)).toThrow(TypeError);
  });
});

describe('seal / open', () => {
  it('round trips with and without aad, with the expanded key and the seed', async () => {
    const ct = await seal();
    expect(ct.length).toBe(plaintext.length + FORMAT_OVERHEAD);
    expect(parseHeader(ct)).toEqual({ formatVersion: 1, kem: 'ML-KEM-768', mode: 'standard', keyVersion: 3 });
    expect(await openCiphertext({ secretKey, ciphertext: ct, aad })).toEqual(plaintext);
    expect(await openCiphertext({ secretKey: seed, ciphertext: ct, aad })).toEqual(plaintext);
    const noAad = await sealCiphertext({ publicKey, keyVersion: 1, plaintext });
    expect(await openCiphertext({ secretKey, ciphertext: noAad })).toEqual(plaintext);
    expect(await openCiphertext({ secretKey, ciphertext: noAad, aad: new Uint8Array(0) })).toEqual(plaintext);
  });

  it('handles a 0-byte and a 1 MiB plaintext', async () => {
    const empty = await seal({ plaintext: new Uint8Array(0) });
    expect(empty.length).toBe(FORMAT_OVERHEAD);
    expect(await openCiphertext({ secretKey, ciphertext: empty, aad })).toEqual(new Uint8Array(0));
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    const ct = await seal({ plaintext: big });
    expect(ct.length).toBe(big.length + FORMAT_OVERHEAD);
    // equalBytes: vitest's deep equality walks a 1 MiB array element by element (slow).
    expect(equalBytes(await openCiphertext({ secretKey, ciphertext: ct, aad }), big)).toBe(true);
  });

  it('standard mode is randomized', async () => {
    expect(await seal()).not.toEqual(await seal());
  });

  it('deterministic mode requires encapRandomness', async () => {
    await expect(sealCiphertext({ publicKey, keyVersion: 1, plaintext, mode: 'deterministic' })).rejects.toThrow(TypeError);
  });
});

describe('deterministic mode', () => {
  it('equal (key, key_version, salt, aad, plaintext) give byte-identical ciphertexts that open', async () => {
    const a = await sealDet();
    const b = await sealDet();
    expect(a).toEqual(b);
    expect(parseHeader(a)?.mode).toBe('deterministic');
    expect(await openCiphertext({ secretKey, ciphertext: a, aad })).toEqual(plaintext);
  });

  it('any differing input gives a different ciphertext', async () => {
    const base = bytesToHex(await sealDet());
    const variants = [
      await sealDet({ salt: utf8ToBytes('per-tenant salu') }),
      await sealDet({ aad: utf8ToBytes('record-18') }),
      await sealDet({ plaintext: utf8ToBytes('a secret worth keepinG') }),
      await sealDet({ seed: otherSeed }),
      await sealDet({ keyVersion: 4 }),
    ];
    const hexes = variants.map(bytesToHex);
    for (const h of hexes) expect(h).not.toBe(base);
    expect(new Set(hexes).size).toBe(hexes.length);
    // Different salt/aad/plaintext/key also change the KEM encapsulation itself, not just the body.
    const encOf = (h: string): string => h.slice(2 * HEADER_LENGTH, 2 * (HEADER_LENGTH + 1088));
    for (const h of hexes.slice(0, 4)) expect(encOf(h)).not.toBe(encOf(base));
  });

  it('the length prefixes keep field boundaries unambiguous', () => {
    const x = deriveDeterministicRandomness(seed, utf8ToBytes('ab'), utf8ToBytes('c'), new Uint8Array(0));
    const y = deriveDeterministicRandomness(seed, utf8ToBytes('a'), utf8ToBytes('bc'), new Uint8Array(0));
    const z = deriveDeterministicRandomness(seed, new Uint8Array(0), utf8ToBytes('abc'), new Uint8Array(0));
    expect(x.length).toBe(32);
    expect(new Set([x, y, z].map(bytesToHex)).size).toBe(3);
  });

  it('needs the private seed: a 64-byte seed only', () => {
    expect(() => deriveDeterministicRandomness(seed.subarray(1), salt, aad, plaintext)).toThrow(RangeError);
    expect(() => deriveDeterministicRandomness(publicKey, salt, aad, plaintext)).toThrow(RangeError);
  });
});

describe('opening fails one way', () => {
  const expectFailed = (p: Promise<unknown>, what?: string) => expect(p, what).rejects.toThrow(/^decryption failed$/);

  it('tampering with any region, truncating or extending -> "decryption failed"', async () => {
    const ct = await seal();
    const flips: Record<string, number[]> = {
      'header version': [0],
      'header mode': [1],
      'header key_version': [2, 5],
      enc: [HEADER_LENGTH, HEADER_LENGTH + 500, HEADER_LENGTH + 1087],
      body: [HEADER_LENGTH + 1088, HEADER_LENGTH + 1088 + plaintext.length - 1],
      tag: [ct.length - 16, ct.length - 1],
    };
    for (const [region, positions] of Object.entries(flips)) {
      for (const i of positions) {
        const bad = ct.slice();
        bad[i]! ^= 0x01;
        await expectFailed(openCiphertext({ secretKey, ciphertext: bad, aad }), `${region} byte ${i}`);
      }
    }
    // mode flip standard -> deterministic is authenticated too (header is HPKE info)
    const modeFlipped = ct.slice();
    modeFlipped[1] = 0x01;
    await expectFailed(openCiphertext({ secretKey, ciphertext: modeFlipped, aad }));
    for (const len of [0, 5, HEADER_LENGTH, FORMAT_OVERHEAD - 1, ct.length - 1]) {
      await expectFailed(openCiphertext({ secretKey, ciphertext: ct.subarray(0, len), aad }));
    }
    const extended = new Uint8Array(ct.length + 1);
    extended.set(ct);
    await expectFailed(openCiphertext({ secretKey, ciphertext: extended, aad }));
  });

  it('wrong key, wrong aad, missing aad -> the same error', async () => {
    const ct = await seal();
    await expectFailed(openCiphertext({ secretKey: other.secretKey, ciphertext: ct, aad }));
    await expectFailed(openCiphertext({ secretKey: otherSeed, ciphertext: ct, aad }));
    await expectFailed(openCiphertext({ secretKey, ciphertext: ct, aad: utf8ToBytes('record-18') }));
    await expectFailed(openCiphertext({ secretKey, ciphertext: ct }));
  });

  it('the error carries nothing but the message', async () => {
    const ct = await seal();
    ct[ct.length - 1]! ^= 1;
    const error = await openCiphertext({ secretKey, ciphertext: ct, aad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('decryption failed');
    expect((error as Error).cause).toBeUndefined();
  });
});

describe('known-answer vectors (test/vectors/format-v1.json)', () => {
  const file = JSON.parse(readFileSync(new URL('../vectors/format-v1.json', import.meta.url), 'utf8')) as {
    vectors: FormatVector[];
  };

  it('regenerating from the fixed inputs gives the committed bytes', async () => {
    expect(file.vectors.length).toBeGreaterThanOrEqual(4);
    expect(await generate('ML-KEM-768')).toEqual(file.vectors);
  });

  it('each vector opens with our implementation and re-derives its randomness', async () => {
    for (const v of file.vectors) {
      const s = hexToBytes(v.seed);
      const ct = hexToBytes(v.ciphertext);
      expect(parseHeader(ct)).toEqual({ formatVersion: 1, kem: 'ML-KEM-768', mode: v.mode, keyVersion: v.key_version });
      expect(bytesToHex(await openCiphertext({ secretKey: s, ciphertext: ct, aad: hexToBytes(v.aad) }))).toBe(v.plaintext);
      if (v.mode === 'deterministic') {
        const m = deriveDeterministicRandomness(s, hexToBytes(v.salt!), hexToBytes(v.aad), hexToBytes(v.plaintext));
        expect(bytesToHex(m)).toBe(v.encap_randomness);
      }
    }
  });

  it('each vector opens with hpke-js (info = header, aad = aad, private key = seed)', async () => {
    const suite = new CipherSuite({ kem: new MlKem768(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    for (const v of file.vectors) {
      const ct = hexToBytes(v.ciphertext);
      const recipientKey = await suite.kem.importKey('raw', hexToBytes(v.seed).buffer as ArrayBuffer, false);
      const opened = await suite.open(
        { recipientKey, enc: ct.slice(HEADER_LENGTH, HEADER_LENGTH + 1088), info: ct.slice(0, HEADER_LENGTH) },
        ct.slice(HEADER_LENGTH + 1088),
        hexToBytes(v.aad),
      );
      expect(bytesToHex(new Uint8Array(opened))).toBe(v.plaintext);
    }
  });
});
