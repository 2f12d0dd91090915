/**
 * Qpher ciphertext format, version 1 (docs/format.md is the full description).
 *
 *   ciphertext = header(6) ‖ enc (the KEM ciphertext) ‖ AEAD output (len(plaintext) + 16-byte tag)
 *   header     = 0x01 (format version) ‖ mode (0x00 standard, 0x01 deterministic) ‖ key_version (u32 BE)
 *
 * The body is single-shot HPKE base mode (RFC 9180 §6.1) with ML-KEM-768 / HKDF-SHA256 /
 * AES-256-GCM (./hpke.ts). The header is the HPKE `info`, so it is bound into the key schedule:
 * changing any header byte changes key and nonce, and the tag check fails. The caller's aad is
 * the HPKE aad. Any HPKE implementation with that suite opens the body given the private key.
 *
 * Deterministic mode fixes the ML-KEM encapsulation randomness m (FIPS 203 Algorithm 17), which
 * makes the whole ciphertext a function of (key, key_version, salt, aad, plaintext):
 *   K_det = HKDF-SHA256(ikm = ML-KEM seed d‖z, salt = "", info = "qpher/v1 deterministic-encapsulation", L = 32)
 *   m     = HMAC-SHA256(K_det, lp(salt) ‖ lp(aad) ‖ lp(plaintext)),  lp(x) = I2OSP(len(x), 8) ‖ x
 * K_det needs the private seed, so someone holding the public key and the salt cannot recompute
 * m for a guessed plaintext and compare ciphertexts. Equal inputs still give equal ciphertexts,
 * which is the point of the mode and also what it leaks.
 *
 * Opening fails one way: bad length, bad header, wrong key and tampering all
 * throw `Error('decryption failed')`. ML-KEM decapsulation never fails on a well-formed
 * ciphertext (implicit rejection), so the AEAD tag is the only signal anyway.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ALGORITHM_TABLE, isKeyVersion, type KemFacts } from '../contract/algorithms.js';
import { AEAD_TAG_LENGTH, hpkeOpen, hpkeSeal } from './hpke.js';
import type { PrimitiveProvider } from './primitives.js';

export const FORMAT_VERSION = 1;
export const HEADER_LENGTH = 6;
const KEM: KemFacts = ALGORITHM_TABLE.Kyber768;

/** Bytes a ciphertext adds to its plaintext under a KEM: header + KEM ciphertext + AEAD tag. */
export function formatOverhead(kem: KemFacts): number {
  return HEADER_LENGTH + kem.sizes.ciphertext + AEAD_TAG_LENGTH;
}
/** The v1 format's overhead (ML-KEM-768): 1110 bytes. */
export const FORMAT_OVERHEAD = formatOverhead(KEM);

export type CiphertextMode = 'standard' | 'deterministic';

export interface CiphertextHeader {
  formatVersion: number;
  mode: CiphertextMode;
  keyVersion: number;
}

const MODE_BYTES: Readonly<Record<CiphertextMode, number>> = { standard: 0x00, deterministic: 0x01 };
const DETERMINISTIC_INFO = utf8ToBytes('qpher/v1 deterministic-encapsulation');
const EMPTY = new Uint8Array(0);

export function encodeHeader(mode: CiphertextMode, keyVersion: number): Uint8Array {
  if (mode !== 'standard' && mode !== 'deterministic') {
    throw new TypeError(`"mode" must be 'standard' or 'deterministic'`);
  }
  if (!isKeyVersion(keyVersion)) throw new RangeError('"keyVersion" must be an integer in 1..2^32-1');
  const header = new Uint8Array(HEADER_LENGTH);
  header[0] = FORMAT_VERSION;
  header[1] = MODE_BYTES[mode];
  new DataView(header.buffer).setUint32(2, keyVersion, false);
  return header;
}

