/**
 * The handlers of the raw operations (docs/crypto-operations.md): KEM encapsulate and
 * decapsulate and key wrap and unwrap (ML-KEM-768, X-Wing), sign-hash and verify-hash (HashML-DSA,
 * and the composite over its SHA-512 pre-hash). The engine loads this
 * module on the first such call (a dynamic import), so a browser app that never makes one does
 * not download it with the Worker (docs/bundles.md). The rules are the engine's: the key version
 * must exist before anything about a ciphertext or wrapped key is looked at (404 ERR_KEM_005),
 * then its lifecycle state decides, as for encrypt/decrypt and sign/verify.
 * @module
 */
import { type AlgorithmFacts, algorithmsFor, factsOf, type Algorithm, type KemFacts } from '../contract/algorithms.js';
import type { Requests, Responses } from '../contract/schemas.js';
import type { HashMlDsaAlgorithm } from '../crypto/hash-algorithms.js';
import { parseWrappedKeyHeader } from '../crypto/key-wrap-header.js';
import { bytesToBase64, decodeCheckedBase64 } from '../encoding.js';
import { QpherError, ValidationError } from '../errors.js';
import type { StoredKey } from '../stores/keystore.js';
import type { CryptoRunner, HashArgs } from './crypto-runner.js';
import type { Caller } from './engine.js';
import type { KeyMaterial } from './key-material.js';
import * as lifecycle from './lifecycle.js';

/** What these handlers use of the engine: its key lookup, key material and crypto runner. */
export interface RawContext {
  find(caller: Caller, algorithm: Algorithm, version: number): Promise<StoredKey>;
  keys: KeyMaterial;
  crypto: CryptoRunner;
}

/** Decodes a field the schema already checked. */
const decode = decodeCheckedBase64;

/** Every unwrap failure about the wrapped key reads the same (src/crypto/key-wrap.ts). */
const UNWRAP_FAILED = 'Unwrap failed';

export async function encapsulate(
  ctx: RawContext,
  caller: Caller,
  req: Requests['kem.encapsulate'],
): Promise<Responses['kem.encapsulate']> {
  const algorithm = req.algorithm ?? algorithmsFor('kem.encapsulate')[0];
  const stored = await ctx.find(caller, algorithm, req.key_version);
  lifecycle.assertUsable(stored, 'encrypt');
  const key = ctx.keys.publicRef(caller.tenant, algorithm, stored);
  const { kemCiphertext, sharedSecret } = await ctx.crypto.encapsulate(key);
  return {
    kem_ciphertext: bytesToBase64(kemCiphertext),
    shared_secret: bytesToBase64(sharedSecret),
    key_version: stored.key_version,
    algorithm,
  };
}

export async function decapsulate(
  ctx: RawContext,
  caller: Caller,
  req: Requests['kem.decapsulate'],
): Promise<Responses['kem.decapsulate']> {
  const algorithm = req.algorithm ?? algorithmsFor('kem.decapsulate')[0];
  // As decrypt: the version must exist before anything about the ciphertext is looked at.
  const stored = await ctx.find(caller, algorithm, req.key_version);
  const kemCiphertext = decode(req.kem_ciphertext);
  const expected = kemFacts(algorithm).sizes.ciphertext;
  if (kemCiphertext.length !== expected) {
    throw new ValidationError(`Validation failed: kem_ciphertext must be ${expected} bytes for ${algorithm}, got ${kemCiphertext.length}`);
  }
  lifecycle.assertUsable(stored, 'decrypt');
  const key = await ctx.keys.ref(caller.tenant, algorithm, stored);
  // No "wrong ciphertext" outcome for ML-KEM: FIPS 203 implicit rejection answers a pseudorandom
  // secret. X-Wing's ML-KEM half does the same; its X25519 half is refused when it is a low-order
  // point (an all-zero X25519 secret, src/crypto/xwing.ts), which anyone can see in the public bytes.
  let sharedSecret: Uint8Array;
  try {
    sharedSecret = await ctx.crypto.decapsulate(key, kemCiphertext);
  } catch (error) {
    if (error instanceof QpherError || factsOf(algorithm).primitive !== 'xWing') throw error;
    throw new ValidationError('Validation failed: kem_ciphertext is not a valid X-Wing ciphertext (its X25519 part is a low-order point)');
  }
  return { shared_secret: bytesToBase64(sharedSecret), key_version: stored.key_version, algorithm };
}

