/**
 * Offline helpers that need no key store: seal to a published KEM key (ML-KEM-768 or X-Wing),
 * verify against a published signature key (ML-DSA-65 or the ML-DSA-65 + ECDSA P-256
 * composite). The key's SPKI says which algorithm. They take the REST API's wire shapes
 * (snake_case fields, strict base64 strings) so a value copied from an API response works as is;
 * raw bytes are accepted too. A ciphertext from `sealWithPublicKey` is the format `kem/encrypt`
 * returns for that algorithm (v1 for ML-KEM-768, v2 for X-Wing, ./format.ts), so the service
 * decrypts it with that key_version; a kem_ciphertext from `encapsulateWithPublicKey`
 * decapsulates through `kem/decapsulate`, and a `sign-hash` signature verifies with
 * `verifyHashWithPublicKey` (both ML-KEM-768 / ML-DSA-65 only, and synchronous).
 *
 * Both are async: the hybrids' code is loaded on first use (./algorithm-primitives.ts), so an
 * app that only meets ML-KEM / ML-DSA keys never downloads it.
 *
 * Bad arguments throw (reject with) TypeError/RangeError naming the field. A signature that
 * does not verify, has the wrong length or is empty is just `false`.
 * @module
 */
import { base64ToBytes, bytesToBase64 } from '../encoding.js';
import { ALGORITHM_TABLE, factsOfKind, isKeyVersion, type KemFacts, type SignatureFacts } from '../contract/algorithms.js';
import { loadSigner } from './algorithm-primitives.js';
import { type CiphertextKem, sealCiphertext } from './format.js';
import { HASH_ML_DSA_ALGORITHMS, type HashMlDsaAlgorithm, hashMlDsaVerify } from './hash-ml-dsa.js';
import { kemEncapsulate } from './kem.js';
import { nobleProvider } from './primitives.js';
import { decodeSpki } from './spki.js';

const KEMS = factsOfKind('kem');
const SIGNERS = factsOfKind('signature');

/** Strings are the wire form (strict padded base64, RFC 4648 §4); bytes pass through. */
function binaryField(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    const bytes = base64ToBytes(value);
    if (bytes === undefined) throw new TypeError(`"${name}" must be standard padded base64`);
    return bytes;
  }
  throw new TypeError(`"${name}" must be a base64 string or a Uint8Array`);
}

/** The raw key and the table row of a DER SPKI of one of `rows` (the SPKI's OID decides). */
function publicKeyField<F extends KemFacts | SignatureFacts>(value: unknown, rows: readonly F[]): { publicKey: Uint8Array; facts: F } {
  const spki = decodeSpki(binaryField(value, 'public_key'));
  const facts = rows.find((f) => f.standard === spki?.algorithm);
  if (spki === undefined || facts === undefined) {
    throw new TypeError(`"public_key" must be the DER SubjectPublicKeyInfo of a ${rows.map((f) => f.standard).join(' or ')} key`);
  }
  return { publicKey: spki.publicKey, facts };
}

/** Seals to a `public_key` from `GET /kms/keys/...` and returns the base64 ciphertext. */
export async function sealWithPublicKey(input: {
  public_key: string | Uint8Array;
  key_version: number;
  plaintext: string | Uint8Array;
  aad?: string | Uint8Array;
}): Promise<string> {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const { publicKey, facts } = publicKeyField(input.public_key, KEMS);
  const keyVersion = input.key_version;
  if (!isKeyVersion(keyVersion)) {
    throw new RangeError('"key_version" must be an integer in 1..2^32-1');
  }
  const plaintext = binaryField(input.plaintext, 'plaintext');
  const aad = input.aad === undefined ? new Uint8Array(0) : binaryField(input.aad, 'aad');
  let ciphertext: Uint8Array;
  try {
    const kem = facts.standard as CiphertextKem;
    ciphertext = await sealCiphertext({ kem, publicKey, keyVersion, plaintext, aad, provider: nobleProvider });
  } catch (cause) {
    // The only argument-dependent failure left is the public key check (FIPS 203 §7.2; X25519 low order).
    if (cause instanceof RangeError) {
      throw new TypeError(`"public_key" is not a valid ${facts.standard} public key`, { cause });
    }
    throw cause;
  }
  return bytesToBase64(ciphertext);
}

