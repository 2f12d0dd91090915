/**
 * Key backup format v1 (src/crypto/backup.ts, docs/backup.md): round trip, one error for a wrong
 * passphrase and for every damaged byte, limits checked before any work, strict payload
 * validation, and the known-answer vectors in test/vectors/backup-v1.json, re-encoded byte for
 * byte and also opened by an independent reading of the documented layout (sealByHand/openByHand).
 * @module
 */
import { readFileSync } from 'node:fs';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  BACKUP_HEADER_LENGTH,
  BACKUP_KEY_LAYOUTS,
  BACKUP_OPEN_FAILED,
  DEFAULT_KDF_PARAMS,
  KDF_LIMITS,
  MAX_BACKUP_BYTES,
  decodeBackup,
  encodeBackup,
  readBackupHeader,
  type Argon2idParams,
  type BackupKey,
} from '../../src/crypto/backup.js';
import { ML_DSA_65, ML_KEM_768 } from '../../src/crypto/primitives.js';
import { base64ToBytes, bytesToBase64 } from '../../src/encoding.js';
import { ValidationError } from '../../src/errors.js';
import { backupKey, type BackupVector } from '../vectors/generate-backup-v1.js';

const FAST: Argon2idParams = { memoryKiB: 8, passes: 1, parallelism: 1 };
const PASS = 'a good passphrase';
const PREFIX = 'Backup could not be opened: ';

const seed = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const kyber1 = backupKey('Kyber768', 1, 'retired', seed(64, 1), '2025-01-01T00:00:00.000Z');
const kyber2 = backupKey('Kyber768', 2, 'active', seed(64, 2), '2025-01-02T00:00:00.000Z');
const dilithium5 = backupKey('Dilithium3', 5, 'archived', seed(32, 5), '2025-01-05T00:00:00Z');

/** A copy, since decodeBackup's caller owns (and may wipe) the seeds it returns. */
const clone = (keys: readonly BackupKey[]) => keys.map((k) => ({ ...k, seed: k.seed.slice() }));

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

// ---- an independent reading of docs/backup.md ----------------------------------------------

function header(kdf: Argon2idParams, salt: Uint8Array, nonce: Uint8Array, version = 1, kdfId = 1): Uint8Array<ArrayBuffer> {
  const h = new Uint8Array(50);
  const view = new DataView(h.buffer);
  h.set(utf8ToBytes('QPHERBAK'), 0);
  h[8] = version;
  h[9] = kdfId;
  view.setUint32(10, kdf.memoryKiB);
  view.setUint32(14, kdf.passes);
  view.setUint32(18, kdf.parallelism);
  h.set(salt, 22);
  h.set(nonce, 38);
  return h;
}

async function aesKey(passphrase: string, salt: Uint8Array, kdf: Argon2idParams) {
  const raw = await argon2idAsync(utf8ToBytes(passphrase.normalize('NFC')), salt, {
    m: kdf.memoryKiB,
    t: kdf.passes,
    p: kdf.parallelism,
    dkLen: 32,
  });
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** Encrypts arbitrary payload bytes as a v1 backup, for payloads encodeBackup would refuse to write. */
async function sealByHand(payload: Uint8Array, passphrase = PASS, kdf = FAST): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const h = header(kdf, salt, nonce);
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: h },
    await aesKey(passphrase, salt, kdf),
    payload as Uint8Array<ArrayBuffer>,
  );
  return bytesToBase64(concatBytes(h, new Uint8Array(sealed)));
}

async function openByHand(backup: string, passphrase: string): Promise<Uint8Array> {
  const bytes = base64ToBytes(backup)!;
  const view = new DataView(bytes.buffer);
  const kdf = { memoryKiB: view.getUint32(10), passes: view.getUint32(14), parallelism: view.getUint32(18) };
  const key = await aesKey(passphrase, bytes.slice(22, 38), kdf);
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.slice(38, 50), additionalData: bytes.slice(0, 50) },
    key,
    bytes.slice(50),
  );
  return new Uint8Array(plain);
}

interface RawEntry {
  name: string;
  version: number;
  status: number;
  createdAt: string;
  publicKey: Uint8Array;
  seed: Uint8Array;
}

