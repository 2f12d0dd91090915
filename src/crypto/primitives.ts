/**
 * Primitive provider: the small surface of ML-KEM-768 (FIPS 203) and ML-DSA-65 (FIPS 204)
 * that the rest of Qpher uses. Everything above this file talks to a `PrimitiveProvider`: noble
 * (here, the default), `native` (providers/native.ts, node:crypto on Node 24+) or `wasm`
 * (providers/wasm.ts, liboqs), picked with `selectProvider()` (select-provider.ts); see
 * docs/performance.md.
 *
 * The default provider wraps `@noble/post-quantum` (pure TypeScript, audited, runs in browsers,
 * workers and Node). Keys are derived from seeds only (FIPS 203 ML-KEM.KeyGen_internal(d, z),
 * FIPS 204 ML-DSA.KeyGen_internal(ξ)), because seeds are what the key stores keep.
 *
 * Caveats:
 * - `secretKey` in a `KeyPair` is the provider's expanded form (`sizes.secretKey` in the
 *   algorithm table). Persist the seed, not the expanded key.
 * - `decapsulate` follows FIPS 203 implicit rejection: a wrong ciphertext of the right length
 *   yields a pseudorandom secret, never an error. Wrong lengths and a failed H(ek) check throw.
 * @module
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768, type KEMPrepared } from '@noble/post-quantum/ml-kem.js';
import { equalBytes } from '@noble/post-quantum/utils.js';
import { ALGORITHM_TABLE } from '../contract/algorithms.js';

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface MlKem768 {
  readonly name: string;
  /** seed = d‖z, 64 bytes (FIPS 203 Algorithm 16, ML-KEM.KeyGen_internal). */
  keygen(seed: Uint8Array): KeyPair;
  /** randomness = the 32-byte message m of FIPS 203 Algorithm 17; random when omitted. */
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

export interface MlDsa65 {
  readonly name: string;
  /** ξ, 32 bytes (FIPS 204 Algorithm 6, ML-DSA.KeyGen_internal). */
  keygen(seed: Uint8Array): KeyPair;
  /**
   * Pure ML-DSA (FIPS 204 Algorithm 2). Hedged by default (fresh 32-byte rnd);
   * `randomness: false` is the deterministic variant (rnd = 0^32, FIPS 204 §3.4).
   */
  sign(message: Uint8Array, secretKey: Uint8Array, opts?: { context?: Uint8Array; randomness?: Uint8Array | false }): Uint8Array;
  /** Never throws: malformed lengths or a context over 255 bytes give `false`. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, opts?: { context?: Uint8Array }): boolean;
}

/**
 * Synchronous AES-256-GCM with a 16-byte tag appended (RFC 9180 AEAD 0x0002), for providers that
 * have one (native: node:crypto). HPKE uses WebCrypto when a provider has none.
 */
export interface Aes256Gcm {
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws when the tag does not verify. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export interface PrimitiveProvider {
  readonly name: string;
  mlKem768: MlKem768;
  mlDsa65: MlDsa65;
  /** Optional: HPKE's AEAD without WebCrypto's async round trips (same bytes). */
  aes256Gcm?: Aes256Gcm;
  /** Optional: HMAC-SHA256 (RFC 2104) of the concatenated messages, for HPKE's HKDF; `@noble/hashes` when absent (same bytes). */
  hmacSha256?(key: Uint8Array, ...messages: Uint8Array[]): Uint8Array;
}

const KEM_SIZES = ALGORITHM_TABLE.Kyber768.sizes;
const DSA_SIZES = ALGORITHM_TABLE.Dilithium3.sizes;

/** ML-KEM-768 sizes in the providers' words, from the algorithm table (src/contract/algorithms.ts). */
export const ML_KEM_768 = {
  seedLength: KEM_SIZES.seed,
  publicKeyLength: KEM_SIZES.publicKey,
  secretKeyLength: KEM_SIZES.secretKey,
  cipherTextLength: KEM_SIZES.ciphertext,
  sharedSecretLength: KEM_SIZES.sharedSecret,
} as const;

/** ML-DSA-65 sizes in the providers' words, from the algorithm table. */
export const ML_DSA_65 = {
  seedLength: DSA_SIZES.seed,
  publicKeyLength: DSA_SIZES.publicKey,
  secretKeyLength: DSA_SIZES.secretKey,
  signatureLength: DSA_SIZES.signature,
  maxContextLength: DSA_SIZES.context,
} as const;

const ENCAPSULATION_RANDOMNESS_LENGTH = KEM_SIZES.encapRandomness; // FIPS 203 Algorithm 17: m ∈ B^32
const SIGNING_RANDOMNESS_LENGTH = 32; // FIPS 204 Algorithm 2: rnd ∈ B^32

/**
 * What every provider's `verify` checks before doing any work: byte arrays of the right lengths
 * and a context of at most 255 bytes. Anything else is an invalid signature (`false`), not an error.
 */
export function isVerifiable(signature: unknown, message: unknown, publicKey: unknown, context: unknown): boolean {
  return (
    signature instanceof Uint8Array &&
    signature.length === ML_DSA_65.signatureLength &&
    publicKey instanceof Uint8Array &&
    publicKey.length === ML_DSA_65.publicKeyLength &&
    message instanceof Uint8Array &&
    (context === undefined || (context instanceof Uint8Array && context.length <= ML_DSA_65.maxContextLength))
  );
}

/** Argument check shared by every provider: a TypeError or RangeError naming the argument. */
export function requireBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`"${name}" must be ${length} bytes, got ${value.length}`);
  }
}

