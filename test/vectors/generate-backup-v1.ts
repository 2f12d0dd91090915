/**
 * Regenerates test/vectors/backup-v1.json, known-answer vectors of the key backup format v1
 * (docs/backup.md). Run: `npx tsx test/vectors/generate-backup-v1.ts`.
 * Inputs are fixed below (seeds, passphrase, KDF parameters, salt and nonce); outputs come from
 * src/crypto/backup.ts. test/crypto/backup.test.ts re-encodes every vector byte for byte, opens
 * it, and also opens it with an independent reading of docs/backup.md, so a change here that is
 * not a deliberate format change shows up as a test failure.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ALGORITHM_TABLE, type Algorithm, type KeyStatus } from '../../src/contract/algorithms.js';
import { encodeBackup, type Argon2idParams, type BackupKey } from '../../src/crypto/backup.js';
import { compositeKeygen } from '../../src/crypto/composite-ml-dsa.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { encodeSpki } from '../../src/crypto/spki.js';
import { xwingKeygen } from '../../src/crypto/xwing.js';
import { bytesToBase64 } from '../../src/encoding.js';

export interface BackupVectorKey {
  algorithm: Algorithm;
  key_version: number;
  status: KeyStatus;
  created_at: string;
  public_key: string; // base64 DER SPKI
  seed: string; // hex
}

export interface BackupVector {
  description: string;
  passphrase: string;
  kdf: Argon2idParams;
  salt: string; // hex, 16 bytes
  nonce: string; // hex, 12 bytes
  keys: BackupVectorKey[];
  backup: string; // base64, what encodeBackup returns
}

/** A key as the engine stores it: public key derived from the seed with the noble provider. */
export function backupKey(algorithm: Algorithm, key_version: number, status: KeyStatus, seed: Uint8Array, created_at: string): BackupKey {
  const raw = {
    Kyber768: () => nobleProvider.mlKem768.keygen(seed).publicKey,
    Dilithium3: () => nobleProvider.mlDsa65.keygen(seed).publicKey,
    'X-Wing': () => xwingKeygen(seed).publicKey,
    'Composite-ML-DSA': () => compositeKeygen(seed, nobleProvider).publicKey,
  }[algorithm]();
  const publicKey = encodeSpki(ALGORITHM_TABLE[algorithm].standard, raw);
  return { algorithm, key_version, status, created_at, public_key: bytesToBase64(publicKey), seed };
}

const pattern = (length: number, start: number, step: number) => Uint8Array.from({ length }, (_, i) => (start + step * i) & 0xff);

const inputs: Array<Omit<BackupVector, 'backup' | 'keys'> & { keys: BackupKey[] }> = [
  {
    description: 'both algorithms, every status, default KDF parameters',
    passphrase: 'correct horse battery staple',
    kdf: { memoryKiB: 47_104, passes: 1, parallelism: 1 },
    salt: bytesToHex(pattern(16, 0x10, 1)),
    nonce: bytesToHex(pattern(12, 0xa0, 1)),
    keys: [
      backupKey('Kyber768', 1, 'archived', pattern(64, 0, 1), '2025-01-02T03:04:05.678Z'),
      backupKey('Kyber768', 2, 'retired', pattern(64, 0x40, 3), '2025-02-03T04:05:06.789Z'),
      backupKey('Kyber768', 3, 'active', pattern(64, 0x80, 5), '2025-03-04T05:06:07.000Z'),
      backupKey('Dilithium3', 7, 'active', pattern(32, 0xff, 255), '2025-04-05T06:07:08.123Z'),
    ],
  },
  {
    description: 'one Dilithium3 key at the largest key_version, non-ASCII passphrase (NFC), two lanes',
    passphrase: 'Grüße aus Köln, café ☕',
    kdf: { memoryKiB: 256, passes: 3, parallelism: 2 },
    salt: bytesToHex(pattern(16, 0xf0, 7)),
    nonce: bytesToHex(pattern(12, 0x00, 0)),
    keys: [backupKey('Dilithium3', 0xffffffff, 'retired', pattern(32, 0x5a, 0), '1999-12-31T23:59:59Z')],
  },
  {
    description: 'no keys (an export of an empty key ring)',
    passphrase: 'p',
    kdf: { memoryKiB: 8, passes: 1, parallelism: 1 },
    salt: bytesToHex(new Uint8Array(16)),
    nonce: bytesToHex(new Uint8Array(12).fill(0xff)),
    keys: [],
  },
  {
    description: 'the hybrids: X-Wing and Composite-ML-DSA beside ML-KEM-768, tiny KDF parameters',
    passphrase: 'hybrid backups',
    kdf: { memoryKiB: 64, passes: 1, parallelism: 1 },
    salt: bytesToHex(pattern(16, 0x21, 2)),
    nonce: bytesToHex(pattern(12, 0x31, 2)),
    keys: [
      backupKey('Kyber768', 1, 'active', pattern(64, 0x11, 1), '2026-01-01T00:00:00.000Z'),
      backupKey('X-Wing', 1, 'retired', pattern(32, 0x22, 1), '2026-01-02T00:00:00.000Z'),
      backupKey('X-Wing', 2, 'active', pattern(32, 0x33, 1), '2026-01-03T00:00:00.000Z'),
      backupKey('Composite-ML-DSA', 4, 'active', pattern(32, 0x44, 1), '2026-01-04T00:00:00.000Z'),
    ],
  },
];

export async function generate(): Promise<BackupVector[]> {
  const out: BackupVector[] = [];
  for (const v of inputs) {
    const backup = await encodeBackup(v.keys, v.passphrase, {
      kdf: v.kdf,
      salt: hexToBytes(v.salt),
      nonce: hexToBytes(v.nonce),
    });
    const keys = v.keys.map(({ seed, ...rest }) => ({ ...rest, seed: bytesToHex(seed) }));
    out.push({ ...v, keys, backup });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const vectors = await generate();
  const file = new URL('./backup-v1.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify({ format: 'qpher key backup v1', spec: 'docs/backup.md', vectors }, null, 2)}\n`);
  console.log(`wrote ${vectors.length} vectors to ${file.pathname}`);
}
