/**
 * Encrypts private seeds at rest. Stores only ever see `wrap`'s output: AES-256-GCM with a fresh
 * 96-bit IV, `iv ‖ ciphertext ‖ tag`, and associated data that binds the seed to its tenant,
 * algorithm and public key, so a wrapped seed copied into another keyring row fails to unwrap.
 * The wrapping key is a non-extractable WebCrypto key: in the browser one kept in IndexedDB, in a
 * Node process an ephemeral one, and on the server the master key itself, imported as is (not
 * derived: packages/server/src/master-key.ts), so existing wrapped seeds stay readable.
 * @module
 */
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';

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