/**
 * noble's prepared keys cache the expanded matrix Â and the checked encapsulation key, which
 * halves the cost of every later encapsulation and decapsulation under the same key. The engine
 * keeps one Uint8Array per key version, so a cache keyed by that object hits on every call; the
 * byte comparison makes a stale entry (an array mutated after use) impossible to hit.
 */
const PREPARED = new WeakMap<Uint8Array, KEMPrepared>();
// FIPS 203 Table 3: dk = dk_PKE ‖ ek ‖ H(ek) ‖ z, with dk_PKE of 384·k = 1152 bytes for k = 3
const EK_OFFSET = 1152;

function prepared(cacheKey: Uint8Array, encapsulationKey: Uint8Array): KEMPrepared {
  let entry = PREPARED.get(cacheKey);
  if (!entry || !equalBytes(entry.publicKey, encapsulationKey)) {
    entry = ml_kem768.prepare(encapsulationKey) as KEMPrepared; // runs the FIPS 203 §7.2 modulus check
    PREPARED.set(cacheKey, entry);
  }
  return entry;
}

const nobleMlKem768: MlKem768 = Object.freeze({
  name: 'noble',
  keygen(seed: Uint8Array): KeyPair {
    requireBytes(seed, 'seed', ML_KEM_768.seedLength);
    const { publicKey, secretKey } = ml_kem768.keygen(seed);
    return { publicKey, secretKey };
  },
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array) {
    requireBytes(publicKey, 'publicKey', ML_KEM_768.publicKeyLength);
    if (randomness !== undefined) requireBytes(randomness, 'randomness', ENCAPSULATION_RANDOMNESS_LENGTH);
    // noble runs the FIPS 203 §7.2 encapsulation-key (modulus) check and throws on failure.
    const { cipherText, sharedSecret } =
      randomness === undefined ? prepared(publicKey, publicKey).encapsulate() : prepared(publicKey, publicKey).encapsulate(randomness);
    return { cipherText, sharedSecret };
  },
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    requireBytes(cipherText, 'cipherText', ML_KEM_768.cipherTextLength);
    requireBytes(secretKey, 'secretKey');
    // noble checks the dk length and the H(ek) hash check of FIPS 203 §7.3, then decapsulates
    // with implicit rejection.
    if (secretKey.length !== ML_KEM_768.secretKeyLength) return ml_kem768.decapsulate(cipherText, secretKey); // noble throws
    return prepared(secretKey, secretKey.subarray(EK_OFFSET, EK_OFFSET + ML_KEM_768.publicKeyLength)).decapsulate(cipherText, secretKey);
  },
});

const nobleMlDsa65: MlDsa65 = Object.freeze({
  name: 'noble',
  keygen(seed: Uint8Array): KeyPair {
    requireBytes(seed, 'seed', ML_DSA_65.seedLength);
    const { publicKey, secretKey } = ml_dsa65.keygen(seed);
    return { publicKey, secretKey };
  },
  sign(message: Uint8Array, secretKey: Uint8Array, opts: { context?: Uint8Array; randomness?: Uint8Array | false } = {}): Uint8Array {
    requireBytes(message, 'message');
    requireBytes(secretKey, 'secretKey');
    const { context, randomness } = opts;
    // noble rejects unknown option keys, so only forward the ones that are set.
    const nobleOpts: { context?: Uint8Array; extraEntropy?: Uint8Array | false } = {};
    if (context !== undefined) {
      requireBytes(context, 'context');
      if (context.length > ML_DSA_65.maxContextLength) {
        throw new RangeError(`"context" must be ${ML_DSA_65.maxContextLength} bytes or less`);
      }
      nobleOpts.context = context;
    }
    if (randomness !== undefined) {
      if (randomness !== false) requireBytes(randomness, 'randomness', SIGNING_RANDOMNESS_LENGTH);
      nobleOpts.extraEntropy = randomness;
    }
    // extraEntropy undefined -> noble draws rnd from the CSPRNG (hedged, FIPS 204 §3.4).
    return ml_dsa65.sign(message, secretKey, nobleOpts);
  },
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, opts: { context?: Uint8Array } = {}) {
    try {
      if (!isVerifiable(signature, message, publicKey, opts.context)) return false;
      const { context } = opts;
      return context === undefined
        ? ml_dsa65.verify(signature, message, publicKey)
        : ml_dsa65.verify(signature, message, publicKey, { context });
    } catch {
      // Malformed encodings (e.g. hint vectors, FIPS 204 Algorithm 21) are just invalid signatures.
      return false;
    }
  },
});

/** The default provider: `@noble/post-quantum`. */
export const nobleProvider: PrimitiveProvider = Object.freeze({
  name: 'noble',
  mlKem768: nobleMlKem768,
  mlDsa65: nobleMlDsa65,
});
