/**
 * Plain ML-KEM-768 encapsulation and decapsulation (FIPS 203 Algorithms 20/21), for callers
 * that run their own KDF/AEAD on the shared secret instead of using the Qpher ciphertext format.
 *
 *   kem_ciphertext = ML-KEM-768 ciphertext c, 1088 bytes
 *   shared_secret  = K, 32 raw bytes (not hashed, not HKDF'd: exactly FIPS 203's output)
 *
 * Decapsulation uses FIPS 203 implicit rejection (Algorithm 18, lines 9–11): a 1088-byte
 * ciphertext that was not produced for this key still gives 32 bytes, K̄ = J(z ‖ c), which is
 * pseudorandom and unrelated to any encapsulated secret. There is no error to report, by design
 * (an error would be a decryption oracle); a caller finds out only when the secret it derives
 * fails to authenticate something. A ciphertext of any other length is refused before any
 * cryptography (FIPS 203 §7.3 input check).
 *
 * Keys: encapsulation takes the raw 1184-byte encapsulation key; decapsulation the 64-byte seed
 * d‖z (what the key stores keep) or the 2400-byte expanded decapsulation key.
 * @module
 */
import { ML_KEM_768, nobleProvider, type PrimitiveProvider, requireBytes } from './primitives.js';

const EXPANDED_SECRET_KEY_LENGTH = 2400; // FIPS 203 Table 3, ML-KEM-768 dk
const ENCAPSULATION_RANDOMNESS_LENGTH = 32; // FIPS 203 Algorithm 17: m ∈ B^32

/**
 * ML-KEM.Encaps (FIPS 203 Algorithm 20). `randomness` fixes m for known-answer tests; the CSPRNG
 * supplies it otherwise. Throws RangeError for a wrong-length key or one that fails the
 * FIPS 203 §7.2 modulus check ('"publicKey" is not a valid ML-KEM-768 encapsulation key').
 */
export function kemEncapsulate(args: { publicKey: Uint8Array; randomness?: Uint8Array; provider?: PrimitiveProvider }): {
  sharedSecret: Uint8Array;
  kemCiphertext: Uint8Array;
} {
  const { publicKey, randomness, provider = nobleProvider } = args;
  requireBytes(publicKey, 'publicKey', ML_KEM_768.publicKeyLength);
  if (randomness !== undefined) requireBytes(randomness, 'randomness', ENCAPSULATION_RANDOMNESS_LENGTH);
  try {
    const { cipherText, sharedSecret } = provider.mlKem768.encapsulate(publicKey, randomness);
    return { sharedSecret, kemCiphertext: cipherText };
  } catch (cause) {
    // Lengths were checked above, so the provider can only refuse the key's content.
    throw new RangeError('"publicKey" is not a valid ML-KEM-768 encapsulation key', { cause });
  }
}

/**
 * ML-KEM.Decaps (FIPS 203 Algorithm 21) with implicit rejection: a well-formed but wrong
 * `kemCiphertext` returns the rejection secret, not an error. Throws RangeError for a
 * `kemCiphertext` that is not 1088 bytes ('"kemCiphertext" must be 1088 bytes, got N'), a
 * `secretKey` that is neither the 64-byte seed nor the 2400-byte key, or an expanded key that
 * fails the FIPS 203 §7.3 hash check.
 */
export function kemDecapsulate(args: { secretKey: Uint8Array; kemCiphertext: Uint8Array; provider?: PrimitiveProvider }): Uint8Array {
  const { secretKey, kemCiphertext, provider = nobleProvider } = args;
  requireBytes(kemCiphertext, 'kemCiphertext', ML_KEM_768.cipherTextLength);
  requireBytes(secretKey, 'secretKey');
  let decapsulationKey: Uint8Array;
  if (secretKey.length === ML_KEM_768.seedLength) {
    decapsulationKey = provider.mlKem768.keygen(secretKey).secretKey; // ML-KEM.KeyGen_internal(d, z)
  } else if (secretKey.length === EXPANDED_SECRET_KEY_LENGTH) {
    decapsulationKey = secretKey;
  } else {
    throw new RangeError(
      `"secretKey" must be the ${ML_KEM_768.seedLength}-byte ML-KEM-768 seed or the ${EXPANDED_SECRET_KEY_LENGTH}-byte decapsulation key, got ${secretKey.length}`,
    );
  }
  try {
    return provider.mlKem768.decapsulate(kemCiphertext, decapsulationKey);
  } catch (cause) {
    // The ciphertext length was checked above; what is left is the key's H(ek) check.
    throw new RangeError('"secretKey" is not a valid ML-KEM-768 decapsulation key', { cause });
  } finally {
    if (decapsulationKey !== secretKey) decapsulationKey.fill(0);
  }
}