function entry(e: RawEntry): Uint8Array {
  const fixed = new Uint8Array(5);
  new DataView(fixed.buffer).setUint32(0, e.version);
  fixed[4] = e.status;
  const name = utf8ToBytes(e.name);
  const created = utf8ToBytes(e.createdAt);
  return concatBytes(Uint8Array.of(name.length), name, fixed, Uint8Array.of(created.length), created, e.publicKey, e.seed);
}

function payload(entries: RawEntry[], count = entries.length): Uint8Array {
  const n = new Uint8Array(4);
  new DataView(n.buffer).setUint32(0, count);
  return concatBytes(n, ...entries.map(entry));
}

function raw(key: BackupKey): RawEntry {
  const status = { active: 0, retired: 1, archived: 2 }[key.status];
  return {
    name: key.algorithm,
    version: key.key_version,
    status,
    createdAt: key.created_at,
    publicKey: base64ToBytes(key.public_key)!,
    seed: key.seed,
  };
}

function parseByHand(bytes: Uint8Array): RawEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const out: RawEntry[] = [];
  let at = 4;
  for (let i = 0; i < view.getUint32(0); i++) {
    const name = new TextDecoder().decode(bytes.subarray(at + 1, at + 1 + bytes[at]!));
    at += 1 + name.length;
    const version = view.getUint32(at);
    const status = bytes[at + 4]!;
    const createdAt = new TextDecoder().decode(bytes.subarray(at + 6, at + 6 + bytes[at + 5]!));
    at += 6 + createdAt.length;
    const { publicKeyLength, seedLength } = BACKUP_KEY_LAYOUTS[name as 'Kyber768'];
    const publicKey = bytes.slice(at, at + publicKeyLength);
    const seedBytes = bytes.slice(at + publicKeyLength, at + publicKeyLength + seedLength);
    at += publicKeyLength + seedLength;
    out.push({ name, version, status, createdAt, publicKey, seed: seedBytes });
  }
  expect(at).toBe(bytes.length);
  return out;
}

// ---- tests -----------------------------------------------------------------------------------

describe('round trip', () => {
  it('restores every field of every key, in algorithm then version order', async () => {
    const keys = [dilithium5, kyber2, kyber1];
    const backup = await encodeBackup(clone(keys), PASS, { kdf: FAST });
    const opened = await decodeBackup(backup, PASS);
    expect(opened).toEqual([kyber1, kyber2, dilithium5]);
    expect(readBackupHeader(backup)).toEqual({ formatVersion: 1, kdf: FAST });
  });

  it('is fresh each time (random salt and nonce) and opens with the passphrase in another normal form', async () => {
    const nfd = 'cafe\u0301 au lait';
    const a = await encodeBackup(clone([kyber1]), nfd, { kdf: FAST });
    const b = await encodeBackup(clone([kyber1]), nfd, { kdf: FAST });
    expect(a).not.toBe(b);
    expect(await decodeBackup(a, 'caf\u00e9 au lait')).toEqual([kyber1]);
  });

  it('uses the default KDF parameters unless told otherwise, and they pass the limits', async () => {
    expect(DEFAULT_KDF_PARAMS).toEqual({ memoryKiB: 47_104, passes: 1, parallelism: 1 });
    const backup = await encodeBackup([], PASS);
    expect(readBackupHeader(backup).kdf).toEqual(DEFAULT_KDF_PARAMS);
    expect(await decodeBackup(backup, PASS)).toEqual([]);
  });

  it('holds the SPKI and seed lengths the algorithms define', () => {
    expect(BACKUP_KEY_LAYOUTS.Kyber768).toEqual({ spki: 'ML-KEM-768', publicKeyLength: 1206, seedLength: ML_KEM_768.seedLength });
    expect(BACKUP_KEY_LAYOUTS.Dilithium3).toEqual({ spki: 'ML-DSA-65', publicKeyLength: 1974, seedLength: ML_DSA_65.seedLength });
    expect(base64ToBytes(kyber1.public_key)!.length).toBe(1206);
    expect(base64ToBytes(dilithium5.public_key)!.length).toBe(1974);
    // The hybrids: DER prefix (24 and 21 bytes) + raw key (1216 and 2017 bytes), 32-byte seeds.
    expect(BACKUP_KEY_LAYOUTS['X-Wing']).toEqual({ spki: 'X-Wing', publicKeyLength: 1240, seedLength: 32 });
    expect(BACKUP_KEY_LAYOUTS['Composite-ML-DSA']).toEqual({ spki: 'MLDSA65-ECDSA-P256-SHA512', publicKeyLength: 2038, seedLength: 32 });
  });

  it('carries the hybrids: X-Wing and Composite-ML-DSA keys come back exactly', async () => {
    const xwing = backupKey('X-Wing', 3, 'active', seed(32, 9), '2026-01-01T00:00:00.000Z');
    const composite = backupKey('Composite-ML-DSA', 1, 'retired', seed(32, 10), '2026-01-02T00:00:00.000Z');
    const backup = await encodeBackup(clone([composite, xwing, kyber1]), PASS, { kdf: FAST });
    expect(await decodeBackup(backup, PASS)).toEqual([kyber1, xwing, composite]);
    expect(base64ToBytes(xwing.public_key)!.length).toBe(1240);
    expect(base64ToBytes(composite.public_key)!.length).toBe(2038);
  });
});

