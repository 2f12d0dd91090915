/**
 * What the format and wrapped-key vector generators share: each KEM's seed and encapsulation
 * randomness sizes and its public key from a seed, and writing one JSON file per KEM.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { xwingKeygen } from '../../src/crypto/xwing.js';

export const KEMS = {
  // The 64-byte seed d‖z; the 32-byte m.
  'ML-KEM-768': { seedLength: 64, randomnessLength: 32, publicKey: (seed: Uint8Array) => nobleProvider.mlKem768.keygen(seed).publicKey },
  // The 32-byte private key; the 64-byte eseed.
  'X-Wing': { seedLength: 32, randomnessLength: 64, publicKey: (seed: Uint8Array) => xwingKeygen(seed).publicKey },
} as const;
export type Kem = keyof typeof KEMS;

/** Two seeds of a KEM's length: 00 01 02 .. (for X-Wing, the draft's x509 example key) and a spread of bytes. */
export const seedA = (length: number) => Uint8Array.from({ length }, (_, i) => i);
export const seedB = (length: number) => Uint8Array.from({ length }, (_, i) => (0xa5 + 7 * i) & 0xff);

/** Writes `generate(kem)`'s vectors for every KEM into its file beside this one, under its format name. */
export async function writeVectorFiles(
  files: Record<Kem, { file: string; format: string }>,
  generate: (kem: Kem) => Promise<unknown[]>,
): Promise<void> {
  for (const kem of Object.keys(KEMS) as Kem[]) {
    const vectors = await generate(kem);
    const file = new URL(`./${files[kem].file}`, import.meta.url);
    writeFileSync(file, `${JSON.stringify({ format: files[kem].format, spec: 'docs/format.md', vectors }, null, 2)}\n`);
    console.log(`wrote ${vectors.length} vectors to ${file.pathname}`);
  }
}
