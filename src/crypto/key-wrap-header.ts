/**
 * The 6-byte header of a wrapped key (docs/format.md, "Wrapped keys") and the sizes that can be
 * wrapped: what the engine and the schemas read before any cryptography, apart from ./key-wrap.ts
 * so that they do not load the wrapping code itself.
 *
 *   header = 0x01 (format version) ‖ 0x02 (type: key wrap) ‖ key_version (u32 BE)
 * @module
 */
import { FORMAT_OVERHEAD, FORMAT_VERSION, HEADER_LENGTH } from './format.js';

/** The symmetric key lengths that can be wrapped: AES-128/192/256 keys, HMAC-SHA-384/512 keys. */
export const WRAPPABLE_KEY_LENGTHS: readonly number[] = Object.freeze([16, 24, 32, 48, 64]);
/** header + ML-KEM-768 ciphertext + AES-GCM tag, the same as the ciphertext format. */
export const KEY_WRAP_OVERHEAD = FORMAT_OVERHEAD; // 1110
/** The type byte (offset 1) of a wrapped key; 0x00 and 0x01 are the ciphertext modes. */
export const KEY_WRAP_TYPE = 0x02;

const MAX_KEY_VERSION = 0xffffffff;

export interface WrappedKeyHeader {
  formatVersion: number;
  keyVersion: number;
}

export function encodeWrappedKeyHeader(keyVersion: number): Uint8Array {
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > MAX_KEY_VERSION) {
    throw new RangeError('"keyVersion" must be an integer in 1..2^32-1');
  }
  const header = new Uint8Array(HEADER_LENGTH);
  header[0] = FORMAT_VERSION;
  header[1] = KEY_WRAP_TYPE;
  new DataView(header.buffer).setUint32(2, keyVersion, false);
  return header;
}

/**
 * Reads the header of a wrapped key (the engine picks the key version from it). `undefined`
 * when the input is not a wrapped key by its shape: a length that no allowed key size gives,
 * another format version, another type byte (a ciphertext), or key_version 0.
 */
export function parseWrappedKeyHeader(bytes: Uint8Array): WrappedKeyHeader | undefined {
  if (!(bytes instanceof Uint8Array) || !WRAPPABLE_KEY_LENGTHS.includes(bytes.length - KEY_WRAP_OVERHEAD)) return undefined;
  if (bytes[0] !== FORMAT_VERSION || bytes[1] !== KEY_WRAP_TYPE) return undefined;
  const keyVersion = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LENGTH).getUint32(2, false);
  if (keyVersion === 0) return undefined;
  return { formatVersion: FORMAT_VERSION, keyVersion };
}
