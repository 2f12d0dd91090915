/**
 * Offline helpers that need no key store: seal to a published ML-KEM-768 key, verify against a
 * published ML-DSA-65 key. They take the REST API's wire shapes (snake_case fields, strict
 * base64 strings) so a value copied from an API response works as is; raw bytes are accepted
 * too. A ciphertext from `sealWithPublicKey` is the same v1 format `kem/encrypt` returns
 * (./format.ts), so the service decrypts it with that key_version.
 *
 * Bad arguments throw TypeError/RangeError naming the field. A signature that
 * does not verify, has the wrong length or is empty is just `false`.
 * @module
 */
import { base64ToBytes, bytesToBase64 } from '../encoding.js';
import { ALGORITHM_TABLE, isKeyVersion } from '../contract/algorithms.js';
import { sealCiphertext } from './format.js';
import { nobleProvider } from './primitives.js';
import { decodeSpki, type PqAlgorithm } from './spki.js';

const KEM = ALGORITHM_TABLE.Kyber768;
const DSA = ALGORITHM_TABLE.Dilithium3;

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

function publicKeyField(value: unknown, algorithm: PqAlgorithm): Uint8Array {
  const spki = decodeSpki(binaryField(value, 'public_key'));
  if (spki === undefined || spki.algorithm !== algorithm) {
    throw new TypeError(`"public_key" must be the DER SubjectPublicKeyInfo of an ${algorithm} key`);
  }
  return spki.publicKey;
}

/** Seals to a `public_key` from `GET /kms/keys/...` and returns the base64 ciphertext. */
export async function sealWithPublicKey(input: {
  public_key: string | Uint8Array;
  key_version: number;
  plaintext: string | Uint8Array;
  aad?: string | Uint8Array;
}): Promise<string> {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const publicKey = publicKeyField(input.public_key, KEM.standard);
  const keyVersion = input.key_version;
  if (!isKeyVersion(keyVersion)) {
    throw new RangeError('"key_version" must be an integer in 1..2^32-1');
  }
  const plaintext = binaryField(input.plaintext, 'plaintext');
  const aad = input.aad === undefined ? new Uint8Array(0) : binaryField(input.aad, 'aad');
  let ciphertext: Uint8Array;
  try {
    ciphertext = await sealCiphertext({ publicKey, keyVersion, plaintext, aad, provider: nobleProvider });
  } catch (cause) {
    // The only argument-dependent failure left is the FIPS 203 §7.2 encapsulation key check.
    if (cause instanceof RangeError) {
      throw new TypeError('"public_key" is not a valid ML-KEM-768 encapsulation key', { cause });
    }
    throw cause;
  }
  return bytesToBase64(ciphertext);
}

/** Verifies a pure ML-DSA-65 signature (FIPS 204 Algorithm 3) with an optional context. */
export function verifyWithPublicKey(input: {
  public_key: string | Uint8Array;
  message: string | Uint8Array;
  signature: string | Uint8Array;
  context?: string | Uint8Array;
}): boolean {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const publicKey = publicKeyField(input.public_key, DSA.standard);
  const message = binaryField(input.message, 'message');
  const signature = binaryField(input.signature, 'signature');
  const context = input.context === undefined ? undefined : binaryField(input.context, 'context');
  if (context !== undefined && context.length > DSA.sizes.context) {
    throw new RangeError(`"context" must be ${DSA.sizes.context} bytes or less`);
  }
  return nobleProvider.mlDsa65.verify(signature, message, publicKey, context === undefined ? {} : { context });
}
