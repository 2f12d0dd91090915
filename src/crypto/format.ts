/**
 * Qpher ciphertext format (docs/format.md is the full description). Two header versions, one per
 * KEM, so a ciphertext says which KEM it was sealed with:
 *
 *   v1 (ML-KEM-768): header(6) ‖ enc(1088) ‖ AEAD output (len(plaintext) + 16-byte tag)
 *                    header = 0x01 ‖ mode (0x00 standard, 0x01 deterministic) ‖ key_version (u32 BE)
 *   v2 (X-Wing):     header(8) ‖ enc(1120) ‖ AEAD output
 *                    header = 0x02 ‖ kem_id (u16 BE, the HPKE KEM id, 0x647a) ‖ mode ‖ key_version (u32 BE)
 *
 * ML-KEM-768 keeps version 1 byte for byte (no second encoding of the same ciphertext); version 2
 * names its KEM explicitly so that further KEMs need no new version, only a new kem_id.
 *
 * The body is single-shot HPKE base mode (RFC 9180 §6.1) with that KEM / HKDF-SHA256 /
 * AES-256-GCM (./hpke.ts). The header is the HPKE `info`, so it is bound into the key schedule:
 * changing any header byte changes key and nonce, and the tag check fails. The caller's aad is
 * the HPKE aad. Any HPKE implementation with that suite opens the body given the private key.
 *
 * Deterministic mode fixes the KEM's encapsulation randomness, which makes the whole ciphertext
 * a function of (key, key_version, salt, aad, plaintext). With lp(x) = I2OSP(len(x), 8) ‖ x and
 * msg = lp(salt) ‖ lp(aad) ‖ lp(plaintext):
 *   ML-KEM-768 (m, FIPS 203 Algorithm 17, 32 bytes):
 *     K_det = HKDF-SHA256(ikm = ML-KEM seed d‖z, salt = "", info = "qpher/v1 deterministic-encapsulation", L = 32)
 *     m     = HMAC-SHA256(K_det, msg)
 *   X-Wing (eseed = ML-KEM m ‖ X25519 ephemeral secret, 64 bytes):
 *     K_det = HKDF-SHA256(ikm = X-Wing seed, salt = "", info = "qpher/v2 X-Wing deterministic-encapsulation", L = 32)
 *     eseed = HKDF-SHA256(ikm = msg, salt = K_det, info = "qpher/v2 X-Wing eseed", L = 64)
 * K_det needs the private seed, so someone holding the public key and the salt cannot recompute
 * the randomness for a guessed plaintext and compare ciphertexts. Equal inputs still give equal
 * ciphertexts, which is the point of the mode and also what it leaks.
 *
 * Opening fails one way: bad length, bad header, a header naming another KEM than the key's,
 * wrong key and tampering all throw `Error('decryption failed')`. ML-KEM decapsulation never fails
 * on a well-formed ciphertext (implicit rejection), so the AEAD tag is the only signal anyway.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { factsOfKind, isKeyVersion, type KemFacts } from '../contract/algorithms.js';
import { AEAD_TAG_LENGTH, type HpkeKem, hpkeOpen, hpkeSeal, kemFacts } from './hpke.js';
import type { PrimitiveProvider } from './primitives.js';

/** The format version of ML-KEM-768 ciphertexts. */
export const FORMAT_VERSION = 1;
/** The v1 (ML-KEM-768) header length. */
export const HEADER_LENGTH = 6;
/** Header length per format version: v1 has none of v2's 2-byte kem_id. */
const HEADER_LENGTHS: Readonly<Record<KemFacts['formatVersion'], number>> = { 1: HEADER_LENGTH, 2: 8 };

/** The KEMs a ciphertext can be sealed with: the standard names of the table's KEM rows. */
export type CiphertextKem = HpkeKem;

/** Bytes a ciphertext adds to its plaintext under a KEM row: header + KEM ciphertext + AEAD tag. */
export function formatOverhead(kem: KemFacts): number {
  return HEADER_LENGTHS[kem.formatVersion] + kem.sizes.ciphertext + AEAD_TAG_LENGTH;
}

/** The header length of a KEM row's format version (6 for v1, 8 for v2); wrapped keys share it. */
export function headerLengthOf(kem: KemFacts): number {
  return HEADER_LENGTHS[kem.formatVersion];
}

const KEM_ROWS = factsOfKind('kem');

/** The v1 format's overhead (ML-KEM-768): 1110 bytes. */
export const FORMAT_OVERHEAD = formatOverhead(kemFacts('ML-KEM-768'));

