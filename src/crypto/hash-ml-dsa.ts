/**
 * HashML-DSA-65 (FIPS 204 §5.4, Algorithms 4 and 5) over a digest the caller already computed.
 *
 * The message is never seen here: the caller sends PH(M) and names PH. The signature is
 * ML-DSA.Sign_internal / Verify_internal (FIPS 204 Algorithms 7/8) over
 *
 *   M′ = 0x01 ‖ I2OSP(len(ctx), 1) ‖ ctx ‖ DER(OID(PH)) ‖ PH(M)
 *
 * The leading domain byte is 0x01 for HashML-DSA and 0x00 for pure ML-DSA (Algorithm 2), so a
 * signature of one kind never verifies as the other.
 *
 * M′ is built here rather than with `@noble/post-quantum`'s `prehash()`, because that helper
 * refuses SHA-256 with ML-DSA-65 (its own rule: the hash must have the collision strength of
 * the parameter set, 192 bits), while FIPS 204 §5.4 allows any approved hash and NIST ACVP tests
 * ML-DSA-65 with SHA2-256. The bytes are the same as `prehash()` gives where it does not refuse
 * (test/crypto/hash-ml-dsa.test.ts checks SHA-384 and SHA-512 against it).
 *
 * Keys: the 32-byte seed ξ (what the key stores keep; expanded here with ML-DSA.KeyGen_internal)
 * or the 4032-byte expanded secret key (FIPS 204 skEncode, the form every provider's `keygen`
 * returns). Verification takes the raw 1952-byte public key.
 * @module
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { HASH_ML_DSA_ALGORITHMS, type HashMlDsaAlgorithm } from './hash-algorithms.js';
import { isVerifiable, ML_DSA_65, requireBytes } from './primitives.js';

export { HASH_ML_DSA_ALGORITHMS, type HashMlDsaAlgorithm } from './hash-algorithms.js';

const EXPANDED_SECRET_KEY_LENGTH = 4032; // FIPS 204 Table 2, ML-DSA-65 sk
const SIGNING_RANDOMNESS_LENGTH = 32; // FIPS 204 Algorithm 4: rnd ∈ B^32
const HASH_ML_DSA_DOMAIN = 0x01; // FIPS 204 Algorithm 4 line 23: M′ starts with IntegerToBytes(1, 1)

function isHashAlgorithm(value: unknown): value is HashMlDsaAlgorithm {
  return typeof value === 'string' && Object.hasOwn(HASH_ML_DSA_ALGORITHMS, value);
}

function requireHashAlgorithm(value: unknown): asserts value is HashMlDsaAlgorithm {
  if (!isHashAlgorithm(value)) throw new TypeError(`"hashAlgorithm" must be one of ${Object.keys(HASH_ML_DSA_ALGORITHMS).join(', ')}`);
}

function requireDigest(hashAlgorithm: HashMlDsaAlgorithm, hash: unknown): asserts hash is Uint8Array {
  requireBytes(hash, 'hash');
  const { digestLength } = HASH_ML_DSA_ALGORITHMS[hashAlgorithm];
  if (hash.length !== digestLength) {
    throw new RangeError(`"hash" must be ${digestLength} bytes for ${hashAlgorithm}, got ${hash.length}`);
  }
}

function requireContext(context: unknown): asserts context is Uint8Array {
  requireBytes(context, 'context');
  if (context.length > ML_DSA_65.maxContextLength) throw new RangeError(`"context" must be ${ML_DSA_65.maxContextLength} bytes or less`);
}

/**
 * M′ of FIPS 204 Algorithm 4 (line 23) and Algorithm 5 (line 18). Exported for tests and for
 * anyone who wants to check a signature with another library's internal interface.
 */
