/**
 * Encrypted key-ring backups, format version 1 (docs/backup.md is the full description).
 *
 *   backup  = base64( header(50) ‖ AES-256-GCM(key, nonce, aad = header, payload) ‖ tag(16) )
 *   header  = magic "QPHERBAK" ‖ format_version 0x01 ‖ kdf_id 0x01 (Argon2id v1.3, RFC 9106)
 *             ‖ m (KiB, u32 BE) ‖ t (u32 BE) ‖ p (u32 BE) ‖ salt(16) ‖ nonce(12)
 *   key     = Argon2id(NFC(passphrase), salt, m, t, p, 32 bytes)
 *   payload = count (u32 BE) ‖ entry*      (binary, strictly validated after decryption)
 *   entry   = name_len (u8) ‖ name ‖ key_version (u32 BE) ‖ status (u8) ‖ created_len (u8) ‖ created_at
 *             ‖ public_key (DER SPKI, fixed length per algorithm) ‖ seed (fixed length per algorithm)
 *
 * A backup is the only place a private seed leaves the engine, hence the passphrase. Everything
 * a reader can check without the passphrase (magic, version, KDF id and its parameters, size) is
 * checked first, so a hostile backup cannot make us allocate or compute more than the limits
 * below; everything after that fails with one message, so a wrong passphrase and a damaged byte
 * look the same. The header is the AEAD associated data: changing the KDF parameters, salt or
 * nonce changes the key or fails the tag.
 * @module
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import * as z from 'zod/mini';
import { ALGORITHM_TABLE, ALGORITHMS, KEY_STATUSES, MAX_KEY_VERSION, type Algorithm, type KeyStatus } from '../contract/algorithms.js';
import { base64ToBytes, bytesToBase64 } from '../encoding.js';
import { ValidationError } from '../errors.js';
import { decodeSpki, type PqAlgorithm } from './spki.js';

/** One key version as it travels in a backup: the API's key info plus the raw private seed. */
export interface BackupKey {
  algorithm: Algorithm;
  key_version: number;
  status: KeyStatus;
  /** ISO 8601 UTC, as the API returns it. */
  created_at: string;
  /** base64 DER SubjectPublicKeyInfo, as the API returns it. */
  public_key: string;
  /** The private seed, as the stores keep it (`sizes.seed` of the algorithm table: FIPS 203 d‖z, 64 bytes; FIPS 204 ξ, 32 bytes; the hybrids' 32-byte seeds). */
  seed: Uint8Array;
}