/** Reads the first 6 bytes; `undefined` when too short, unknown version or mode, or key_version 0. */
export function parseHeader(bytes: Uint8Array): CiphertextHeader | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_LENGTH) return undefined;
  if (bytes[0] !== FORMAT_VERSION) return undefined;
  const mode: CiphertextMode | undefined =
    bytes[1] === MODE_BYTES.standard ? 'standard' : bytes[1] === MODE_BYTES.deterministic ? 'deterministic' : undefined;
  if (mode === undefined) return undefined;
  const keyVersion = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LENGTH).getUint32(2, false);
  if (keyVersion === 0) return undefined;
  return { formatVersion: FORMAT_VERSION, mode, keyVersion };
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
 * The 32-byte ML-KEM encapsulation randomness m for deterministic mode. `seed` is the
 * ML-KEM-768 seed d‖z of the key the ciphertext is sealed to.
 */
export function deriveDeterministicRandomness(seed: Uint8Array, salt: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  for (const [name, value] of [
    ['seed', seed],
    ['salt', salt],
    ['aad', aad],
    ['plaintext', plaintext],
  ] as const) {
    if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" must be a Uint8Array`);
  }
  if (seed.length !== KEM.sizes.seed) {
    throw new RangeError(`"seed" must be ${KEM.sizes.seed} bytes, got ${seed.length}`);
  }
  const kDet = hkdf(sha256, seed, EMPTY, DETERMINISTIC_INFO, 32);
  const message = concatBytes(lengthPrefixed(salt), lengthPrefixed(aad), lengthPrefixed(plaintext));
  const m = hmac(sha256, kDet, message);
  kDet.fill(0);
  message.fill(0);
  return m;
}

/**
 * Seals `plaintext` to an ML-KEM-768 public key (the raw encapsulation key). Deterministic
 * mode requires `encapRandomness` from `deriveDeterministicRandomness`; standard mode draws it
 * from the CSPRNG unless given (fixed randomness is for known-answer tests only).
 */
export async function sealCiphertext(args: {
  publicKey: Uint8Array;
  keyVersion: number;
  plaintext: Uint8Array;
  aad?: Uint8Array;
  mode?: CiphertextMode;
  encapRandomness?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { publicKey, keyVersion, plaintext, aad = EMPTY, mode = 'standard', encapRandomness, provider } = args;
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('"plaintext" must be a Uint8Array');
  if (!(aad instanceof Uint8Array)) throw new TypeError('"aad" must be a Uint8Array');
  if (mode === 'deterministic' && encapRandomness === undefined) {
    // Without it the ciphertext would be labelled deterministic but be random.
    throw new TypeError('"encapRandomness" is required in deterministic mode (see deriveDeterministicRandomness)');
  }
  const header = encodeHeader(mode, keyVersion);
  const { enc, ciphertext } = await hpkeSeal({
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
 * Opens a v1 ciphertext. `secretKey` is the ML-KEM seed or the expanded decapsulation key
 * (`sizes.seed` / `sizes.secretKey` of the table). Every failure about the ciphertext is `Error('decryption failed')`.
 * The key_version in the header is not compared with anything here: that is the caller's job.
 */
export async function openCiphertext(args: {
  secretKey: Uint8Array;
  ciphertext: Uint8Array;
  aad?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { secretKey, ciphertext, aad = EMPTY, provider } = args;
  if (!(aad instanceof Uint8Array)) throw new TypeError('"aad" must be a Uint8Array');
  if (!(secretKey instanceof Uint8Array)) throw new TypeError('"secretKey" must be a Uint8Array');
  if (secretKey.length !== KEM.sizes.seed && secretKey.length !== KEM.sizes.secretKey) {
    throw new RangeError(
      `"secretKey" must be the ${KEM.sizes.seed}-byte ${KEM.standard} seed or the ${KEM.sizes.secretKey}-byte decapsulation key`,
    );
  }
  try {
    if (!(ciphertext instanceof Uint8Array) || ciphertext.length < FORMAT_OVERHEAD) throw new Error();
    const header = parseHeader(ciphertext);
    if (header === undefined) throw new Error();
    const encEnd = HEADER_LENGTH + KEM.sizes.ciphertext;
    return await hpkeOpen({
      secretKey,
      enc: ciphertext.subarray(HEADER_LENGTH, encEnd),
      info: ciphertext.subarray(0, HEADER_LENGTH),
      aad,
      ciphertext: ciphertext.subarray(encEnd),
      provider,
    });
  } catch {
    // jose's JWEDecryptionFailed pattern: never say which step failed.
    throw new Error('decryption failed');
  }
}