/**
 * Verifies a pure ML-DSA-65 signature (FIPS 204 Algorithm 3) or a composite one (both halves
 * must verify, draft-ietf-lamps-pq-composite-sigs) with an optional context.
 */
export async function verifyWithPublicKey(input: {
  public_key: string | Uint8Array;
  message: string | Uint8Array;
  signature: string | Uint8Array;
  context?: string | Uint8Array;
}): Promise<boolean> {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const { publicKey, facts } = publicKeyField(input.public_key, SIGNERS);
  const message = binaryField(input.message, 'message');
  const signature = binaryField(input.signature, 'signature');
  const context = input.context === undefined ? undefined : binaryField(input.context, 'context');
  if (context !== undefined && context.length > facts.sizes.context) {
    throw new RangeError(`"context" must be ${facts.sizes.context} bytes or less`);
  }
  const signer = await loadSigner(nobleProvider, facts);
  return signer.verify(signature, message, publicKey, context === undefined ? {} : { context });
}

/**
 * Raw ML-KEM-768 encapsulation (FIPS 203 Algorithm 20) to a `public_key` from the API: the
 * 1088-byte `kem_ciphertext` to send to the key's holder and the 32-byte `shared_secret`, base64.
 */
export function encapsulateWithPublicKey(input: { public_key: string | Uint8Array }): { kem_ciphertext: string; shared_secret: string } {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const { publicKey } = publicKeyField(input.public_key, [ALGORITHM_TABLE.Kyber768]);
  let result: { kemCiphertext: Uint8Array; sharedSecret: Uint8Array };
  try {
    result = kemEncapsulate({ publicKey, provider: nobleProvider });
  } catch (cause) {
    throw new TypeError('"public_key" is not a valid ML-KEM-768 encapsulation key', { cause });
  }
  const answer = { kem_ciphertext: bytesToBase64(result.kemCiphertext), shared_secret: bytesToBase64(result.sharedSecret) };
  result.sharedSecret.fill(0);
  return answer;
}

/**
 * Verifies a HashML-DSA-65 signature (FIPS 204 Algorithm 5) over a digest, as `sign-hash` makes
 * them. A `hash_algorithm` other than SHA-256/384/512 or a `hash` of the wrong length throws,
 * naming the field; a signature that does not verify is `false`.
 */
export function verifyHashWithPublicKey(input: {
  public_key: string | Uint8Array;
  hash: string | Uint8Array;
  hash_algorithm: HashMlDsaAlgorithm;
  signature: string | Uint8Array;
  context?: string | Uint8Array;
}): boolean {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const { publicKey, facts: DSA } = publicKeyField(input.public_key, [ALGORITHM_TABLE.Dilithium3]);
  const hashAlgorithm = input.hash_algorithm;
  if (typeof hashAlgorithm !== 'string' || !Object.hasOwn(HASH_ML_DSA_ALGORITHMS, hashAlgorithm)) {
    throw new TypeError(`"hash_algorithm" must be one of ${Object.keys(HASH_ML_DSA_ALGORITHMS).join(', ')}`);
  }
  const hash = binaryField(input.hash, 'hash');
  const { digestLength } = HASH_ML_DSA_ALGORITHMS[hashAlgorithm];
  if (hash.length !== digestLength) throw new RangeError(`"hash" must be ${digestLength} bytes for ${hashAlgorithm}, got ${hash.length}`);
  const signature = binaryField(input.signature, 'signature');
  const context = input.context === undefined ? undefined : binaryField(input.context, 'context');
  if (context !== undefined && context.length > DSA.sizes.context) {
    throw new RangeError(`"context" must be ${DSA.sizes.context} bytes or less`);
  }
  return hashMlDsaVerify({ publicKey, hashAlgorithm, hash, signature, ...(context === undefined ? {} : { context }) });
}
