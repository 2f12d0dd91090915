/**
 * Private key material: creates fresh key pairs from random seeds (FIPS 203 §7.1 d‖z, FIPS 204
 * §5.1 ξ), and turns stored wrapped seeds back into usable keys. Expanding a seed costs a key
 * generation, so expanded keys are cached per (tenant, algorithm, version) in a small LRU; the
 * store is still read on every call, so a retire or archive takes effect at once.
 * @module
 */
import type { Algorithm } from '../contract/algorithms.js';
import { bytesToBase64 } from '../encoding.js';
import { encodeSpki } from '../crypto/spki.js';
import { ML_DSA_65, ML_KEM_768, type KeyPair, type PrimitiveProvider } from '../crypto/primitives.js';
import type { StoredKey } from '../stores/keystore.js';
import type { NewKey } from './lifecycle.js';
import { seedBinding, type SeedWrapper } from './seed-wrapper.js';

export interface UsableKey extends KeyPair {
  seed: Uint8Array;
}

const DEFAULT_CACHE_ENTRIES = 256;

export class KeyMaterial {
  readonly #wrapper: SeedWrapper;
  readonly #provider: PrimitiveProvider;
  readonly #cache = new Map<string, UsableKey>();
  readonly #cacheEntries: number;

  constructor(wrapper: SeedWrapper, provider: PrimitiveProvider, cacheEntries = DEFAULT_CACHE_ENTRIES) {
    this.#wrapper = wrapper;
    this.#provider = provider;
    this.#cacheEntries = cacheEntries;
  }

  async create(tenant: string, algorithm: Algorithm, now: Date): Promise<NewKey> {
    const seed = globalThis.crypto.getRandomValues(new Uint8Array(seedLength(algorithm)));
    const { publicKey } = this.#keygen(algorithm, seed);
    const public_key = bytesToBase64(encodeSpki(algorithm === 'Kyber768' ? 'ML-KEM-768' : 'ML-DSA-65', publicKey));
    const wrapped_seed = await this.#wrapper.wrap(seed, seedBinding(tenant, algorithm, public_key));
    seed.fill(0);
    return { public_key, created_at: now.toISOString(), wrapped_seed };
  }

  async load(tenant: string, algorithm: Algorithm, key: StoredKey): Promise<UsableKey> {
    const id = JSON.stringify([tenant, algorithm, key.key_version, key.public_key]);
    const cached = this.#cache.get(id);
    if (cached) {
      this.#cache.delete(id); // re-insert: Map order is the LRU order
      this.#cache.set(id, cached);
      return cached;
    }
    const seed = await this.#wrapper.unwrap(key.wrapped_seed, seedBinding(tenant, algorithm, key.public_key));
    const usable = { seed, ...this.#keygen(algorithm, seed) };
    this.#cache.set(id, usable);
    if (this.#cache.size > this.#cacheEntries) this.#cache.delete(this.#cache.keys().next().value!);
    return usable;
  }

  #keygen(algorithm: Algorithm, seed: Uint8Array): KeyPair {
    return algorithm === 'Kyber768' ? this.#provider.mlKem768.keygen(seed) : this.#provider.mlDsa65.keygen(seed);
  }
}

function seedLength(algorithm: Algorithm): number {
  return algorithm === 'Kyber768' ? ML_KEM_768.seedLength : ML_DSA_65.seedLength;
}