export async function wrapKey(ctx: RawContext, caller: Caller, req: Requests['kem.wrapKey']): Promise<Responses['kem.wrapKey']> {
  const algorithm = req.algorithm ?? algorithmsFor('kem.wrapKey')[0];
  const stored = await ctx.find(caller, algorithm, req.key_version);
  lifecycle.assertUsable(stored, 'encrypt');
  const key = ctx.keys.publicRef(caller.tenant, algorithm, stored);
  const wrapped = await ctx.crypto.wrapKey(key, { keyVersion: stored.key_version, symmetricKey: decode(req.symmetric_key) });
  return { wrapped_key: bytesToBase64(wrapped), key_version: stored.key_version, algorithm, wrapping_method: 'KEM-DEM' as const };
}

export async function unwrapKey(ctx: RawContext, caller: Caller, req: Requests['kem.unwrapKey']): Promise<Responses['kem.unwrapKey']> {
  const algorithm = req.algorithm ?? algorithmsFor('kem.unwrapKey')[0];
  const stored = await ctx.find(caller, algorithm, req.key_version);
  const wrappedKey = decode(req.wrapped_key);
  // A ciphertext (type byte 0x00/0x01) or any other shape is not a wrapped key: one failure. A
  // wrapped key of another KEM than the key's fails in the unwrap itself, as decrypt does.
  const header = parseWrappedKeyHeader(wrappedKey);
  if (!header) throw new ValidationError(UNWRAP_FAILED);
  if (header.keyVersion !== req.key_version) {
    throw new ValidationError(
      `Validation failed: wrapped_key was wrapped with key_version ${header.keyVersion}, but key_version ${req.key_version} was given`,
    );
  }
  lifecycle.assertUsable(stored, 'decrypt');
  const key = await ctx.keys.ref(caller.tenant, algorithm, stored);
  try {
    const symmetricKey = await ctx.crypto.unwrapKey(key, wrappedKey);
    return { symmetric_key: bytesToBase64(symmetricKey), key_version: stored.key_version, algorithm };
  } catch (error) {
    if (error instanceof QpherError) throw error; // pool busy or past the deadline
    throw new ValidationError(UNWRAP_FAILED);
  }
}

export async function signHash(
  ctx: RawContext,
  caller: Caller,
  req: Requests['signature.signHash'],
): Promise<Responses['signature.signHash']> {
  const algorithm = req.algorithm ?? algorithmsFor('signature.signHash')[0];
  const stored = await ctx.find(caller, algorithm, req.key_version);
  lifecycle.assertUsable(stored, 'sign');
  const key = await ctx.keys.ref(caller.tenant, algorithm, stored);
  const signature = await ctx.crypto.signHash(key, hashArgs(req));
  return {
    signature: bytesToBase64(signature),
    key_version: stored.key_version,
    algorithm,
    hash_algorithm: req.hash_algorithm,
    signature_type: 'detached' as const,
  };
}

export async function verifyHash(
  ctx: RawContext,
  caller: Caller,
  req: Requests['signature.verifyHash'],
): Promise<Responses['signature.verifyHash']> {
  const algorithm = req.algorithm ?? algorithmsFor('signature.verifyHash')[0];
  const stored = await ctx.find(caller, algorithm, req.key_version);
  lifecycle.assertUsable(stored, 'verify');
  const key = ctx.keys.publicRef(caller.tenant, algorithm, stored);
  const valid = await ctx.crypto.verifyHash(key, decode(req.signature), hashArgs(req));
  return { valid, key_version: stored.key_version, algorithm, hash_algorithm: req.hash_algorithm };
}

function kemFacts(algorithm: Algorithm): KemFacts {
  const facts: AlgorithmFacts = factsOf(algorithm);
  if (facts.kind !== 'kem') throw new Error(`${algorithm} is not a KEM`);
  return facts;
}

/** The digest inputs of sign-hash/verify-hash; the schema checked the digest's length. */
function hashArgs(req: { hash: string; hash_algorithm: HashMlDsaAlgorithm; context?: string | undefined }): HashArgs {
  return {
    hashAlgorithm: req.hash_algorithm,
    hash: decode(req.hash),
    ...(req.context === undefined ? {} : { context: decode(req.context) }),
  };
}
