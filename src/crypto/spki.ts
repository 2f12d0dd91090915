/**
 * DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) for every algorithm of the table
 * (src/contract/algorithms.ts: `oid`, `spkiPrefix`, `sizes.publicKey`).
 *
 * All of them use an AlgorithmIdentifier with the OID and absent parameters, and put the raw
 * public key in the BIT STRING (draft-ietf-lamps-kyber-certificates §4 for ML-KEM, RFC 9881 §4
 * for ML-DSA, draft-connolly-cfrg-xwing-kem §7 for X-Wing, draft-ietf-lamps-pq-composite-sigs §6
 * for the composite, whose raw key is mldsaPK ‖ the uncompressed P-256 point). With fixed key lengths DER makes the whole header constant, so we
 * encode and decode with a fixed prefix: anything that differs from it by a single byte is not
 * the canonical DER of one of our keys and is refused (no BER, no trailing bytes). Each prefix
 * is SEQUENCE(len) ‖ SEQUENCE { OID } ‖ BIT STRING(len) ‖ 0x00 (no unused bits); the unit tests
 * check that it encodes the row's OID and lengths.
 *
 * The ML-DSA-65 prefix is cross-checked against every `publicKeyDer` in Wycheproof's
 * mldsa_65_verify_test.json (see test/crypto/vectors.test.ts); the X-Wing one against the
 * draft's x509/xwing.pub and the composite one against the draft's test vectors
 * (test/crypto/xwing.test.ts, test/crypto/composite-ml-dsa.test.ts).
 * @module
 */
import { ALGORITHMS, ALGORITHM_TABLE } from '../contract/algorithms.js';

/** Standard names (`ML-KEM-768`, `ML-DSA-65`, `X-Wing`, `MLDSA65-ECDSA-P256-SHA512`) of the algorithm table's rows. */
export type PqAlgorithm = (typeof ALGORITHM_TABLE)[keyof typeof ALGORITHM_TABLE]['standard'];

interface SpkiLayout {
  algorithm: PqAlgorithm;
  prefix: Uint8Array;
  keyLength: number;
}

// SEQUENCE(len) { SEQUENCE { OID }, BIT STRING(len) { 0 unused bits ‖ key } }, from the table.
const LAYOUTS: readonly SpkiLayout[] = ALGORITHMS.map((name) => {
  const facts = ALGORITHM_TABLE[name];
  return { algorithm: facts.standard, prefix: fromHex(facts.spkiPrefix), keyLength: facts.sizes.publicKey };
});

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

export function encodeSpki(algorithm: PqAlgorithm, publicKey: Uint8Array): Uint8Array {
  const layout = LAYOUTS.find((l) => l.algorithm === algorithm);
  if (layout === undefined) throw new TypeError(`"algorithm" must be one of ${LAYOUTS.map((l) => `'${l.algorithm}'`).join(', ')}`);
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
