/**
 * Regenerates the known-answer vectors of the Qpher ciphertext format (docs/format.md):
 * test/vectors/format-v1.json under ML-KEM-768 and format-v2.json under X-Wing.
 * Run: `npx tsx test/vectors/generate-format.ts`. Inputs are fixed below (the same cases for both
 * KEMs, with seeds and encapsulation randomness of each KEM's length); outputs come from
 * src/crypto/format.ts. test/crypto/format.test.ts and format-xwing.test.ts recompute every vector
 * and open each one with hpke-js, so a change here that is not a deliberate format change shows
 * up as a test failure.
 * @module
 */
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { type CiphertextMode, deriveDeterministicRandomness, sealCiphertext } from '../../src/crypto/format.js';
import { KEMS, type Kem, seedA, seedB, writeVectorFiles } from './kems.js';

export interface FormatVector {
  description: string;
  /** Present in the X-Wing file only: version 1 is ML-KEM-768 by definition. */
  kem?: 'X-Wing';
  mode: CiphertextMode;
  seed: string; // ML-KEM-768: the 64-byte seed d‖z; X-Wing: the 32-byte private key
  key_version: number;
  salt?: string; // deterministic mode only
  aad: string; // "" = no aad
  plaintext: string;
  encap_randomness: string; // ML-KEM-768: the 32-byte m; X-Wing: the 64-byte eseed (derived in deterministic mode, fixed in standard mode)
  ciphertext: string;
}

/** Each KEM's file, and how its descriptions start. */
const FILES = {
  'ML-KEM-768': { descriptionPrefix: '', file: 'format-v1.json', format: 'qpher ciphertext v1' },
  'X-Wing': { descriptionPrefix: 'X-Wing, ', file: 'format-v2.json', format: 'qpher ciphertext v2 (X-Wing)' },
} as const;

interface Input {
  description: string;
  mode: CiphertextMode;
  seed: Uint8Array;
  keyVersion: number;
  salt?: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
  encapRandomness?: Uint8Array;
}

/** The cases, given the KEM's seed and randomness lengths. */
const inputs = (seedLength: number, randomnessLength: number): Input[] => [
  {
    description: 'deterministic, with aad',
    mode: 'deterministic',
    seed: seedA(seedLength),
    keyVersion: 1,
    salt: utf8ToBytes('qpher test salt'),
    aad: utf8ToBytes('tenant=acme;field=ssn'),
    plaintext: utf8ToBytes('123-45-6789'),
  },
  {
    description: 'deterministic, no aad, empty plaintext, empty salt',
    mode: 'deterministic',
    seed: seedA(seedLength),
    keyVersion: 7,
    salt: new Uint8Array(0),
    aad: new Uint8Array(0),
    plaintext: new Uint8Array(0),
  },
  {
    description: 'standard with fixed encapsulation randomness, with aad',
    mode: 'standard',
    seed: seedB(seedLength),
    keyVersion: 2,
    aad: utf8ToBytes('context'),
    plaintext: utf8ToBytes('The quick brown fox jumps over the lazy dog'),
    encapRandomness: new Uint8Array(randomnessLength).fill(0x42),
  },
  {
    description: 'standard with fixed encapsulation randomness, no aad, empty plaintext, max key_version',
    mode: 'standard',
    seed: seedB(seedLength),
    keyVersion: 0xffffffff,
    aad: new Uint8Array(0),
    plaintext: new Uint8Array(0),
    encapRandomness: Uint8Array.from({ length: randomnessLength }, (_, i) => i),
  },
];

export async function generate(kem: Kem): Promise<FormatVector[]> {
  const { seedLength, randomnessLength, publicKey } = KEMS[kem];
  const { descriptionPrefix } = FILES[kem];
  const out: FormatVector[] = [];
  for (const v of inputs(seedLength, randomnessLength)) {
    const randomness =
      v.mode === 'deterministic' ? deriveDeterministicRandomness(v.seed, v.salt!, v.aad, v.plaintext, kem) : v.encapRandomness!;
    const ciphertext = await sealCiphertext({
      kem,
      publicKey: publicKey(v.seed),
      keyVersion: v.keyVersion,
      plaintext: v.plaintext,
      aad: v.aad,
      mode: v.mode,
      encapRandomness: randomness,
    });
    out.push({
      description: descriptionPrefix + v.description,
      ...(kem === 'X-Wing' ? { kem } : {}),
      mode: v.mode,
      seed: bytesToHex(v.seed),
      key_version: v.keyVersion,
      ...(v.salt !== undefined && { salt: bytesToHex(v.salt) }),
      aad: bytesToHex(v.aad),
      plaintext: bytesToHex(v.plaintext),
      encap_randomness: bytesToHex(randomness),
      ciphertext: bytesToHex(ciphertext),
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await writeVectorFiles(FILES, generate);
