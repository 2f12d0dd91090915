/**
 * FIPS 204 skDecode range checks for expanded ML-DSA-65 secret keys that OpenSSL and liboqs do
 * not make (Wycheproof mldsa_65_sign_noseed tcId 56/57: s1/s2 coefficients out of range). noble
 * refuses such keys, so a key is run once through a noble signature and remembered (per
 * Uint8Array, compared byte for byte) once it passed; keys from `keygen` are trusted as they come.
 * @module
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { equalBytes } from '@noble/post-quantum/utils.js';

const checked = new WeakMap<Uint8Array, Uint8Array>();

export function trustDsaSecretKey(secretKey: Uint8Array): void {
  checked.set(secretKey, secretKey.slice());
}

/** Throws (as noble does) unless `secretKey` decodes as a FIPS 204 ML-DSA-65 secret key. */
export function checkDsaSecretKey(secretKey: Uint8Array): void {
  const copy = checked.get(secretKey);
  if (copy && equalBytes(copy, secretKey)) return;
  ml_dsa65.sign(new Uint8Array(0), secretKey, { extraEntropy: false });
  checked.set(secretKey, secretKey.slice());
}
