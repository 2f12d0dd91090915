/**
 * Key wrapping: a symmetric key (16, 24, 32, 48 or 64 bytes) sealed to an ML-KEM-768 public key
 * with the same HPKE suite as the ciphertext format (./format.ts, ./hpke.ts; docs/format.md,
 * "Wrapped keys"), but domain-separated from it twice:
 *
 *   wrapped_key = header(6) ‖ enc(1088) ‖ AES-256-GCM(symmetric_key) ‖ tag(16)
 *   header      = 0x01 (format version) ‖ 0x02 (type: key wrap) ‖ key_version (u32 BE)
 *   HPKE info   = "qpher/v1 key-wrap" ‖ header       (a ciphertext's info is the bare header)
 *   HPKE aad    = the caller's aad, or empty
 *
 * 1. The type byte 0x02 is one the ciphertext reader refuses (format.ts `parseHeader` knows
 *    only 0x00 and 0x01), and unwrap refuses everything but 0x02: each side rejects the other's
 *    bytes before any cryptography, and the byte tells a reader what the blob is.
 * 2. The info label makes the separation cryptographic and independent of that byte: a
 *    ciphertext's HPKE info is exactly its 6 header bytes, a wrapped key's is 23 bytes, so no
 *    ciphertext header (under any present or future mode byte) equals a wrapped key's info, and
 *    a wrapped key whose type byte is rewritten still fails the AEAD tag in decrypt (and a
 *    ciphertext relabelled 0x02 fails it in unwrap). It also holds for anyone who opens the
 *    HPKE body with another library and does not parse our header.
 *
 * Unwrapping fails one way: every problem with the wrapped key (length, header, wrong key,
 * wrong aad, any changed byte) is `Error('unwrap failed')`, as ./format.ts does for ciphertexts.
 * @module
 */
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { HEADER_LENGTH } from './format.js';
import { hpkeOpen, hpkeSeal } from './hpke.js';
import { ML_KEM_768, type PrimitiveProvider, requireBytes } from './primitives.js';
import { encodeWrappedKeyHeader, parseWrappedKeyHeader, WRAPPABLE_KEY_LENGTHS } from './key-wrap-header.js';

export {
  encodeWrappedKeyHeader,
  KEY_WRAP_OVERHEAD,
  KEY_WRAP_TYPE,
  parseWrappedKeyHeader,
  WRAPPABLE_KEY_LENGTHS,
  type WrappedKeyHeader,
} from './key-wrap-header.js';
/** Prepended to the header to form the HPKE info (not exported: a shared Uint8Array could be mutated). */
const KEY_WRAP_INFO_LABEL: Uint8Array = utf8ToBytes('qpher/v1 key-wrap');
const EMPTY = new Uint8Array(0);

function requireSymmetricKey(value: unknown): asserts value is Uint8Array {
  requireBytes(value, 'symmetricKey');
  if (!WRAPPABLE_KEY_LENGTHS.includes(value.length)) {
    throw new RangeError(`"symmetricKey" must be 16, 24, 32, 48 or 64 bytes, got ${value.length}`);
  }
}

/** HPKE info of a wrapped key: the label, then the 6 header bytes. */
export function keyWrapInfo(header: Uint8Array): Uint8Array {
  return concatBytes(KEY_WRAP_INFO_LABEL, header);
}

/**
 * Wraps `symmetricKey` to a raw 1184-byte ML-KEM-768 public key. `encapRandomness` fixes the
 * ML-KEM m for known-answer vectors only. Throws RangeError for a key of another size (naming
 * the allowed sizes), a bad `keyVersion`, or a public key that is the wrong length or fails the
 * FIPS 203 §7.2 check.
 */
export async function wrapKey(args: {
  publicKey: Uint8Array;
  keyVersion: number;
  symmetricKey: Uint8Array;
  aad?: Uint8Array;
  encapRandomness?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { publicKey, keyVersion, symmetricKey, aad = EMPTY, encapRandomness, provider } = args;
  requireSymmetricKey(symmetricKey);
  requireBytes(aad, 'aad');
  const header = encodeWrappedKeyHeader(keyVersion);
  const { enc, ciphertext } = await hpkeSeal({
    publicKey,
    info: keyWrapInfo(header),
    aad,
    plaintext: symmetricKey,
    encapRandomness,
    provider,
  });
  return concatBytes(header, enc, ciphertext);
}

/**
 * Unwraps a key made by `wrapKey`. `secretKey` is the 64-byte ML-KEM seed or the 2400-byte
 * decapsulation key (a wrong size is a RangeError: that is the caller's bug, not the input's).
 * Every failure about the wrapped key is `Error('unwrap failed')`. The key_version in the header
 * is not compared with anything here: that is the caller's job (see `parseWrappedKeyHeader`).
 */
export async function unwrapKey(args: {
  secretKey: Uint8Array;
  wrappedKey: Uint8Array;
  aad?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { secretKey, wrappedKey, aad = EMPTY, provider } = args;
  requireBytes(aad, 'aad');
  requireBytes(secretKey, 'secretKey');
  if (secretKey.length !== ML_KEM_768.seedLength && secretKey.length !== 2400) {
    throw new RangeError('"secretKey" must be the 64-byte ML-KEM-768 seed or the 2400-byte decapsulation key');
  }
  try {
    if (parseWrappedKeyHeader(wrappedKey) === undefined) throw new Error();
    const encEnd = HEADER_LENGTH + ML_KEM_768.cipherTextLength;
    return await hpkeOpen({
      secretKey,
      enc: wrappedKey.subarray(HEADER_LENGTH, encEnd),
      info: keyWrapInfo(wrappedKey.subarray(0, HEADER_LENGTH)),
      aad,
      ciphertext: wrappedKey.subarray(encEnd),
      provider,
    });
  } catch {
    // Never say which step failed (the same rule as openCiphertext in ./format.ts).
    throw new Error('unwrap failed');
  }
}