/** Argon2id cost parameters (RFC 9106 §3.1): memory in KiB, passes, lanes. */
export interface Argon2idParams {
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

/**
 * The per-algorithm facts the payload needs: the name on the wire, the DER SPKI it carries and
 * the seed length, all read from the algorithm table (src/contract/algorithms.ts), so every row
 * of it (the hybrids X-Wing and Composite-ML-DSA too) travels in a backup with no change here.
 */
export const BACKUP_KEY_LAYOUTS: Readonly<Record<Algorithm, { spki: PqAlgorithm; publicKeyLength: number; seedLength: number }>> =
  Object.fromEntries(
    ALGORITHMS.map((name) => {
      const facts = ALGORITHM_TABLE[name];
      return [
        name,
        { spki: facts.standard, publicKeyLength: facts.spkiPrefix.length / 2 + facts.sizes.publicKey, seedLength: facts.sizes.seed },
      ];
    }),
  ) as Record<Algorithm, { spki: PqAlgorithm; publicKeyLength: number; seedLength: number }>;

export const BACKUP_MAGIC = Uint8Array.of(0x51, 0x50, 0x48, 0x45, 0x52, 0x42, 0x41, 0x4b); // "QPHERBAK"
export const BACKUP_FORMAT_VERSION = 1;
export const KDF_ARGON2ID = 0x01;
export const BACKUP_HEADER_LENGTH = 50;
const SALT_LENGTH = 16;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const SALT_OFFSET = 22;
const NONCE_OFFSET = SALT_OFFSET + SALT_LENGTH;

/**
 * The default cost: OWASP's Argon2id setting of 46 MiB, one pass, one lane (equivalent to RFC
 * 9106's guidance for memory-constrained settings). Measured in docs/backup.md.
 */
export const DEFAULT_KDF_PARAMS: Readonly<Argon2idParams> = Object.freeze({ memoryKiB: 47_104, passes: 1, parallelism: 1 });

/**
 * What a reader accepts before running the KDF. A backup asking for more is refused at once: at
 * most 256 MiB, 8 passes, 4 lanes, and at most 512 MiB·passes of work in all (about 11 times the
 * default), so a hostile backup costs seconds, not minutes or gigabytes.
 */
export const KDF_LIMITS = Object.freeze({ maxMemoryKiB: 262_144, maxPasses: 8, maxParallelism: 4, maxWorkKiB: 524_288 });

import { MAX_BACKUP_BYTES, MAX_PASSPHRASE_LENGTH } from './backup-limits.js';
export { MAX_BACKUP_BYTES, MAX_PASSPHRASE_LENGTH };

const PREFIX = 'Backup could not be opened: ';
/** The one message for a wrong passphrase and for every byte the AEAD tag covers. */
export const BACKUP_OPEN_FAILED = `${PREFIX}wrong passphrase or damaged backup`;

const STATUS_BYTES: Readonly<Record<KeyStatus, number>> = { active: 0, retired: 1, archived: 2 };
const CreatedAt = z.iso.datetime();

/**
 * Encrypts `keys` under `passphrase` and returns the backup as base64. `kdf` lowers or raises
 * the cost within KDF_LIMITS (tests use a tiny one); `salt` and `nonce` are for known-answer
 * vectors only: a real backup draws both from the CSPRNG.
 */
export async function encodeBackup(
  keys: readonly BackupKey[],
  passphrase: string,
  options: { kdf?: Argon2idParams; salt?: Uint8Array; nonce?: Uint8Array } = {},
): Promise<string> {
  const kdf = options.kdf ?? DEFAULT_KDF_PARAMS;
  if (!kdfWithinLimits(kdf)) throw new RangeError('"kdf" parameters are outside KDF_LIMITS');
  const salt = options.salt ?? globalThis.crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
  const nonce = options.nonce ?? globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  if (!(salt instanceof Uint8Array) || salt.length !== SALT_LENGTH) throw new RangeError(`"salt" must be ${SALT_LENGTH} bytes`);
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) throw new RangeError(`"nonce" must be ${NONCE_LENGTH} bytes`);

  const header = encodeHeader(kdf, salt, nonce);
  const password = passphraseBytes(passphrase);
  let payload: Uint8Array = new Uint8Array(0);
  try {
    payload = encodePayload(keys);
    if (header.length + payload.length + TAG_LENGTH > MAX_BACKUP_BYTES) {
      throw new RangeError(`the backup would exceed MAX_BACKUP_BYTES (${MAX_BACKUP_BYTES} bytes)`);
    }
    const key = await deriveKey(password, salt, kdf, 'encrypt');
    const sealed = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: buffer(nonce), additionalData: buffer(header) },
      key,
      buffer(payload),
    );
    const out = new Uint8Array(header.length + sealed.byteLength);
    out.set(header, 0);
    out.set(new Uint8Array(sealed), header.length);
    return bytesToBase64(out);
  } finally {
    payload.fill(0);
    password.fill(0);
  }
}

/**
 * Opens a backup. Every failure is a ValidationError whose message starts with "Backup could not
 * be opened: "; a wrong passphrase and any change to the encrypted part give BACKUP_OPEN_FAILED.
 * Returns the keys in ALGORITHMS order, ascending by version; the caller owns (and should wipe)
 * the seeds.
 */
