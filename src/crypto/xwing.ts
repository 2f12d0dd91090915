/**
 * X-Wing, the hybrid KEM ML-KEM-768 + X25519 of draft-connolly-cfrg-xwing-kem-10, via
 * `@noble/post-quantum`'s `ml_kem768_x25519` (docs/algorithms.md has the construction).
 *
 *   private key  32-byte seed; expanded = SHAKE256(seed, 96):
 *                (pk_M, sk_M) = ML-KEM-768.KeyGen_internal(expanded[0:32], expanded[32:64]),
 *                sk_X = expanded[64:96]
 *   public key   pk_M (1184) ‖ X25519(sk_X, 9) (32)                                = 1216 bytes
 *   ciphertext   ct_M (1088) ‖ ct_X (32)                                             = 1120 bytes
 *   secret       SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ "\.//^\")                      = 32 bytes
 *
 * Encapsulation randomness (`eseed`, 64 bytes) is the ML-KEM message m (first 32 bytes) then
 * the X25519 ephemeral secret (last 32 bytes), as in the draft's test vectors.
 *
 * noble checks more than the draft requires: encapsulation refuses an ML-KEM key that fails the
 * FIPS 203 §7.2 modulus check and an X25519 public key of low order (all-zero shared secret);
 * decapsulation refuses a low-order X25519 ciphertext. Both surface here as errors (encapsulate:
 * RangeError naming the public key; decapsulate: Error), never as a weak shared secret.
 * @module
 */
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { requireBytes } from './primitives.js';
import { X_WING } from './xwing-params.js';

export { X_WING } from './xwing-params.js';

/** X-Wing KeyGen from the 32-byte seed; the seed is the private key (returned as `secretKey`). */
export function xwingKeygen(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  requireBytes(seed, 'seed', X_WING.seedLength);
  const { publicKey } = ml_kem768_x25519.keygen(seed);
  return { publicKey, secretKey: seed.slice() };
}

/**
 * X-Wing Encapsulate. `randomness` is the 64-byte eseed (known-answer tests and deterministic
 * mode only); fresh CSPRNG bytes when omitted. An invalid public key is a RangeError.
 */
export function xwingEncapsulate(publicKey: Uint8Array, randomness?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  requireBytes(publicKey, 'publicKey', X_WING.publicKeyLength);
  if (randomness !== undefined) requireBytes(randomness, 'randomness', X_WING.encapRandomnessLength);
  try {
    return ml_kem768_x25519.encapsulate(publicKey, randomness);
  } catch (cause) {
    throw new RangeError('"publicKey" is not a valid X-Wing public key', { cause });
  }
}

/**
 * X-Wing Decapsulate with the 32-byte seed. A wrong ML-KEM ciphertext gives a pseudorandom
 * secret (implicit rejection); a low-order X25519 ciphertext throws.
 */
export function xwingDecapsulate(cipherText: Uint8Array, seed: Uint8Array): Uint8Array {
  requireBytes(cipherText, 'cipherText', X_WING.cipherTextLength);
  requireBytes(seed, 'seed', X_WING.seedLength);
  return ml_kem768_x25519.decapsulate(cipherText, seed);
}