describe('one error for a wrong passphrase and any damage', () => {
  it('a wrong passphrase gives BACKUP_OPEN_FAILED', async () => {
    const backup = await encodeBackup(clone([kyber1]), PASS, { kdf: FAST });
    expect((await rejection(decodeBackup(backup, 'a good passphrasE'))).message).toBe(BACKUP_OPEN_FAILED);
    expect(BACKUP_OPEN_FAILED).toBe('Backup could not be opened: wrong passphrase or damaged backup');
  });

  it('every single-byte change is refused; from the salt on, always with BACKUP_OPEN_FAILED', async () => {
    const bytes = base64ToBytes(await encodeBackup(clone([kyber1]), PASS, { kdf: FAST }))!;
    expect(bytes.length).toBe(50 + 4 + (1 + 8 + 4 + 1 + 1 + 24) + 1206 + 64 + 16);
    const messages = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i]! ^= i % 2 ? 0x01 : 0x80;
      const error = await rejection(decodeBackup(bytesToBase64(damaged), PASS));
      expect(error.message.startsWith(PREFIX)).toBe(true);
      if (i >= 22) expect(error.message, `byte ${i}`).toBe(BACKUP_OPEN_FAILED);
      messages.add(error.message);
    }
    // Header bytes say what is wrong with the public part; nothing names a step past the KDF.
    expect([...messages].every((m) => !/tag|aes|gcm|decrypt|payload|contents/i.test(m))).toBe(true);
  });

  it('truncation anywhere is refused', async () => {
    const backup = await encodeBackup(clone([kyber1]), PASS, { kdf: FAST });
    const bytes = base64ToBytes(backup)!;
    for (const length of [bytes.length - 1, bytes.length - 16, 70, 69, 50, 9, 8]) {
      expect((await rejection(decodeBackup(bytesToBase64(bytes.subarray(0, length)), PASS))).message).toBe(BACKUP_OPEN_FAILED);
    }
    for (const length of [7, 3, 0]) {
      expect((await rejection(decodeBackup(bytesToBase64(bytes.subarray(0, length)), PASS))).message).toBe(
        `${PREFIX}not a Qpher key backup`,
      );
    }
    expect((await rejection(decodeBackup(backup.slice(0, -1), PASS))).message).toBe(`${PREFIX}not a Qpher key backup (not base64)`);
    expect((await rejection(decodeBackup(` ${backup}`, PASS))).message).toBe(`${PREFIX}not a Qpher key backup (not base64)`);
  });

  it('an extra byte at the end is refused', async () => {
    const bytes = base64ToBytes(await encodeBackup([], PASS, { kdf: FAST }))!;
    expect((await rejection(decodeBackup(bytesToBase64(concatBytes(bytes, Uint8Array.of(0))), PASS))).message).toBe(BACKUP_OPEN_FAILED);
  });
});

