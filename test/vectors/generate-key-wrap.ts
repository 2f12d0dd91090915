/**
 * Regenerates the known-answer vectors of Qpher wrapped keys (docs/format.md, "Wrapped keys"):
 * test/vectors/key-wrap-v1.json under ML-KEM-768 and key-wrap-v2.json under X-Wing.
 * Run: `npx tsx test/vectors/generate-key-wrap.ts`. Inputs are fixed below (one vector per
 * allowed key size, the same cases for both KEMs with seeds and encapsulation randomness of each
 * KEM's length); outputs come from src/crypto/key-wrap.ts. test/crypto/key-wrap.test.ts and
 * key-wrap-xwing.test.ts recompute every vector and open each with hpke-js, so a change that is
 * not a deliberate format change shows up as a test failure.
 * @module
 */
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { wrapKey } from '../../src/crypto/key-wrap.js';
import { KEMS, type Kem, seedA, seedB, writeVectorFiles } from './kems.js';

export interface KeyWrapVector {
  description: string;
  /** Present in the X-Wing file only: version 1 is ML-KEM-768 by definition. */
  kem?: 'X-Wing';
  seed: string; // ML-KEM-768: the 64-byte seed d‖z; X-Wing: the 32-byte private key
  key_version: number;
  aad: string; // "" = no aad
  symmetric_key: string;
  encap_randomness: string; // ML-KEM-768: the 32-byte m; X-Wing: the 64-byte eseed (fixed, so the vector is reproducible)
  wrapped_key: string;
}

/** Each KEM's file. */
const FILES = {
  'ML-KEM-768': { file: 'key-wrap-v1.json', format: 'qpher wrapped key v1' },
  'X-Wing': { file: 'key-wrap-v2.json', format: 'qpher wrapped key v2 (X-Wing)' },
} as const;

const counting = (length: number, start: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
const filled = (length: number, byte: number): Uint8Array => new Uint8Array(length).fill(byte);

/** The cases, given the KEM's seed and randomness lengths. */
const inputs = (seedLength: number, randomnessLength: number) => [
  {
    description: 'AES-128 key, no aad',
    seed: seedA(seedLength),
    keyVersion: 1,
    aad: new Uint8Array(0),
    symmetricKey: counting(16, 0x10),
    encapRandomness: filled(randomnessLength, 0x01),
  },
  {
    description: 'AES-192 key, with aad',
    seed: seedA(seedLength),
    keyVersion: 2,
    aad: utf8ToBytes('tenant=acme;purpose=dek'),
    symmetricKey: counting(24, 0x20),
    encapRandomness: filled(randomnessLength, 0x02),
  },
  {
    description: 'AES-256 key, with aad',
    seed: seedB(seedLength),
    keyVersion: 7,
    aad: utf8ToBytes('record-17'),
    symmetricKey: counting(32, 0x40),
    encapRandomness: counting(randomnessLength, 0x00),
  },
  {
    description: '48-byte key (HMAC-SHA-384), no aad',
    seed: seedB(seedLength),
    keyVersion: 0x01020304,
    aad: new Uint8Array(0),
    symmetricKey: counting(48, 0x80),
    encapRandomness: filled(randomnessLength, 0x42),
  },
  {
    description: '64-byte key (HMAC-SHA-512), max key_version, with aad',
    seed: seedA(seedLength),
    keyVersion: 0xffffffff,
    aad: utf8ToBytes('k'),
    symmetricKey: counting(64, 0xc0),
    encapRandomness: filled(randomnessLength, 0xff),
  },
];

export async function generate(kem: Kem): Promise<KeyWrapVector[]> {
  const { seedLength, randomnessLength, publicKey } = KEMS[kem];
  const out: KeyWrapVector[] = [];
  for (const v of inputs(seedLength, randomnessLength)) {
    const wrapped = await wrapKey({
      kem,
      publicKey: publicKey(v.seed),
      keyVersion: v.keyVersion,
      symmetricKey: v.symmetricKey,
      aad: v.aad,
      encapRandomness: v.encapRandomness,
    });
    out.push({
      description: v.description,
      ...(kem === 'X-Wing' ? { kem } : {}),
      seed: bytesToHex(v.seed),
      key_version: v.keyVersion,
      aad: bytesToHex(v.aad),
      symmetric_key: bytesToHex(v.symmetricKey),
      encap_randomness: bytesToHex(v.encapRandomness),
      wrapped_key: bytesToHex(wrapped),
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await writeVectorFiles(FILES, generate);
