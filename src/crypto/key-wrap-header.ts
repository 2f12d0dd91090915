/**
 * The header of a wrapped key (docs/format.md, "Wrapped keys") and the sizes that can be
 * wrapped: what the engine and the schemas read before any cryptography, apart from ./key-wrap.ts
 * so that they do not load the wrapping code itself. The layout follows the ciphertext format of
 * the same KEM (./format.ts), with the type byte 0x02 where a ciphertext has its mode:
 *
 *   ML-KEM-768 (v1, 6 bytes): 0x01 ‖ 0x02 (type: key wrap) ‖ key_version (u32 BE)
 *   X-Wing     (v2, 8 bytes): 0x02 ‖ kem_id (u16 BE, 0x647a) ‖ 0x02 (type: key wrap) ‖ key_version (u32 BE)
 *
 * ML-KEM-768 wraps keep the version-1 header byte for byte; version 2 names its KEM, as a
 * version-2 ciphertext does.
 * @module
 */
import { factsOfKind, isKeyVersion, type KemFacts } from '../contract/algorithms.js';
import { type CiphertextKem, FORMAT_OVERHEAD, formatOverhead, headerLengthOf } from './format.js';
import { kemFacts } from './hpke.js';

/** The symmetric key lengths that can be wrapped: AES-128/192/256 keys, HMAC-SHA-384/512 keys. */
export const WRAPPABLE_KEY_LENGTHS: readonly number[] = Object.freeze([16, 24, 32, 48, 64]);
/** ML-KEM-768: header + ML-KEM-768 ciphertext + AES-GCM tag, the same as the ciphertext format (1110). */
export const KEY_WRAP_OVERHEAD = FORMAT_OVERHEAD;
/** The type byte of a wrapped key (where a ciphertext has its mode, 0x00 or 0x01). */
export const KEY_WRAP_TYPE = 0x02;

const KEM_ROWS = factsOfKind('kem');

export interface WrappedKeyHeader {
  formatVersion: number;
  /** The KEM it was wrapped with (a standard name of a KEM row). */
  kem: CiphertextKem;
  keyVersion: number;
}

/** The header for `kem` (default ML-KEM-768, the 6-byte version-1 header). */
export function encodeWrappedKeyHeader(keyVersion: number, kem: CiphertextKem = 'ML-KEM-768'): Uint8Array {
  if (!isKeyVersion(keyVersion)) throw new RangeError('"keyVersion" must be an integer in 1..2^32-1');
  const facts = kemFacts(kem);
  const length = headerLengthOf(facts);
  const header = new Uint8Array(length);
  const view = new DataView(header.buffer);
  header[0] = facts.formatVersion;
  if (facts.formatVersion === 2) view.setUint16(1, facts.hpkeKemId, false);
  header[length - 5] = KEY_WRAP_TYPE;
  view.setUint32(length - 4, keyVersion, false);
  return header;
}

/**
 * Reads the header of a wrapped key (the engine picks the key version and the KEM from it).
 * `undefined` when the input is not a wrapped key by its shape: an unknown format version or
 * kem_id, a length that no allowed key size gives under that KEM, another type byte (a
 * ciphertext), or key_version 0.
 */
export function parseWrappedKeyHeader(bytes: Uint8Array): WrappedKeyHeader | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) return undefined;
  const facts = kemOfWrappedKey(bytes);
  if (facts === undefined || !WRAPPABLE_KEY_LENGTHS.includes(bytes.length - formatOverhead(facts))) return undefined;
  const length = headerLengthOf(facts);
  if (bytes[length - 5] !== KEY_WRAP_TYPE) return undefined;
  const keyVersion = new DataView(bytes.buffer, bytes.byteOffset, length).getUint32(length - 4, false);
  if (keyVersion === 0) return undefined;
  return { formatVersion: facts.formatVersion, kem: facts.standard as CiphertextKem, keyVersion };
}

/** Version 1 is ML-KEM-768's alone; version 2 names the KEM by its HPKE kem_id. */
function kemOfWrappedKey(bytes: Uint8Array): KemFacts | undefined {
  if (bytes[0] === 1) return KEM_ROWS.find((f) => f.formatVersion === 1);
  if (bytes[0] !== 2 || bytes.length < 3) return undefined;
  const kemId = (bytes[1]! << 8) | bytes[2]!;
  return KEM_ROWS.find((f) => f.formatVersion === 2 && f.hpkeKemId === kemId);
}
