/**
 * The engine's per-request crypto on the calling thread: seal, open, sign and verify with one
 * primitive provider, keyed by the `KeyRef` the engine passes. The same class runs inside each of
 * the server pool's worker threads (src/server/crypto-worker.ts), so there is one implementation
 * whether crypto is offloaded or not.
 *
 * Expanded secret keys are cached per key id (tenant, algorithm, version, public key) in a
 * bounded LRU and wiped on eviction. The first public-key array seen for an id is kept and reused,
 * because providers cache per-key state (noble's prepared ML-KEM matrix, OpenSSL key objects) per
 * Uint8Array. Seeds are borrowed, never kept or wiped here: their owner decides.
 * @module
 */
import { openCiphertext, sealCiphertext } from '../crypto/format.js';
import type { PrimitiveProvider } from '../crypto/primitives.js';
import type { CryptoOffload, KeyRef, PublicKeyRef } from './offload.js';

interface Entry {
  publicKey: Uint8Array;
  secretKey?: Uint8Array;
}

export const DEFAULT_KEY_CACHE_ENTRIES = 256;

export class InlineCrypto implements CryptoOffload {
  readonly provider: string;
  readonly #primitives: PrimitiveProvider;
  readonly #cache = new Map<string, Entry>();
  readonly #cacheEntries: number;

  constructor(primitives: PrimitiveProvider, cacheEntries = DEFAULT_KEY_CACHE_ENTRIES) {
    this.provider = primitives.name;
    this.#primitives = primitives;
    this.#cacheEntries = cacheEntries;
  }

  async seal(key: PublicKeyRef, args: Parameters<CryptoOffload['seal']>[1]): Promise<Uint8Array> {
    return sealCiphertext({ ...args, publicKey: this.#entry(key).publicKey, provider: this.#primitives });
  }

  async open(key: KeyRef, args: Parameters<CryptoOffload['open']>[1]): Promise<Uint8Array> {
    return openCiphertext({ ...args, secretKey: this.#secretKey(key, 'kem'), provider: this.#primitives });
  }

  async sign(key: KeyRef, message: Uint8Array, context?: Uint8Array): Promise<Uint8Array> {
    return this.#primitives.mlDsa65.sign(message, this.#secretKey(key, 'dsa'), context ? { context } : {});
  }

  async verify(key: PublicKeyRef, signature: Uint8Array, message: Uint8Array, context?: Uint8Array): Promise<boolean> {
    return this.#primitives.mlDsa65.verify(signature, message, this.#entry(key).publicKey, context ? { context } : {});
  }

  #entry(key: PublicKeyRef): Entry {
    let found = this.#cache.get(key.id);
    if (found) {
      this.#cache.delete(key.id); // re-inserted below: Map order is the LRU order
    } else {
      found = { publicKey: key.publicKey };
      if (this.#cache.size >= this.#cacheEntries) {
        const oldest = this.#cache.keys().next().value!;
        this.#cache.get(oldest)?.secretKey?.fill(0);
        this.#cache.delete(oldest);
      }
    }
    this.#cache.set(key.id, found);
    return found;
  }

  #secretKey(key: KeyRef, kind: 'kem' | 'dsa'): Uint8Array {
    const found = this.#entry(key);
    found.secretKey ??= (kind === 'kem' ? this.#primitives.mlKem768.keygen(key.seed) : this.#primitives.mlDsa65.keygen(key.seed)).secretKey;
    return found.secretKey;
  }
}
