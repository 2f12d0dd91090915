/**
 * DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) for ML-KEM-768, ML-DSA-65, X-Wing and the
 * composite id-MLDSA65-ECDSA-P256-SHA512.
 *
 * All four use an AlgorithmIdentifier with the OID and absent parameters, and put the raw public
 * key in the BIT STRING (draft-ietf-lamps-kyber-certificates §4 for ML-KEM, RFC 9881 §4 for
 * ML-DSA, draft-connolly-cfrg-xwing-kem §7 for X-Wing, draft-ietf-lamps-pq-composite-sigs §6 for
 * the composite, whose raw key is mldsaPK ‖ the uncompressed P-256 point). With fixed key lengths DER makes the whole header constant, so we
 * encode and decode with a fixed prefix: anything that differs from it by a single byte is not
 * the canonical DER of one of our keys and is refused (no BER, no trailing bytes).
 *
 *   ML-KEM-768  2.16.840.1.101.3.4.4.2   308204b2 300b 0609 608648016503040402 038204a1 00 ‖ ek(1184)
 *   ML-DSA-65   2.16.840.1.101.3.4.3.18  308207b2 300b 0609 608648016503040312 038207a1 00 ‖ pk(1952)
 *   X-Wing      1.3.6.1.4.1.62253.25722  308204d4 300d 060b 2b0601040183e62d81c87a 038204c1 00 ‖ pk(1216)
 *   MLDSA65-ECDSA-P256-SHA512  1.3.6.1.5.5.7.6.45  308207f2 300a 0608 2b0601050507062d 038207e2 00 ‖ pk(2017)
 *
 * The ML-DSA-65 prefix is cross-checked against every `publicKeyDer` in Wycheproof's
 * mldsa_65_verify_test.json (see test/crypto/vectors.test.ts); the X-Wing one against the
 * draft's x509/xwing.pub and the composite one against the draft's test vectors
 * (test/crypto/xwing.test.ts, test/crypto/composite-ml-dsa.test.ts).
 * @module
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { ML_DSA_65, ML_KEM_768 } from './primitives.js';

export type PqAlgorithm = 'ML-KEM-768' | 'ML-DSA-65' | 'X-Wing' | 'MLDSA65-ECDSA-P256-SHA512';

interface SpkiLayout {
  algorithm: PqAlgorithm;
  prefix: Uint8Array;
  keyLength: number;
}

// SEQUENCE(len) { SEQUENCE(11) { OID(9) }, BIT STRING(len) { 0 unused bits ‖ key } }
const LAYOUTS: readonly SpkiLayout[] = [
  {
    algorithm: 'ML-KEM-768',
    prefix: Uint8Array.of(
      0x30,
      0x82,
      0x04,
      0xb2, // SEQUENCE, 1202 bytes
      0x30,
      0x0b,
      0x06,
      0x09,
      0x60,
      0x86,
      0x48,
      0x01,
      0x65,
      0x03,
      0x04,
      0x04,
      0x02, // id-alg-ml-kem-768
      0x03,
      0x82,
      0x04,
      0xa1,
      0x00, // BIT STRING, 1185 bytes, 0 unused bits
    ),
    keyLength: ML_KEM_768.publicKeyLength,
  },
  {
    algorithm: 'ML-DSA-65',
    prefix: Uint8Array.of(
      0x30,
      0x82,
      0x07,
      0xb2, // SEQUENCE, 1970 bytes
      0x30,
      0x0b,
      0x06,
      0x09,
      0x60,
      0x86,
      0x48,
      0x01,
      0x65,
      0x03,
      0x04,
      0x03,
      0x12, // id-ml-dsa-65
      0x03,
      0x82,
      0x07,
      0xa1,
      0x00, // BIT STRING, 1953 bytes, 0 unused bits
    ),
    keyLength: ML_DSA_65.publicKeyLength,
  },
  {
    algorithm: 'X-Wing',
    // SEQUENCE(1236) { SEQUENCE(13) { OID id-XWing }, BIT STRING(1217) { 00 ‖ key } }
    prefix: hexToBytes('308204d4300d060b2b0601040183e62d81c87a038204c100'),
    keyLength: 1216,
  },
  {
    algorithm: 'MLDSA65-ECDSA-P256-SHA512',
    // SEQUENCE(2034) { SEQUENCE(10) { OID id-MLDSA65-ECDSA-P256-SHA512 }, BIT STRING(2018) { 00 ‖ key } }
    prefix: hexToBytes('308207f2300a06082b0601050507062d038207e200'),
    keyLength: ML_DSA_65.publicKeyLength + 65,
  },
];

const ALGORITHM_NAMES = LAYOUTS.map((l) => `'${l.algorithm}'`).join(', ');

export function encodeSpki(algorithm: PqAlgorithm, publicKey: Uint8Array): Uint8Array {
  const layout = LAYOUTS.find((l) => l.algorithm === algorithm);
  if (layout === undefined) throw new TypeError(`"algorithm" must be one of ${ALGORITHM_NAMES}`);
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('"publicKey" must be a Uint8Array');
  if (publicKey.length !== layout.keyLength) {
    throw new RangeError(`"publicKey" must be ${layout.keyLength} bytes for ${algorithm}, got ${publicKey.length}`);
  }
  const der = new Uint8Array(layout.prefix.length + layout.keyLength);
  der.set(layout.prefix, 0);
  der.set(publicKey, layout.prefix.length);
  return der;
}

/** Returns `undefined` for anything that is not exactly the DER SPKI of one of our algorithms. */
export function decodeSpki(der: Uint8Array): { algorithm: PqAlgorithm; publicKey: Uint8Array } | undefined {
  if (!(der instanceof Uint8Array)) return undefined;
  for (const layout of LAYOUTS) {
    if (der.length !== layout.prefix.length + layout.keyLength) continue;
    if (!hasPrefix(der, layout.prefix)) continue;
    return { algorithm: layout.algorithm, publicKey: der.slice(layout.prefix.length) };
  }
  return undefined;
}

// Public data: no need for a constant-time comparison.
function hasPrefix(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
