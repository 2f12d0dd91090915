/**
 * Regenerates test/vectors/format-v2.json, the known-answer vectors of the Qpher ciphertext
 * format v2 (X-Wing, docs/format.md). Run: `npx tsx test/vectors/generate-format-v2.ts`.
 * Inputs are fixed below; outputs come from src/crypto/format.ts. test/crypto/format-xwing.test.ts
 * recomputes every vector and also opens each one with hpke-js (@hpke/hybridkem-x-wing), so a
 * change here that is not a deliberate format change shows up as a test failure.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { type CiphertextMode, deriveDeterministicRandomness, sealCiphertext } from '../../src/crypto/format.js';
import { xwingKeygen } from '../../src/crypto/xwing.js';

export interface FormatV2Vector {
  description: string;
  kem: 'X-Wing';
  mode: CiphertextMode;
  seed: string; // 32-byte X-Wing seed (the private key)
  key_version: number;
  salt?: string; // deterministic mode only
  aad: string; // "" = no aad
  plaintext: string;
  encap_randomness: string; // the 64-byte X-Wing eseed (derived in deterministic mode, fixed in standard mode)
  ciphertext: string;
}

const seedA = Uint8Array.from({ length: 32 }, (_, i) => i); // 00 01 .. 1f, the draft's x509 example key
const seedB = Uint8Array.from({ length: 32 }, (_, i) => (0xa5 + 7 * i) & 0xff);

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
    description: 'X-Wing, deterministic, with aad',
    mode: 'deterministic',
    seed: seedA,
    keyVersion: 1,
    salt: utf8ToBytes('qpher test salt'),
    aad: utf8ToBytes('tenant=acme;field=ssn'),
    plaintext: utf8ToBytes('123-45-6789'),
  },
  {
    description: 'X-Wing, deterministic, no aad, empty plaintext, empty salt',
    mode: 'deterministic',
    seed: seedA,
    keyVersion: 7,
    salt: new Uint8Array(0),
    aad: new Uint8Array(0),
    plaintext: new Uint8Array(0),
  },
  {
    description: 'X-Wing, standard with fixed encapsulation randomness, with aad',
    mode: 'standard',
    seed: seedB,
    keyVersion: 2,
    aad: utf8ToBytes('context'),
    plaintext: utf8ToBytes('The quick brown fox jumps over the lazy dog'),
    encapRandomness: new Uint8Array(64).fill(0x42),
  },
  {
    description: 'X-Wing, standard with fixed encapsulation randomness, no aad, empty plaintext, max key_version',
    mode: 'standard',
    seed: seedB,
    keyVersion: 0xffffffff,
    aad: new Uint8Array(0),
    plaintext: new Uint8Array(0),
    encapRandomness: Uint8Array.from({ length: 64 }, (_, i) => i),
  },
];

export async function generate(): Promise<FormatV2Vector[]> {
  const out: FormatV2Vector[] = [];
  for (const v of inputs) {
    const { publicKey } = xwingKeygen(v.seed);
    const eseed =
      v.mode === 'deterministic' ? deriveDeterministicRandomness(v.seed, v.salt!, v.aad, v.plaintext, 'X-Wing') : v.encapRandomness!;
    const ciphertext = await sealCiphertext({
      kem: 'X-Wing',
      publicKey,
      keyVersion: v.keyVersion,
      plaintext: v.plaintext,
      aad: v.aad,
      mode: v.mode,
      encapRandomness: eseed,
    });
    out.push({
      description: v.description,
      kem: 'X-Wing',
      mode: v.mode,
      seed: bytesToHex(v.seed),
      key_version: v.keyVersion,
      ...(v.salt !== undefined && { salt: bytesToHex(v.salt) }),
      aad: bytesToHex(v.aad),
      plaintext: bytesToHex(v.plaintext),
      encap_randomness: bytesToHex(eseed),
      ciphertext: bytesToHex(ciphertext),
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const vectors = await generate();
  const file = new URL('./format-v2.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify({ format: 'qpher ciphertext v2 (X-Wing)', spec: 'docs/format.md', vectors }, null, 2)}\n`);
  console.log(`wrote ${vectors.length} vectors to ${file.pathname}`);
}