export function encodeHashMlDsaMessage(
  hashAlgorithm: HashMlDsaAlgorithm,
  hash: Uint8Array,
  context: Uint8Array = new Uint8Array(0),
): Uint8Array {
  requireHashAlgorithm(hashAlgorithm);
  requireDigest(hashAlgorithm, hash);
  requireContext(context);
  return concatBytes(Uint8Array.of(HASH_ML_DSA_DOMAIN, context.length), context, HASH_ML_DSA_ALGORITHMS[hashAlgorithm].oidDer, hash);
}

/**
 * HashML-DSA.Sign (FIPS 204 Algorithm 4) with the pre-hash already applied. Hedged by default
 * (fresh rnd from the CSPRNG); `randomness: false` is the deterministic variant (rnd = 0^32),
 * a 32-byte array fixes rnd (known-answer tests). Returns the 3309-byte signature.
 *
 * Throws TypeError/RangeError naming the argument: unknown `hashAlgorithm`, a `hash` whose
 * length is not that algorithm's digest length, a `context` over 255 bytes, a `secretKey` that
 * is neither 32 nor 4032 bytes (or that FIPS 204 skDecode refuses), `randomness` not 32 bytes.
 */
export function hashMlDsaSign(args: {
  secretKey: Uint8Array;
  hashAlgorithm: HashMlDsaAlgorithm;
  hash: Uint8Array;
  context?: Uint8Array;
  randomness?: Uint8Array | false;
}): Uint8Array {
  const { secretKey, hashAlgorithm, hash, context, randomness } = args;
  requireBytes(secretKey, 'secretKey');
  if (randomness !== undefined && randomness !== false) requireBytes(randomness, 'randomness', SIGNING_RANDOMNESS_LENGTH);
  const message = encodeHashMlDsaMessage(hashAlgorithm, hash, context);
  let expanded: Uint8Array;
  if (secretKey.length === ML_DSA_65.seedLength) {
    expanded = ml_dsa65.keygen(secretKey).secretKey; // ML-DSA.KeyGen_internal(ξ), FIPS 204 Algorithm 6
  } else if (secretKey.length === EXPANDED_SECRET_KEY_LENGTH) {
    expanded = secretKey;
  } else {
    throw new RangeError(
      `"secretKey" must be the ${ML_DSA_65.seedLength}-byte ML-DSA-65 seed or the ${EXPANDED_SECRET_KEY_LENGTH}-byte secret key, got ${secretKey.length}`,
    );
  }
  try {
    // extraEntropy undefined -> noble draws rnd from the CSPRNG (hedged, FIPS 204 §3.4).
    return ml_dsa65.internal.sign(message, expanded, randomness === undefined ? {} : { extraEntropy: randomness });
  } catch (cause) {
    // Only the key can still be wrong here (noble's skDecode range checks, FIPS 204 Algorithm 25).
    throw new RangeError('"secretKey" is not a valid ML-DSA-65 secret key', { cause });
  } finally {
    if (expanded !== secretKey) expanded.fill(0);
  }
}

/**
 * HashML-DSA.Verify (FIPS 204 Algorithm 5) with the pre-hash already applied. Like pure verify,
 * a malformed signature or public key is just `false`; a bad request (unknown `hashAlgorithm`,
 * wrong `hash` length, `context` over 255 bytes) throws, naming the argument, because that is
 * the caller's mistake rather than a property of the signature.
 */
export function hashMlDsaVerify(args: {
  publicKey: Uint8Array;
  hashAlgorithm: HashMlDsaAlgorithm;
  hash: Uint8Array;
  signature: Uint8Array;
  context?: Uint8Array;
}): boolean {
  const { publicKey, hashAlgorithm, hash, signature, context } = args;
  const message = encodeHashMlDsaMessage(hashAlgorithm, hash, context);
  if (!isVerifiable(signature, message, publicKey, undefined)) return false;
  try {
    return ml_dsa65.internal.verify(signature, message, publicKey);
  } catch {
    // Malformed encodings (e.g. hint vectors, FIPS 204 Algorithm 21) are just invalid signatures.
    return false;
  }
}