/** Bytes a ciphertext adds to the plaintext, per KEM (1110 ML-KEM-768, 1144 X-Wing). */
export const CIPHERTEXT_OVERHEAD = Object.fromEntries(KEM_ROWS.map((f) => [f.standard, formatOverhead(f)])) as Readonly<
  Record<CiphertextKem, number>
>;

export type CiphertextMode = 'standard' | 'deterministic';

export interface CiphertextHeader {
  formatVersion: number;
  kem: CiphertextKem;
  mode: CiphertextMode;
  keyVersion: number;
}

const MODE_BYTES: Readonly<Record<CiphertextMode, number>> = { standard: 0x00, deterministic: 0x01 };
const DETERMINISTIC_INFO = utf8ToBytes('qpher/v1 deterministic-encapsulation');
const XWING_DETERMINISTIC_INFO = utf8ToBytes('qpher/v2 X-Wing deterministic-encapsulation');
const XWING_ESEED_INFO = utf8ToBytes('qpher/v2 X-Wing eseed');
const EMPTY = new Uint8Array(0);

/** The header for `kem` (default ML-KEM-768: the 6-byte v1 header; X-Wing: the 8-byte v2 header). */
export function encodeHeader(mode: CiphertextMode, keyVersion: number, kem: CiphertextKem = 'ML-KEM-768'): Uint8Array {
  if (mode !== 'standard' && mode !== 'deterministic') {
    throw new TypeError(`"mode" must be 'standard' or 'deterministic'`);
  }
  if (!isKeyVersion(keyVersion)) throw new RangeError('"keyVersion" must be an integer in 1..2^32-1');
  const facts = kemFacts(kem);
  const { formatVersion } = facts;
  const headerLength = HEADER_LENGTHS[formatVersion];
  const header = new Uint8Array(headerLength);
  const view = new DataView(header.buffer);
  header[0] = formatVersion;
  if (formatVersion === 2) view.setUint16(1, facts.hpkeKemId, false);
  header[headerLength - 5] = MODE_BYTES[mode];
  view.setUint32(headerLength - 4, keyVersion, false);
  return header;
}

/**
 * Reads the header (6 bytes for v1, 8 for v2); `undefined` when too short, unknown version,
 * unknown or misplaced KEM (v2 names X-Wing only: ML-KEM-768 is always v1), unknown mode, or
 * key_version 0.
 */
export function parseHeader(bytes: Uint8Array): CiphertextHeader | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) return undefined;
  const facts = kemOfHeader(bytes);
  if (facts === undefined) return undefined;
  const { formatVersion } = facts;
  const headerLength = HEADER_LENGTHS[formatVersion];
  const kem = facts.standard as CiphertextKem;
  if (bytes.length < headerLength) return undefined;
  const modeByte = bytes[headerLength - 5];
  const mode: CiphertextMode | undefined =
    modeByte === MODE_BYTES.standard ? 'standard' : modeByte === MODE_BYTES.deterministic ? 'deterministic' : undefined;
  if (mode === undefined) return undefined;
  const keyVersion = new DataView(bytes.buffer, bytes.byteOffset, headerLength).getUint32(headerLength - 4, false);
  if (keyVersion === 0) return undefined;
  return { formatVersion, kem, mode, keyVersion };
}

/** v1 is ML-KEM-768's alone; v2 names the KEM by its HPKE kem_id (a v2 row of the table). */
function kemOfHeader(bytes: Uint8Array): KemFacts | undefined {
  if (bytes[0] === 1) return KEM_ROWS.find((f) => f.formatVersion === 1);
  if (bytes[0] !== 2 || bytes.length < 3) return undefined;
  const kemId = (bytes[1]! << 8) | bytes[2]!;
  return KEM_ROWS.find((f) => f.formatVersion === 2 && f.hpkeKemId === kemId);
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + bytes.length);
  // I2OSP(len, 8): lengths stay far below 2^53, so two u32 halves are exact.
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(bytes.length / 0x100000000), false);
  view.setUint32(4, bytes.length >>> 0, false);
  out.set(bytes, 8);
  return out;
}

/**
 * The encapsulation randomness for deterministic mode: for ML-KEM-768 (the default) the 32-byte
 * m, from the 64-byte ML-KEM-768 seed d‖z of the key the ciphertext is sealed to; for X-Wing the
 * 64-byte eseed, from the 32-byte X-Wing seed.
 */
