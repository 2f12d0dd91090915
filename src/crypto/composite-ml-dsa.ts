/**
 * Composite signature id-MLDSA65-ECDSA-P256-SHA512 (draft-ietf-lamps-pq-composite-sigs-19):
 * ML-DSA-65 and ECDSA P-256 over one message representative, valid only if both halves are.
 *
 *   M′        = Prefix ‖ Label ‖ len(ctx) (1 byte) ‖ ctx ‖ SHA-512(M)
 *               Prefix = "CompositeAlgorithmSignatures2025", Label = "COMPSIG-MLDSA65-ECDSA-P256-SHA512"
 *   mldsaSig  = ML-DSA-65.Sign(sk_M, M′, ctx = Label)          (pure ML-DSA, FIPS 204 Algorithm 2)
 *   ecdsaSig  = ECDSA-P256-SHA256.Sign(sk_E, M′), DER Ecdsa-Sig-Value (RFC 3279 §2.2.3)
 *   signature = mldsaSig (3309) ‖ ecdsaSig (8..72)
 *   publicKey = mldsaPK (1952) ‖ uncompressed P-256 point (65, leading 0x04)        = 2017 bytes
 *
 * The pre-hash form (`compositeSignDigest` / `compositeVerifyDigest`) takes SHA-512(M) from the
 * caller; since the draft hashes M itself, signing the digest gives the same M′ and therefore a
 * signature that verifies against M, and the other way round.
 *
 * Private keys. The draft's private key is ML-DSA seed (32) ‖ DER RFC 5915 ECPrivateKey (51),
 * 83 bytes. Qpher keys store one 32-byte seed per key instead; both halves derive from it
 * (docs/algorithms.md has the argument):
 *   ξ   = SHAKE256("qpher/v1 composite MLDSA65-ECDSA-P256-SHA512 ML-DSA-65 seed" ‖ seed, 32)
 *   d   = P-256 secret key from SHAKE256("qpher/v1 composite MLDSA65-ECDSA-P256-SHA512 P-256 key" ‖ seed, 48)
 *         by `p256.utils.randomSecretKey` = (x mod (n − 1)) + 1 over the 48-byte x (FIPS 186-5 A.2.1)
 * Every signing function takes either form; `compositeSecretKeyFromSeed` converts seed → draft
 * form (for export); the converse does not exist, because the derivation is one-way. A third
 * form, never exported, saves the derivation on each signature for a holder that keeps it (the
 * engine's key cache): `compositeExpandSecretKey` gives the provider's expanded ML-DSA-65 secret
 * key (4032, FIPS 204 skEncode) ‖ d (32) = 4064 bytes.
 *
 * Verification accepts high-S ECDSA halves (X9.62 does, and the draft's vectors contain one);
 * signing produces low-S. The DER of the ECDSA half must be exact (noble refuses BER and
 * trailing bytes). Malformed input of any kind is `false`, never an exception.
 * @module
 */
import { p256 } from '@noble/curves/nist.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ALGORITHM_TABLE } from '../contract/algorithms.js';
import { ML_DSA_65, nobleProvider, type PrimitiveProvider, requireBytes } from './primitives.js';

const ROW = ALGORITHM_TABLE['Composite-ML-DSA'];

/**
 * Facts of id-MLDSA65-ECDSA-P256-SHA512 (draft-ietf-lamps-pq-composite-sigs-19 §7) in this
 * module's words: sizes and OID from the algorithm table's `Composite-ML-DSA` row, plus what only
 * this construction has (its label, the draft's private-key form, the SHA-512 digest).
 */