describe('header checks before any work', () => {
  const salt = new Uint8Array(16);
  const nonce = new Uint8Array(12);
  const body = new Uint8Array(20);
  const withHeader = (h: Uint8Array) => bytesToBase64(concatBytes(h, body));

  it('refuses another magic, format version or KDF id, saying which', async () => {
    const magic = header(FAST, salt, nonce);
    magic[0] = 0x52;
    expect((await rejection(decodeBackup(withHeader(magic), PASS))).message).toBe(`${PREFIX}not a Qpher key backup`);
    expect((await rejection(decodeBackup(withHeader(header(FAST, salt, nonce, 2)), PASS))).message).toBe(
      `${PREFIX}format version 2 is not supported (this library reads version 1)`,
    );
    expect((await rejection(decodeBackup(withHeader(header(FAST, salt, nonce, 0)), PASS))).message).toContain('format version 0');
    expect((await rejection(decodeBackup(withHeader(header(FAST, salt, nonce, 1, 2)), PASS))).message).toBe(
      `${PREFIX}unknown key-derivation function 2`,
    );
  });

  it('refuses hostile KDF parameters at once, without deriving anything', async () => {
    const hostile: Argon2idParams[] = [
      { memoryKiB: 0xffffffff, passes: 1, parallelism: 1 }, // 4 TiB
      { memoryKiB: KDF_LIMITS.maxMemoryKiB + 1, passes: 1, parallelism: 1 },
      { memoryKiB: 65_536, passes: 0xffffffff, parallelism: 1 }, // minutes of work
      { memoryKiB: 65_536, passes: KDF_LIMITS.maxPasses + 1, parallelism: 1 },
      { memoryKiB: KDF_LIMITS.maxMemoryKiB, passes: 3, parallelism: 1 }, // each within bounds, work too big
      { memoryKiB: 65_536, passes: 1, parallelism: 0xffffffff },
      { memoryKiB: 65_536, passes: 1, parallelism: 0 },
      { memoryKiB: 65_536, passes: 0, parallelism: 1 },
      { memoryKiB: 7, passes: 1, parallelism: 1 }, // below Argon2's 8p minimum
      { memoryKiB: 15, passes: 1, parallelism: 2 },
    ];
    for (const kdf of hostile) {
      const started = performance.now();
      const error = await rejection(decodeBackup(withHeader(header(kdf, salt, nonce)), PASS));
      // Deriving with the large ones would take seconds (or all memory); a generous bound, so a
      // garbage-collection pause on a loaded machine is not mistaken for work.
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error.message).toMatch(/^Backup could not be opened: its key-derivation parameters are outside the accepted limits/);
    }
    await expect(encodeBackup([], PASS, { kdf: { memoryKiB: KDF_LIMITS.maxMemoryKiB * 2, passes: 1, parallelism: 1 } })).rejects.toThrow(
      RangeError,
    );
  });

  it('refuses an oversized backup before decoding it', async () => {
    const huge = 'A'.repeat(Math.ceil(MAX_BACKUP_BYTES / 3) * 4 + 4);
    const started = performance.now();
    expect((await rejection(decodeBackup(huge, PASS))).message).toBe(`${PREFIX}larger than the 4 MiB limit`);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('checks argument types as programming errors', async () => {
    await expect(decodeBackup(42 as unknown as string, PASS)).rejects.toThrow(TypeError);
    await expect(decodeBackup('', undefined as unknown as string)).rejects.toThrow(TypeError);
    await expect(decodeBackup('', '')).rejects.toThrow(RangeError);
    await expect(encodeBackup([], 'x'.repeat(1025), { kdf: FAST })).rejects.toThrow(RangeError);
  });
});

describe('payload validation (authentic but malformed contents)', () => {
  const ok = raw(kyber1);
  const cases: Array<[string, Uint8Array, string]> = [
    ['duplicate versions', payload([ok, { ...ok, status: 2 }]), 'duplicate Kyber768 version 1'],
    [
      'two active keys',
      payload([
        { ...ok, status: 0 },
        { ...raw(kyber2), status: 0 },
      ]),
      'more than one active Kyber768 key',
    ],
    ['unknown algorithm', payload([{ ...ok, name: 'RSA-2048' }]), 'unknown algorithm "RSA-2048"'],
    ['unknown status', payload([{ ...ok, status: 3 }]), 'Kyber768 version 1: unknown status 3'],
    ['key_version 0', payload([{ ...ok, version: 0 }]), 'has an invalid key_version in Kyber768'],
    [
      'bad created_at',
      payload([{ ...ok, createdAt: '2025-01-01 00:00:00' }]),
      'Kyber768 version 1: created_at is not an ISO 8601 UTC timestamp',
    ],
    [
      'a Dilithium3 SPKI under Kyber768',
      payload([{ ...ok, publicKey: base64ToBytes(dilithium5.public_key)!.subarray(0, 1206) }]),
      'public_key is not a ML-KEM-768',
    ],
    ['a short seed (the next field is missing)', payload([{ ...ok, seed: ok.seed.subarray(0, 63) }]), 'truncated'],
    ['a long seed (bytes left over)', payload([{ ...ok, seed: concatBytes(ok.seed, Uint8Array.of(9)) }]), '1 bytes after the last key'],
    ['a count larger than the entries', payload([ok], 2), 'truncated'],
    ['a count of 2^32-1', payload([ok], 0xffffffff), 'truncated'],
    ['a count smaller than the entries', payload([ok, raw(kyber2)], 1), 'bytes after the last key'],
  ];
  for (const [name, bytes, why] of cases) {
    it(`refuses ${name}`, async () => {
      const error = await rejection(decodeBackup(await sealByHand(bytes), PASS));
      expect(error.message.startsWith(`${PREFIX}invalid contents (`)).toBe(true);
      expect(error.message).toContain(why);
    });
  }

  it('accepts what the hand encoder writes for valid keys (the two readings agree)', async () => {
    expect(await decodeBackup(await sealByHand(payload([raw(dilithium5), raw(kyber1)])), PASS)).toEqual([kyber1, dilithium5]);
  });

  it('encodeBackup refuses keys that would not decode', async () => {
    const bad: Array<[string, BackupKey[]]> = [
      ['duplicate', [kyber1, { ...kyber1, status: 'archived' }]],
      ['two active', [kyber2, { ...kyber1, status: 'active' }]],
      ['seed length', [{ ...kyber1, seed: new Uint8Array(32) }]],
      ['spki of the other algorithm', [{ ...kyber1, public_key: dilithium5.public_key }]],
      ['status', [{ ...kyber1, status: 'revoked' as 'active' }]],
      ['algorithm', [{ ...kyber1, algorithm: 'RSA' as 'Kyber768' }]],
      ['version', [{ ...kyber1, key_version: 2 ** 32 }]],
      ['created_at', [{ ...kyber1, created_at: 'yesterday' }]],
    ];
    for (const [, keys] of bad) await expect(encodeBackup(keys, PASS, { kdf: FAST })).rejects.toThrow(TypeError);
  });
});

describe('known-answer vectors (test/vectors/backup-v1.json)', () => {
  const file = JSON.parse(readFileSync(new URL('../vectors/backup-v1.json', import.meta.url), 'utf8')) as {
    vectors: BackupVector[];
  };
  const toKeys = (v: BackupVector): BackupKey[] => v.keys.map(({ seed: hex, ...rest }) => ({ ...rest, seed: hexToBytes(hex) }));

  it('has the vectors the generator writes', () => {
    expect(file.vectors.map((v) => v.description)).toHaveLength(4);
    expect(file.vectors[3]!.keys.map((k) => k.algorithm)).toEqual(['Kyber768', 'X-Wing', 'X-Wing', 'Composite-ML-DSA']);
  });

  for (const [i, v] of file.vectors.entries()) {
    it(`vector ${i}: re-encodes byte for byte and opens to its keys`, { timeout: 60_000 }, async () => {
      const again = await encodeBackup(toKeys(v), v.passphrase, { kdf: v.kdf, salt: hexToBytes(v.salt), nonce: hexToBytes(v.nonce) });
      expect(again).toBe(v.backup);
      expect(await decodeBackup(v.backup, v.passphrase)).toEqual(toKeys(v));
      expect(readBackupHeader(v.backup).kdf).toEqual(v.kdf);

      // The independent reading: header fields at the documented offsets, payload entries in order.
      const bytes = base64ToBytes(v.backup)!;
      expect(bytesToHex(bytes.subarray(0, 10))).toBe('515048455242414b0101'); // "QPHERBAK", version 1, Argon2id
      expect(bytesToHex(bytes.subarray(22, 38))).toBe(v.salt);
      expect(bytesToHex(bytes.subarray(38, BACKUP_HEADER_LENGTH))).toBe(v.nonce);
      const entries = parseByHand(await openByHand(v.backup, v.passphrase));
      expect(entries.map((e) => [e.name, e.version, e.status, e.createdAt, bytesToBase64(e.publicKey), bytesToHex(e.seed)])).toEqual(
        v.keys.map((k) => [
          k.algorithm,
          k.key_version,
          { active: 0, retired: 1, archived: 2 }[k.status],
          k.created_at,
          k.public_key,
          k.seed,
        ]),
      );
    });
  }

  it('matches the generator (the JSON is not stale)', { timeout: 60_000 }, async () => {
    const { generate } = await import('../vectors/generate-backup-v1.js');
    expect(await generate()).toEqual(file.vectors);
  });
});