export async function decodeBackup(backup: string, passphrase: string): Promise<BackupKey[]> {
  if (typeof backup !== 'string') throw new TypeError('"backup" must be a string');
  const password = passphraseBytes(passphrase);
  try {
    const bytes = backupBytes(backup);
    const header = parseBackupHeader(bytes);
    let payload: Uint8Array;
    try {
      const key = await deriveKey(password, header.salt, header.kdf, 'decrypt');
      const plain = await globalThis.crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: buffer(bytes.slice(NONCE_OFFSET, NONCE_OFFSET + NONCE_LENGTH)),
          additionalData: buffer(bytes.slice(0, BACKUP_HEADER_LENGTH)),
        },
        key,
        buffer(bytes.subarray(BACKUP_HEADER_LENGTH)),
      );
      payload = new Uint8Array(plain);
    } catch {
      throw new ValidationError(BACKUP_OPEN_FAILED);
    }
    try {
      return decodePayload(payload);
    } finally {
      payload.fill(0);
    }
  } finally {
    password.fill(0);
  }
}

/** The public header, readable without the passphrase; throws the same ValidationErrors as decodeBackup. */
export function readBackupHeader(backup: string): { formatVersion: number; kdf: Argon2idParams } {
  const { kdf } = parseBackupHeader(backupBytes(backup));
  return { formatVersion: BACKUP_FORMAT_VERSION, kdf };
}

function backupBytes(backup: string): Uint8Array {
  // Length first, so an oversized string costs a comparison, not a decode.
  if (typeof backup !== 'string') throw new TypeError('"backup" must be a string');
  if (backup.length > Math.ceil(MAX_BACKUP_BYTES / 3) * 4) {
    throw new ValidationError(`${PREFIX}larger than the ${MAX_BACKUP_BYTES / 1024 / 1024} MiB limit`);
  }
  const bytes = base64ToBytes(backup);
  if (bytes === undefined) throw new ValidationError(`${PREFIX}not a Qpher key backup (not base64)`);
  return bytes;
}