export function deriveDeterministicRandomness(
  seed: Uint8Array,
  salt: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  kem: CiphertextKem = 'ML-KEM-768',
): Uint8Array {
  for (const [name, value] of [
    ['seed', seed],
    ['salt', salt],
    ['aad', aad],
    ['plaintext', plaintext],
  ] as const) {
    if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" must be a Uint8Array`);
  }
  const facts = kemFacts(kem);
  if (seed.length !== facts.sizes.seed) {
    throw new RangeError(`"seed" must be ${facts.sizes.seed} bytes for ${kem}, got ${seed.length}`);
  }
  // v1 keeps its original derivation (HMAC, 32 bytes) byte for byte; v2 expands to the row's size.
  const v1 = facts.formatVersion === 1;
  const kDet = hkdf(sha256, seed, EMPTY, v1 ? DETERMINISTIC_INFO : XWING_DETERMINISTIC_INFO, 32);
  const message = concatBytes(lengthPrefixed(salt), lengthPrefixed(aad), lengthPrefixed(plaintext));
  const m = v1 ? hmac(sha256, kDet, message) : hkdf(sha256, message, kDet, XWING_ESEED_INFO, facts.sizes.encapRandomness);
  kDet.fill(0);
  message.fill(0);
  return m;
}

/**
 * Seals `plaintext` to a public key: the raw 1184-byte ML-KEM-768 encapsulation key (the default
 * `kem`, a v1 ciphertext) or the raw 1216-byte X-Wing public key (`kem: 'X-Wing'`, a v2
 * ciphertext). Deterministic mode requires `encapRandomness` from `deriveDeterministicRandomness`
 * with the same `kem`; standard mode draws it from the CSPRNG unless given (fixed randomness is
 * for known-answer tests only).
 */
export async function sealCiphertext(args: {
  kem?: CiphertextKem;
  publicKey: Uint8Array;
  keyVersion: number;
  plaintext: Uint8Array;
  aad?: Uint8Array;
  mode?: CiphertextMode;
  encapRandomness?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { kem = 'ML-KEM-768', publicKey, keyVersion, plaintext, aad = EMPTY, mode = 'standard', encapRandomness, provider } = args;
  kemFacts(kem);
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('"plaintext" must be a Uint8Array');
  if (!(aad instanceof Uint8Array)) throw new TypeError('"aad" must be a Uint8Array');
  if (mode === 'deterministic' && encapRandomness === undefined) {
    // Without it the ciphertext would be labelled deterministic but be random.
    throw new TypeError('"encapRandomness" is required in deterministic mode (see deriveDeterministicRandomness)');
  }
  const header = encodeHeader(mode, keyVersion, kem);
  const { enc, ciphertext } = await hpkeSeal({
    kem,
    publicKey,
    info: header,
    aad,
    plaintext,
    encapRandomness,
    provider,
  });
  return concatBytes(header, enc, ciphertext);
}

/**
 * Opens a ciphertext sealed with `kem` (default ML-KEM-768). `secretKey` is, for ML-KEM-768, the
 * 64-byte seed or the expanded 2400-byte decapsulation key; for X-Wing the 32-byte seed. Every
 * failure about the ciphertext, including a header that names another KEM, is
 * `Error('decryption failed')`. The key_version in the header is not compared with anything
 * here: that is the caller's job.
 */
export async function openCiphertext(args: {
  kem?: CiphertextKem;
  secretKey: Uint8Array;
  ciphertext: Uint8Array;
  aad?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { kem = 'ML-KEM-768', secretKey, ciphertext, aad = EMPTY, provider } = args;
  const facts = kemFacts(kem);
  if (!(aad instanceof Uint8Array)) throw new TypeError('"aad" must be a Uint8Array');
  if (!(secretKey instanceof Uint8Array)) throw new TypeError('"secretKey" must be a Uint8Array');
  const { seed, secretKey: expanded } = facts.sizes;
  if (secretKey.length !== seed && secretKey.length !== expanded) {
    throw new RangeError(
      seed === expanded
        ? `"secretKey" must be the ${seed}-byte ${kem} seed`
        : `"secretKey" must be the ${seed}-byte ${kem} seed or the ${expanded}-byte decapsulation key`,
    );
  }
  const headerLength = HEADER_LENGTHS[facts.formatVersion];
  try {
    if (!(ciphertext instanceof Uint8Array) || ciphertext.length < formatOverhead(facts)) throw new Error();
    const header = parseHeader(ciphertext);
    if (header === undefined || header.kem !== kem) throw new Error();
    const encEnd = headerLength + facts.sizes.ciphertext;
    return await hpkeOpen({
      kem,
      secretKey,
      enc: ciphertext.subarray(headerLength, encEnd),
      info: ciphertext.subarray(0, headerLength),
      aad,
      ciphertext: ciphertext.subarray(encEnd),
      provider,
    });
  } catch {
    // jose's JWEDecryptionFailed pattern: never say which step failed.
    throw new Error('decryption failed');
  }
}