export const COMPOSITE_MLDSA65_P256 = {
  name: ROW.standard,
  oid: ROW.oid,
  label: 'COMPSIG-MLDSA65-ECDSA-P256-SHA512',
  /** Qpher's single seed. */
  seedLength: ROW.sizes.seed,
  /** The draft's private key: ML-DSA seed ‖ DER ECPrivateKey. */
  draftSecretKeyLength: ML_DSA_65.seedLength + 51,
  /** Expanded ML-DSA-65 secret key ‖ P-256 scalar (see the module comment). */
  expandedSecretKeyLength: ROW.sizes.secretKey,
  publicKeyLength: ROW.sizes.publicKey,
  /** 3309 + the shortest (8) and longest (72) DER ECDSA P-256 signature. */
  minSignatureLength: ROW.sizes.minSignature,
  maxSignatureLength: ROW.sizes.signature,
  digestLength: 64,
  maxContextLength: ROW.sizes.context,
} as const;

const C = COMPOSITE_MLDSA65_P256;
const PREFIX = utf8ToBytes('CompositeAlgorithmSignatures2025');
const LABEL = utf8ToBytes(C.label);
const MLDSA_SEED_DOMAIN = utf8ToBytes('qpher/v1 composite MLDSA65-ECDSA-P256-SHA512 ML-DSA-65 seed');
const P256_KEY_DOMAIN = utf8ToBytes('qpher/v1 composite MLDSA65-ECDSA-P256-SHA512 P-256 key');
// RFC 5915 ECPrivateKey { version 1, privateKey OCTET STRING (32), [0] namedCurve secp256r1 }, no publicKey.
const EC_PRIVATE_KEY_PREFIX = hexToBytes('30310201010420');
const EC_PRIVATE_KEY_SUFFIX = hexToBytes('a00a06082a8648ce3d030107');

export interface CompositeOptions {
  /** The composite ctx, at most 255 bytes (empty when absent). */
  context?: Uint8Array;
  provider?: PrimitiveProvider;
}

export interface CompositeSignOptions extends CompositeOptions {
  /**
   * Default: hedged (fresh ML-DSA rnd, RFC 6979 nonce with extra entropy for ECDSA).
   * `false`: deterministic (ML-DSA rnd = 0^32, plain RFC 6979), for known-answer tests.
   */
  randomness?: false;
}

interface Halves {
  mldsaSeed: Uint8Array;
  ecdsaSecretKey: Uint8Array;
}

/** The two component secret keys from either private-key form. */
function halves(secretKey: Uint8Array): Halves {
  requireBytes(secretKey, 'secretKey');
  if (secretKey.length === C.seedLength) {
    return {
      mldsaSeed: shake256(concatBytes(MLDSA_SEED_DOMAIN, secretKey), { dkLen: ML_DSA_65.seedLength }),
      ecdsaSecretKey: p256.utils.randomSecretKey(shake256(concatBytes(P256_KEY_DOMAIN, secretKey), { dkLen: p256.lengths.seed! })),
    };
  }
  if (secretKey.length === C.draftSecretKeyLength) {
    const der = secretKey.subarray(ML_DSA_65.seedLength);
    const prefixOk = EC_PRIVATE_KEY_PREFIX.every((b, i) => der[i] === b);
    const suffixOk = EC_PRIVATE_KEY_SUFFIX.every((b, i) => der[EC_PRIVATE_KEY_PREFIX.length + 32 + i] === b);
    const d = der.slice(EC_PRIVATE_KEY_PREFIX.length, EC_PRIVATE_KEY_PREFIX.length + 32);
    if (!prefixOk || !suffixOk || !p256.utils.isValidSecretKey(d)) {
      throw new TypeError('"secretKey" is not ML-DSA seed ‖ DER ECPrivateKey (RFC 5915, secp256r1, no public key)');
    }
    return { mldsaSeed: secretKey.slice(0, ML_DSA_65.seedLength), ecdsaSecretKey: d };
  }
  throw new RangeError(`"secretKey" must be the ${C.seedLength}-byte seed or the ${C.draftSecretKeyLength}-byte draft private key`);
}

function wipe(h: Halves): void {
  h.mldsaSeed.fill(0);
  h.ecdsaSecretKey.fill(0);
}

