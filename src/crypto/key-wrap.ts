/**
 * Key wrapping: a symmetric key (16, 24, 32, 48 or 64 bytes) sealed to an ML-KEM-768 or X-Wing
 * public key with the same HPKE suite as that KEM's ciphertext format (./format.ts, ./hpke.ts;
 * docs/format.md, "Wrapped keys"), but domain-separated from it twice:
 *
 *   wrapped_key = header ‖ enc ‖ AES-256-GCM(symmetric_key) ‖ tag(16)
 *   ML-KEM-768:  header(6) = 0x01 ‖ 0x02 (type: key wrap) ‖ key_version (u32 BE); enc 1088 bytes
 *   X-Wing:      header(8) = 0x02 ‖ kem_id 0x647a ‖ 0x02 (type: key wrap) ‖ key_version (u32 BE); enc 1120 bytes
 *   HPKE info   = "qpher/v1 key-wrap" ‖ header       (a ciphertext's info is the bare header)
 *   HPKE aad    = the caller's aad, or empty
 *
 * 1. The type byte 0x02 is one the ciphertext reader refuses (format.ts `parseHeader` knows
 *    only the modes 0x00 and 0x01), and unwrap refuses everything but 0x02: each side rejects
 *    the other's bytes before any cryptography, and the byte tells a reader what the blob is.
 * 2. The info label makes the separation cryptographic and independent of that byte: a
 *    ciphertext's HPKE info is exactly its 6 or 8 header bytes, a wrapped key's is 23 or 25
 *    bytes, so no ciphertext header (under any present or future mode byte) equals a wrapped
 *    key's info, and a wrapped key whose type byte is rewritten still fails the AEAD tag in
 *    decrypt (and a ciphertext relabelled 0x02 fails it in unwrap). It also holds for anyone who
 *    opens the HPKE body with another library and does not parse our header. The label is the
 *    same for both KEMs: the header inside the info already names the KEM.
 *
 * Unwrapping fails one way: every problem with the wrapped key (length, header, a header naming
 * another KEM than the key's, wrong key, wrong aad, any changed byte) is
 * `Error('unwrap failed')`, as ./format.ts does for ciphertexts.
 * @module
 */
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { type CiphertextKem, headerLengthOf } from './format.js';
import { hpkeOpen, hpkeSeal, kemFacts } from './hpke.js';
import { type PrimitiveProvider, requireBytes } from './primitives.js';
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

/** HPKE info of a wrapped key: the label, then the header (6 bytes for ML-KEM-768, 8 for X-Wing). */
export function keyWrapInfo(header: Uint8Array): Uint8Array {
  return concatBytes(KEY_WRAP_INFO_LABEL, header);
}

/**
 * Wraps `symmetricKey` to a raw public key of `kem`: 1184-byte ML-KEM-768 (the default) or
 * 1216-byte X-Wing. `encapRandomness` (ML-KEM m, 32 bytes; X-Wing eseed, 64 bytes) fixes the
 * encapsulation for known-answer vectors only. Throws RangeError for a key of another size
 * (naming the allowed sizes), a bad `keyVersion`, or a public key that is the wrong length or
 * fails its check (FIPS 203 §7.2; X25519 low order).
 */
export async function wrapKey(args: {
  kem?: CiphertextKem;
  publicKey: Uint8Array;
  keyVersion: number;
  symmetricKey: Uint8Array;
  aad?: Uint8Array;
  encapRandomness?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { kem = 'ML-KEM-768', publicKey, keyVersion, symmetricKey, aad = EMPTY, encapRandomness, provider } = args;
  kemFacts(kem);
  requireSymmetricKey(symmetricKey);
  requireBytes(aad, 'aad');
  const header = encodeWrappedKeyHeader(keyVersion, kem);
  const { enc, ciphertext } = await hpkeSeal({
    kem,
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
 * Unwraps a key made by `wrapKey` with a key of `kem` (default ML-KEM-768). `secretKey` is, for
 * ML-KEM-768, the 64-byte seed or the 2400-byte decapsulation key; for X-Wing the 32-byte seed (a
 * wrong size is a RangeError: that is the caller's bug, not the input's). Every failure about the
 * wrapped key, including a header naming another KEM, is `Error('unwrap failed')`. The
 * key_version in the header is not compared with anything here: that is the caller's job (see
 * `parseWrappedKeyHeader`).
 */
export async function unwrapKey(args: {
  kem?: CiphertextKem;
  secretKey: Uint8Array;
  wrappedKey: Uint8Array;
  aad?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { kem = 'ML-KEM-768', secretKey, wrappedKey, aad = EMPTY, provider } = args;
  const facts = kemFacts(kem);
  requireBytes(aad, 'aad');
  requireBytes(secretKey, 'secretKey');
  const { seed, secretKey: expanded } = facts.sizes;
  if (secretKey.length !== seed && secretKey.length !== expanded) {
    throw new RangeError(
      seed === expanded
        ? `"secretKey" must be the ${seed}-byte ${kem} seed`
        : `"secretKey" must be the ${seed}-byte ${kem} seed or the ${expanded}-byte decapsulation key`,
    );
  }
  try {
    if (parseWrappedKeyHeader(wrappedKey)?.kem !== kem) throw new Error();
    const headerLength = headerLengthOf(facts);
    const encEnd = headerLength + facts.sizes.ciphertext;
    return await hpkeOpen({
      kem,
      secretKey,
      enc: wrappedKey.subarray(headerLength, encEnd),
      info: keyWrapInfo(wrappedKey.subarray(0, headerLength)),
      aad,
      ciphertext: wrappedKey.subarray(encEnd),
      provider,
    });
  } catch {
    // Never say which step failed (the same rule as openCiphertext in ./format.ts).
    throw new Error('unwrap failed');
  }
}
