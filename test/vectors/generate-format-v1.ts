/**
 * Regenerates test/vectors/format-v1.json, the known-answer vectors of the Qpher ciphertext
 * format v1 (docs/format.md). Run: `npx tsx test/vectors/generate-format-v1.ts`.
 * Inputs are fixed below; outputs come from src/crypto/format.ts. test/crypto/format.test.ts
 * recomputes every vector and also opens each one with hpke-js, so a change here that is not a
 * deliberate format change shows up as a test failure.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { deriveDeterministicRandomness, sealCiphertext, type CiphertextMode } from '../../src/crypto/format.js';
import { nobleProvider } from '../../src/crypto/primitives.js';

export interface FormatVector {
  description: string;
  mode: CiphertextMode;
  seed: string; // 64-byte ML-KEM-768 seed d‖z
  key_version: number;
  salt?: string; // deterministic mode only
  aad: string; // "" = no aad
  plaintext: string;
  encap_randomness: string; // the 32-byte ML-KEM m (derived in deterministic mode, fixed in standard mode)
  ciphertext: string;
}

const seedA = Uint8Array.from({ length: 64 }, (_, i) => i); // 00 01 .. 3f
const seedB = Uint8Array.from({ length: 64 }, (_, i) => (0xa5 + 7 * i) & 0xff);

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

const inputs: Input[] = [
  {
    description: 'deterministic, with aad',
    mode: 'deterministic',
    seed: seedA,
    keyVersion: 1,
    salt: utf8ToBytes('qpher test salt'),
    aad: utf8ToBytes('tenant=acme;field=ssn'),
    plaintext: utf8ToBytes('123-45-6789'),
  },
  {
    description: 'deterministic, no aad, empty plaintext, empty salt',
    mode: 'deterministic',
    seed: seedA,
    keyVersion: 7,
    salt: new Uint8Array(0),
    aad: new Uint8Array(0),
    plaintext: new Uint8Array(0),
  },
  {
    description: 'standard with fixed encapsulation randomness, with aad',
    mode: 'standard',
    seed: seedB,
    keyVersion: 2,
    aad: utf8ToBytes('context'),
    plaintext: utf8ToBytes('The quick brown fox jumps over the lazy dog'),
    encapRandomness: new Uint8Array(32).fill(0x42),
  },
  {
    description: 'standard with fixed encapsulation randomness, no aad, empty plaintext, max key_version',
    mode: 'standard',
    seed: seedB,
    keyVersion: 0xffffffff,
    aad: new Uint8Array(0),
    plaintext: new Uint8Array(0),
    encapRandomness: Uint8Array.from({ length: 32 }, (_, i) => i),
  },
];

export async function generate(): Promise<FormatVector[]> {
  const out: FormatVector[] = [];
  for (const v of inputs) {
    const { publicKey } = nobleProvider.mlKem768.keygen(v.seed);
    const m = v.mode === 'deterministic' ? deriveDeterministicRandomness(v.seed, v.salt!, v.aad, v.plaintext) : v.encapRandomness!;
    const ciphertext = await sealCiphertext({
      publicKey,
      keyVersion: v.keyVersion,
      plaintext: v.plaintext,
      aad: v.aad,
      mode: v.mode,
      encapRandomness: m,
    });
    out.push({
      description: v.description,
      mode: v.mode,
      seed: bytesToHex(v.seed),
      key_version: v.keyVersion,
      ...(v.salt !== undefined && { salt: bytesToHex(v.salt) }),
      aad: bytesToHex(v.aad),
      plaintext: bytesToHex(v.plaintext),
      encap_randomness: bytesToHex(m),
      ciphertext: bytesToHex(ciphertext),
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const vectors = await generate();
  const file = new URL('./format-v1.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify({ format: 'qpher ciphertext v1', spec: 'docs/format.md', vectors }, null, 2)}\n`);
  console.log(`wrote ${vectors.length} vectors to ${file.pathname}`);
}