/**
 * The draft's private key (ML-DSA seed ‖ DER ECPrivateKey, 83 bytes) for a 32-byte Qpher seed,
 * e.g. to export a key into a PKCS#8 OneAsymmetricKey of the composite OID.
 */
export function compositeSecretKeyFromSeed(seed: Uint8Array): Uint8Array {
  requireBytes(seed, 'seed', C.seedLength);
  const h = halves(seed);
  const out = concatBytes(h.mldsaSeed, EC_PRIVATE_KEY_PREFIX, h.ecdsaSecretKey, EC_PRIVATE_KEY_SUFFIX);
  wipe(h);
  return out;
}

/** The expanded form (see the module comment) of a seed or a draft private key. */
export function compositeExpandSecretKey(secretKey: Uint8Array, provider: PrimitiveProvider = nobleProvider): Uint8Array {
  return compositeKeygenExpanded(secretKey, provider).secretKey;
}

/** The public key and the expanded secret key, from one ML-DSA-65 key generation. */
export function compositeKeygenExpanded(
  secretKey: Uint8Array,
  provider: PrimitiveProvider = nobleProvider,
): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const h = halves(secretKey);
  const { publicKey: mldsaPk, secretKey: mldsaSk } = provider.mlDsa65.keygen(h.mldsaSeed);
  const out = {
    publicKey: concatBytes(mldsaPk, p256.getPublicKey(h.ecdsaSecretKey, false)),
    secretKey: concatBytes(mldsaSk, h.ecdsaSecretKey),
  };
  mldsaSk.fill(0);
  wipe(h);
  return out;
}

/** The component signing keys; `owned` ones were derived here and are wiped after use. */
function signingKeys(secretKey: Uint8Array, provider: PrimitiveProvider): { mldsa: Uint8Array; ecdsa: Uint8Array; owned: boolean } {
  if (secretKey instanceof Uint8Array && secretKey.length === C.expandedSecretKeyLength) {
    const ecdsa = secretKey.subarray(C.expandedSecretKeyLength - 32);
    if (!p256.utils.isValidSecretKey(ecdsa)) throw new TypeError('"secretKey" is not an expanded composite secret key');
    return { mldsa: secretKey.subarray(0, C.expandedSecretKeyLength - 32), ecdsa, owned: false };
  }
  if (secretKey instanceof Uint8Array && secretKey.length !== C.seedLength && secretKey.length !== C.draftSecretKeyLength) {
    throw new RangeError(
      `"secretKey" must be the ${C.seedLength}-byte seed, the ${C.draftSecretKeyLength}-byte draft private key or the ${C.expandedSecretKeyLength}-byte expanded key`,
    );
  }
  const h = halves(secretKey);
  const { secretKey: mldsa } = provider.mlDsa65.keygen(h.mldsaSeed);
  h.mldsaSeed.fill(0);
  return { mldsa, ecdsa: h.ecdsaSecretKey, owned: true };
}

/** The 2017-byte public key for a private key in either form. */
export function compositeKeygen(secretKey: Uint8Array, provider: PrimitiveProvider = nobleProvider): { publicKey: Uint8Array } {
  const h = halves(secretKey);
  const { publicKey: mldsaPk, secretKey: expanded } = provider.mlDsa65.keygen(h.mldsaSeed);
  expanded.fill(0);
  const publicKey = concatBytes(mldsaPk, p256.getPublicKey(h.ecdsaSecretKey, false));
  wipe(h);
  return { publicKey };
}

function requireContext(context: Uint8Array | undefined): Uint8Array {
  if (context === undefined) return new Uint8Array(0);
  requireBytes(context, 'context');
  if (context.length > C.maxContextLength) throw new RangeError(`"context" must be ${C.maxContextLength} bytes or less`);
  return context;
}

