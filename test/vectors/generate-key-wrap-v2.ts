/**
 * Regenerates test/vectors/key-wrap-v2.json, the known-answer vectors of wrapped keys under
 * X-Wing (docs/format.md, "Wrapped keys", version 2). Run: `npx tsx test/vectors/generate-key-wrap-v2.ts`.
 * Inputs are fixed below (one vector per allowed key size, the same cases as key-wrap-v1.json
 * with X-Wing keys and eseeds); outputs come from src/crypto/key-wrap.ts.
 * test/crypto/key-wrap-xwing.test.ts recomputes every vector and opens each with hpke-js
 * (@hpke/hybridkem-x-wing), so a change that is not a deliberate format change shows up as a
 * test failure.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { wrapKey } from '../../src/crypto/key-wrap.js';
import { xwingKeygen } from '../../src/crypto/xwing.js';

export interface KeyWrapV2Vector {
  description: string;
  kem: 'X-Wing';
  seed: string; // 32-byte X-Wing seed (the private key)
  key_version: number;
  aad: string; // "" = no aad
  symmetric_key: string;
  encap_randomness: string; // the 64-byte X-Wing eseed, fixed so the vector is reproducible
  wrapped_key: string;
}

const seedA = Uint8Array.from({ length: 32 }, (_, i) => i); // 00 01 .. 1f
const seedB = Uint8Array.from({ length: 32 }, (_, i) => (0xa5 + 7 * i) & 0xff);
const counting = (length: number, start: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

interface Input {
  description: string;
  seed: Uint8Array;
  keyVersion: number;
  aad: Uint8Array;
  symmetricKey: Uint8Array;
  encapRandomness: Uint8Array;
}

const inputs: Input[] = [
  {
    description: 'AES-128 key, no aad',
    seed: seedA,
    keyVersion: 1,
    aad: new Uint8Array(0),
    symmetricKey: counting(16, 0x10),
    encapRandomness: new Uint8Array(64).fill(0x01),
  },
  {
    description: 'AES-192 key, with aad',
    seed: seedA,
    keyVersion: 2,
    aad: utf8ToBytes('tenant=acme;purpose=dek'),
    symmetricKey: counting(24, 0x20),
    encapRandomness: new Uint8Array(64).fill(0x02),
  },
  {
    description: 'AES-256 key, with aad',
    seed: seedB,
    keyVersion: 7,
    aad: utf8ToBytes('record-17'),
    symmetricKey: counting(32, 0x40),
    encapRandomness: counting(64, 0x00),
  },
  {
    description: '48-byte key (HMAC-SHA-384), no aad',
    seed: seedB,
    keyVersion: 0x01020304,
    aad: new Uint8Array(0),
    symmetricKey: counting(48, 0x80),
    encapRandomness: new Uint8Array(64).fill(0x42),
  },
  {
    description: '64-byte key (HMAC-SHA-512), max key_version, with aad',
    seed: seedA,
    keyVersion: 0xffffffff,
    aad: utf8ToBytes('k'),
    symmetricKey: counting(64, 0xc0),
    encapRandomness: new Uint8Array(64).fill(0xff),
  },
];

export async function generate(): Promise<KeyWrapV2Vector[]> {
  const out: KeyWrapV2Vector[] = [];
  for (const v of inputs) {
    const { publicKey } = xwingKeygen(v.seed);
    const wrapped = await wrapKey({
      kem: 'X-Wing',
      publicKey,
      keyVersion: v.keyVersion,
      symmetricKey: v.symmetricKey,
      aad: v.aad,
      encapRandomness: v.encapRandomness,
    });
    out.push({
      description: v.description,
      kem: 'X-Wing',
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const vectors = await generate();
  const file = new URL('./key-wrap-v2.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify({ format: 'qpher wrapped key v2 (X-Wing)', spec: 'docs/format.md', vectors }, null, 2)}\n`);
  console.log(`wrote ${vectors.length} vectors to ${file.pathname}`);
}