function parseBackupHeader(bytes: Uint8Array): { kdf: Argon2idParams; salt: Uint8Array } {
  if (bytes.length < BACKUP_MAGIC.length || BACKUP_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ValidationError(`${PREFIX}not a Qpher key backup`);
  }
  if (bytes.length < BACKUP_MAGIC.length + 1) throw new ValidationError(BACKUP_OPEN_FAILED);
  const version = bytes[8];
  if (version !== BACKUP_FORMAT_VERSION) {
    throw new ValidationError(`${PREFIX}format version ${version} is not supported (this library reads version ${BACKUP_FORMAT_VERSION})`);
  }
  // Shorter than header + an empty payload's count and tag: damaged, not a different format.
  if (bytes.length < BACKUP_HEADER_LENGTH + 4 + TAG_LENGTH) throw new ValidationError(BACKUP_OPEN_FAILED);
  if (bytes[9] !== KDF_ARGON2ID) throw new ValidationError(`${PREFIX}unknown key-derivation function ${bytes[9]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, BACKUP_HEADER_LENGTH);
  const kdf = { memoryKiB: view.getUint32(10, false), passes: view.getUint32(14, false), parallelism: view.getUint32(18, false) };
  if (!kdfWithinLimits(kdf)) {
    throw new ValidationError(
      `${PREFIX}its key-derivation parameters are outside the accepted limits (memory ≤ ${KDF_LIMITS.maxMemoryKiB} KiB, ` +
        `passes ≤ ${KDF_LIMITS.maxPasses}, lanes ≤ ${KDF_LIMITS.maxParallelism}, memory × passes ≤ ${KDF_LIMITS.maxWorkKiB} KiB)`,
    );
  }
  return { kdf, salt: bytes.slice(SALT_OFFSET, SALT_OFFSET + SALT_LENGTH) };
}

function kdfWithinLimits(kdf: Argon2idParams): boolean {
  const { memoryKiB: m, passes: t, parallelism: p } = kdf ?? {};
  const integer = (n: unknown, min: number, max: number) => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
  return (
    integer(p, 1, KDF_LIMITS.maxParallelism) &&
    integer(t, 1, KDF_LIMITS.maxPasses) &&
    integer(m, 8 * p, KDF_LIMITS.maxMemoryKiB) && // RFC 9106 §3.1: m ≥ 8p
    m * t <= KDF_LIMITS.maxWorkKiB
  );
}

function encodeHeader(kdf: Argon2idParams, salt: Uint8Array, nonce: Uint8Array): Uint8Array {
  const header = new Uint8Array(BACKUP_HEADER_LENGTH);
  const view = new DataView(header.buffer);
  header.set(BACKUP_MAGIC, 0);
  header[8] = BACKUP_FORMAT_VERSION;
  header[9] = KDF_ARGON2ID;
  view.setUint32(10, kdf.memoryKiB, false);
  view.setUint32(14, kdf.passes, false);
  view.setUint32(18, kdf.parallelism, false);
  header.set(salt, SALT_OFFSET);
  header.set(nonce, NONCE_OFFSET);
  return header;
}

function passphraseBytes(passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string') throw new TypeError('"passphrase" must be a string');
  if (passphrase.length === 0 || passphrase.length > MAX_PASSPHRASE_LENGTH) {
    throw new RangeError(`"passphrase" must be 1..${MAX_PASSPHRASE_LENGTH} characters`);
  }
  // NFC: the same passphrase typed on two systems may arrive in two Unicode normal forms.
  return new TextEncoder().encode(passphrase.normalize('NFC'));
}

async function deriveKey(password: Uint8Array, salt: Uint8Array, kdf: Argon2idParams, use: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  // The async variant yields every few milliseconds, so a browser Worker or page is never blocked in one long task.
  const raw = await argon2idAsync(password, salt, {
    m: kdf.memoryKiB,
    t: kdf.passes,
    p: kdf.parallelism,
    dkLen: 32,
    maxmem: (KDF_LIMITS.maxMemoryKiB + 1024) * 1024,
  });
  try {
    return await globalThis.crypto.subtle.importKey('raw', buffer(raw), 'AES-GCM', false, [use]);
  } finally {
    raw.fill(0);
  }
}

// ---- payload --------------------------------------------------------------------------------

function encodePayload(keys: readonly BackupKey[]): Uint8Array {
  // (Array.isArray narrows a readonly array to any[], hence the typed copy first.)
  const sorted: BackupKey[] = Array.isArray(keys as unknown) ? [...keys] : [];
  if (sorted.length !== keys.length) throw new TypeError('"keys" must be an array');
  sorted.sort(byAlgorithmAndVersion);
  const problem = payloadProblem(sorted);
  if (problem !== undefined) throw new TypeError(`"keys" ${problem}`);
  const parts: Uint8Array[] = [u32(sorted.length)];
  for (const key of sorted) {
    const name = ascii(key.algorithm);
    const created = ascii(key.created_at);
    const entry = new Uint8Array(1 + name.length + 4 + 1 + 1 + created.length);
    let at = 0;
    entry[at++] = name.length;
    entry.set(name, at);
    at += name.length;
    new DataView(entry.buffer).setUint32(at, key.key_version, false);
    at += 4;
    entry[at++] = STATUS_BYTES[key.status];
    entry[at++] = created.length;
    entry.set(created, at);
    parts.push(entry, base64ToBytes(key.public_key)!, key.seed);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function decodePayload(payload: Uint8Array): BackupKey[] {
  const invalid = (why: string) => new ValidationError(`${PREFIX}invalid contents (${why})`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > payload.length) throw invalid('truncated');
  };
  need(4);
  const count = view.getUint32(0, false);
  at = 4;
  const keys: BackupKey[] = [];
  try {
    for (let i = 0; i < count; i++) {
      need(1);
      const nameLength = payload[at++]!;
      need(nameLength);
      const name = latin1(payload.subarray(at, at + nameLength));
      at += nameLength;
      if (!(ALGORITHMS as readonly string[]).includes(name)) throw invalid(`unknown algorithm ${JSON.stringify(name)}`);
      const algorithm = name as Algorithm;
      const layout = BACKUP_KEY_LAYOUTS[algorithm];
      need(4 + 1 + 1);
      const key_version = view.getUint32(at, false);
      at += 4;
      const status = KEY_STATUSES[payload[at++]!];
      if (status === undefined) throw invalid(`${algorithm} version ${key_version}: unknown status ${payload[at - 1]}`);
      const createdLength = payload[at++]!;
      need(createdLength + layout.publicKeyLength + layout.seedLength);
      const created_at = latin1(payload.subarray(at, at + createdLength));
      at += createdLength;
      const public_key = bytesToBase64(payload.subarray(at, at + layout.publicKeyLength));
      at += layout.publicKeyLength;
      const seed = payload.slice(at, at + layout.seedLength);
      at += layout.seedLength;
      keys.push({ algorithm, key_version, status, created_at, public_key, seed });
    }
    if (at !== payload.length) throw invalid(`${payload.length - at} bytes after the last key`);
    const problem = payloadProblem(keys);
    if (problem !== undefined) throw invalid(problem);
    return keys.sort(byAlgorithmAndVersion);
  } catch (error) {
    for (const key of keys) key.seed.fill(0);
    throw error;
  }
}

/** Why a list of backup keys is not a valid payload, or undefined when it is. */
function payloadProblem(keys: readonly BackupKey[]): string | undefined {
  const seen = new Set<string>();
  const active = new Set<string>();
  for (const key of keys) {
    if (key === null || typeof key !== 'object') return 'must hold key objects';
    const { algorithm, key_version: version } = key;
    if (!Object.hasOwn(BACKUP_KEY_LAYOUTS, algorithm)) return `has an unknown algorithm ${JSON.stringify(algorithm)}`;
    const layout = BACKUP_KEY_LAYOUTS[algorithm];
    const at = `${algorithm} version ${version}`;
    if (!Number.isInteger(version) || version < 1 || version > MAX_KEY_VERSION) return `has an invalid key_version in ${algorithm}`;
    if (!(KEY_STATUSES as readonly unknown[]).includes(key.status)) return `${at}: invalid status`;
    if (typeof key.created_at !== 'string' || key.created_at.length > 64 || !CreatedAt.safeParse(key.created_at).success) {
      return `${at}: created_at is not an ISO 8601 UTC timestamp`;
    }
    const der = typeof key.public_key === 'string' ? base64ToBytes(key.public_key) : undefined;
    if (der?.length !== layout.publicKeyLength || decodeSpki(der)?.algorithm !== layout.spki) {
      return `${at}: public_key is not a ${layout.spki} SubjectPublicKeyInfo`;
    }
    if (!(key.seed instanceof Uint8Array) || key.seed.length !== layout.seedLength) return `${at}: seed must be ${layout.seedLength} bytes`;
    const id = `${algorithm}/${version}`;
    if (seen.has(id)) return `duplicate ${at}`;
    seen.add(id);
    if (key.status === 'active') {
      if (active.has(algorithm)) return `more than one active ${algorithm} key`;
      active.add(algorithm);
    }
  }
  return undefined;
}

function byAlgorithmAndVersion(a: BackupKey, b: BackupKey): number {
  return ALGORITHMS.indexOf(a.algorithm) - ALGORITHMS.indexOf(b.algorithm) || a.key_version - b.key_version;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** Names and timestamps are ASCII (checked by payloadProblem before encoding). */
function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** WebCrypto's types want an ArrayBuffer-backed view; ours always are. */
function buffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}
