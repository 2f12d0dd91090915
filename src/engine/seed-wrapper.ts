/**
 * Encrypts private seeds at rest. Stores only ever see `wrap`'s output: AES-256-GCM with a fresh
 * 96-bit IV, `iv ‖ ciphertext ‖ tag`, and associated data that binds the seed to its tenant,
 * algorithm and public key, so a wrapped seed copied into another keyring row fails to unwrap.
 * The wrapping key is a non-extractable WebCrypto key: in the browser one kept in IndexedDB, in a
 * Node process an ephemeral one, and on the server the master key itself, imported as is (not
 * derived: packages/server/src/master-key.ts), so existing wrapped seeds stay readable. The
 * server writes its own versioned layout, which names the master key by an id so that keys can
 * be rotated (packages/server/src/master-key-wrapper.ts); this one is what it still reads as legacy.
 * @module
 */
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { CryptoError } from '../errors.js';

const IV_LENGTH = 12;

export interface SeedWrapper {
  wrap(seed: Uint8Array, binding: Uint8Array): Promise<Uint8Array>;
  /** Throws when the wrapped bytes, the binding or the wrapping key do not match. */
  unwrap(wrapped: Uint8Array, binding: Uint8Array): Promise<Uint8Array>;
}

export function aesGcmSeedWrapper(key: CryptoKey): SeedWrapper {
  const subtle = globalThis.crypto.subtle;
  return {
    async wrap(seed, binding) {
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_LENGTH));
      const sealed = await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: buffer(binding) }, key, buffer(seed));
      return concatBytes(iv, new Uint8Array(sealed));
    },
    async unwrap(wrapped, binding) {
      const iv = buffer(wrapped.subarray(0, IV_LENGTH));
      const sealed = buffer(wrapped.subarray(IV_LENGTH));
      return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: buffer(binding) }, key, sealed));
    },
  };
}

/** A wrapper under a fresh non-extractable key that lives only as long as this process or page. */
export async function ephemeralSeedWrapper(): Promise<SeedWrapper> {
  const key = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  return aesGcmSeedWrapper(key);
}

/** The associated data a seed is wrapped under. */
export function seedBinding(tenant: string, algorithm: string, publicKey: string): Uint8Array {
  return utf8ToBytes(JSON.stringify(['qpher-seed/v1', tenant, algorithm, publicKey]));
}

/** WebCrypto's types want an ArrayBuffer-backed view; ours always are. */
function buffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

/**
 * Unwraps a stored key's seed. A seed that does not unwrap means the store was opened with
 * another wrapping key (another master key, another browser database's key) or its row was
 * altered: a clear ERR_CRYPTO_001 that names the key, never the bytes or WebCrypto's message.
 */
export async function unwrapStoredSeed(
  wrapper: SeedWrapper,
  tenant: string,
  algorithm: string,
  key: { key_version: number; public_key: string; wrapped_seed: Uint8Array },
): Promise<Uint8Array> {
  try {
    return await wrapper.unwrap(key.wrapped_seed, seedBinding(tenant, algorithm, key.public_key));
  } catch {
    throw new CryptoError(
      `Key ${algorithm} version ${key.key_version} cannot be unwrapped: it was stored under another wrapping key, or its stored bytes changed`,
    );
  }
}
