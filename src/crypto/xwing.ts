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
 *
 * Expanded secret key. The draft's private key is the seed, and decapsulating with it expands it
 * again on every call (SHAKE256, ML-KEM-768 KeyGen, one X25519 scalar multiplication for pk_X).
 * A holder that decapsulates often (the engine's key cache) keeps this expansion instead:
 *   expanded = sk_M (2400, FIPS 203 dk) ‖ sk_X (32) ‖ pk_X (32)                      = 2464 bytes
 * `xwingDecapsulate` takes either form and gives the same secret (tested against the draft's
 * vectors); the expanded form never leaves the process.
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { requireBytes } from './primitives.js';
import { X_WING } from './xwing-params.js';

const ML_KEM_SEED = 64; // d ‖ z
const ML_KEM_SECRET_KEY = 2400; // FIPS 203 Table 3, ML-KEM-768 dk
const ML_KEM_CIPHERTEXT = 1088;
const X25519_LENGTH = 32;
/** sk_M ‖ sk_X ‖ pk_X: the decapsulation key with nothing left to derive. */
export const XWING_EXPANDED_SECRET_KEY_LENGTH = ML_KEM_SECRET_KEY + 2 * X25519_LENGTH;
/** The draft's combiner label, `\.//^\` (draft-connolly-cfrg-xwing-kem §5.3). */
const XWING_LABEL = utf8ToBytes('\\.//^\\');

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

/** The expanded secret key (see the module comment) of a 32-byte seed. */
export function xwingExpandSecretKey(seed: Uint8Array): Uint8Array {
  requireBytes(seed, 'seed', X_WING.seedLength);
  const expanded = shake256(seed, { dkLen: ML_KEM_SEED + X25519_LENGTH });
  const mlKem = ml_kem768.keygen(expanded.subarray(0, ML_KEM_SEED)); // KeyGen_internal(d, z)
  const skX = expanded.slice(ML_KEM_SEED);
  const out = concatBytes(mlKem.secretKey, skX, x25519.getPublicKey(skX));
  expanded.fill(0);
  skX.fill(0);
  mlKem.secretKey.fill(0);
  return out;
}

/**
 * KeyGen giving the expanded secret key (what key caches keep) with the public key, which is in
 * it already: pk_M is the ek inside FIPS 203's dk (bytes 1152..2336), pk_X its last 32 bytes.
 */
export function xwingKeygenExpanded(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const secretKey = xwingExpandSecretKey(seed);
  const publicKey = concatBytes(secretKey.subarray(1152, 1152 + 1184), secretKey.subarray(ML_KEM_SECRET_KEY + X25519_LENGTH));
  return { publicKey, secretKey };
}

/**
 * X-Wing Decapsulate with the 32-byte seed or the expanded secret key. A wrong ML-KEM ciphertext
 * gives a pseudorandom secret (implicit rejection); a low-order X25519 ciphertext throws.
 */
export function xwingDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  requireBytes(cipherText, 'cipherText', X_WING.cipherTextLength);
  requireBytes(secretKey, 'secretKey');
  if (secretKey.length === X_WING.seedLength) return ml_kem768_x25519.decapsulate(cipherText, secretKey);
  if (secretKey.length !== XWING_EXPANDED_SECRET_KEY_LENGTH) {
    throw new RangeError(
      `"secretKey" must be the ${X_WING.seedLength}-byte X-Wing seed or the ${XWING_EXPANDED_SECRET_KEY_LENGTH}-byte expanded key, got ${secretKey.length}`,
    );
  }
  const ctX = cipherText.subarray(ML_KEM_CIPHERTEXT);
  const pkX = secretKey.subarray(ML_KEM_SECRET_KEY + X25519_LENGTH);
  const ssM = ml_kem768.decapsulate(cipherText.subarray(0, ML_KEM_CIPHERTEXT), secretKey.subarray(0, ML_KEM_SECRET_KEY));
  let ssX: Uint8Array | undefined;
  try {
    // Throws for a low-order ct_X (an all-zero X25519 secret), as the seed path does.
    ssX = x25519.getSharedSecret(secretKey.subarray(ML_KEM_SECRET_KEY, ML_KEM_SECRET_KEY + X25519_LENGTH), ctX);
    return sha3_256(concatBytes(ssM, ssX, ctX, pkX, XWING_LABEL)); // draft §5.3 combiner
  } finally {
    ssM.fill(0);
    ssX?.fill(0);
  }
}