/** M′ = Prefix ‖ Label ‖ len(ctx) ‖ ctx ‖ digest, where digest = SHA-512(M) (draft §4.2). */
export function compositeMessageRepresentative(digest: Uint8Array, context?: Uint8Array): Uint8Array {
  requireBytes(digest, 'digest', C.digestLength);
  const ctx = requireContext(context);
  return concatBytes(PREFIX, LABEL, Uint8Array.of(ctx.length), ctx, digest);
}

/** Signs SHA-512(message): the draft's composite Sign (§4.2). */
export function compositeSign(message: Uint8Array, secretKey: Uint8Array, opts: CompositeSignOptions = {}): Uint8Array {
  requireBytes(message, 'message');
  return compositeSignDigest(sha512(message), secretKey, opts);
}

/**
 * The pre-hash form: `digest` is SHA-512(M), computed by the caller. Gives a signature that
 * `compositeVerify` accepts for M.
 */
export function compositeSignDigest(digest: Uint8Array, secretKey: Uint8Array, opts: CompositeSignOptions = {}): Uint8Array {
  const { provider = nobleProvider, randomness } = opts;
  if (randomness !== undefined && randomness !== false) throw new TypeError('"randomness" must be false or absent');
  const mPrime = compositeMessageRepresentative(digest, opts.context);
  const keys = signingKeys(secretKey, provider);
  try {
    const mldsaSig = provider.mlDsa65.sign(mPrime, keys.mldsa, { context: LABEL, ...(randomness === false && { randomness: false }) });
    // p256.sign hashes M′ with SHA-256 (ecdsa-with-SHA256) and returns low-S by default.
    const ecdsaSig = p256.sign(mPrime, keys.ecdsa, { format: 'der', lowS: true, extraEntropy: randomness !== false });
    return concatBytes(mldsaSig, ecdsaSig);
  } finally {
    if (keys.owned) {
      keys.mldsa.fill(0);
      keys.ecdsa.fill(0);
    }
  }
}

/** Verifies against M (hashing it with SHA-512). Never throws on malformed input: `false`. */
export function compositeVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, opts: CompositeOptions = {}): boolean {
  if (!(message instanceof Uint8Array)) return false;
  return compositeVerifyDigest(signature, sha512(message), publicKey, opts);
}

/** Verifies against a caller-supplied SHA-512(M). Never throws on malformed input: `false`. */
export function compositeVerifyDigest(
  signature: Uint8Array,
  digest: Uint8Array,
  publicKey: Uint8Array,
  opts: CompositeOptions = {},
): boolean {
  const { provider = nobleProvider, context } = opts;
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array) || !(digest instanceof Uint8Array)) return false;
  if (digest.length !== C.digestLength || publicKey.length !== C.publicKeyLength) return false;
  if (signature.length < C.minSignatureLength || signature.length > C.maxSignatureLength) return false;
  if (context !== undefined && (!(context instanceof Uint8Array) || context.length > C.maxContextLength)) return false;
  const ecdsaPk = publicKey.subarray(ML_DSA_65.publicKeyLength);
  if (ecdsaPk[0] !== 0x04) return false; // the draft fixes the uncompressed point
  const mPrime = compositeMessageRepresentative(digest, context);
  // Both halves are always evaluated; the result is their conjunction.
  const mldsaOk = provider.mlDsa65.verify(
    signature.subarray(0, ML_DSA_65.signatureLength),
    mPrime,
    publicKey.subarray(0, ML_DSA_65.publicKeyLength),
    { context: LABEL },
  );
  let ecdsaOk = false;
  try {
    // lowS: false — X9.62 verification accepts both s and n − s.
    ecdsaOk = p256.verify(signature.subarray(ML_DSA_65.signatureLength), mPrime, ecdsaPk, { format: 'der', lowS: false });
  } catch {
    ecdsaOk = false; // invalid point or DER
  }
  return mldsaOk && ecdsaOk;
}
