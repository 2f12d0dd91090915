/**
 * The pre-hash functions HashML-DSA accepts (FIPS 204 §5.4.1): digest length and the DER of the
 * OID that goes into M′. Apart from ./hash-ml-dsa.ts so that request validation (the schemas)
 * can name them without loading the signing code.
 * @module
 */
export type HashMlDsaAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** The accepted pre-hash functions: digest length and DER of the OID (FIPS 204 §5.4.1). */
export const HASH_ML_DSA_ALGORITHMS: Readonly<Record<HashMlDsaAlgorithm, { digestLength: number; oidDer: Uint8Array }>> = Object.freeze({
  // 2.16.840.1.101.3.4.2.1 / .2 / .3 (NIST hash algorithm arc), as OBJECT IDENTIFIER TLVs.
  'SHA-256': { digestLength: 32, oidDer: Uint8Array.of(0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01) },
  'SHA-384': { digestLength: 48, oidDer: Uint8Array.of(0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02) },
  'SHA-512': { digestLength: 64, oidDer: Uint8Array.of(0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03) },
});
