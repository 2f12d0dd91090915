/**
 * Private key material: creates fresh key pairs from random seeds (FIPS 203 §7.1 d‖z, FIPS 204
 * §5.1 ξ), and turns stored wrapped seeds back into `KeyRef`s (seed, raw public key, cache id) for
 * the crypto that uses them (a CryptoRunner: inline-crypto-runner.ts, or the server's pool). Unwrapped seeds are cached
 * per (tenant, algorithm, version, public key) in a small LRU; the store is still read on every
 * call, so a retire or archive takes effect at once.
 *
 * A seed leaves the cache wiped: on eviction, and when its version is archived (`forget`). The
 * wipe waits for the next macrotask, because a caller may hold the ref it just got between an
 * `await` and its synchronous use (the crypto reads the seed synchronously: InlineCryptoRunner expands
 * it at once, the pool copies it into the task).
 * @module
 */
import { factsOf, type Algorithm } from '../contract/algorithms.js';
import { decodeSpki, encodeSpki } from '../crypto/spki.js';
import { base64ToBytes, bytesToBase64 } from '../encoding.js';
import { DEFAULT_KEY_CACHE_ENTRIES } from './inline-crypto-runner.js';
import type { KeyRef, PublicKeyRef } from './crypto-runner.js';
import { keygenFor } from '../crypto/algorithm-primitives.js';
import type { PrimitiveProvider } from '../crypto/primitives.js';
import type { StoredKey } from '../stores/keystore.js';
import type { NewKey } from './lifecycle.js';
import { seedBinding, type SeedWrapper } from './seed-wrapper.js';

export class KeyMaterial {
  readonly #wrapper: SeedWrapper;
  readonly #provider: PrimitiveProvider;
  readonly #refs = new Map<string, KeyRef>();
  readonly #cacheEntries: number;

  constructor(wrapper: SeedWrapper, provider: PrimitiveProvider, cacheEntries = DEFAULT_KEY_CACHE_ENTRIES) {
    this.#wrapper = wrapper;
    this.#provider = provider;
    this.#cacheEntries = cacheEntries;
  }

  async create(tenant: string, algorithm: Algorithm, now: Date): Promise<NewKey> {
    const facts = factsOf(algorithm);
    const seed = globalThis.crypto.getRandomValues(new Uint8Array(facts.sizes.seed));
    const { publicKey, secretKey } = await keygenFor(this.#provider, facts, seed);
    secretKey.fill(0);
    const public_key = bytesToBase64(encodeSpki(facts.standard, publicKey));
    const wrapped_seed = await this.#wrapper.wrap(seed, seedBinding(tenant, algorithm, public_key));
    seed.fill(0);
    return { public_key, created_at: now.toISOString(), wrapped_seed };
  }

  /** The unwrapped seed and the raw public key; expanding the key is the crypto's job (cached under `id`). */
  async ref(tenant: string, algorithm: Algorithm, key: StoredKey): Promise<KeyRef> {
    const id = JSON.stringify([tenant, algorithm, key.key_version, key.public_key]);
    const cached = this.#refs.get(id);
    if (cached) {
      this.#refs.delete(id);
      this.#refs.set(id, cached);
      return cached;
    }
    const seed = await this.#wrapper.unwrap(key.wrapped_seed, seedBinding(tenant, algorithm, key.public_key));
    const ref = { id, seed, publicKey: this.publicKey(algorithm, key), algorithm };
    this.#drop(id); // a concurrent first use of the same key may have cached it meanwhile
    this.#refs.set(id, ref);
    if (this.#refs.size > this.#cacheEntries) this.#drop(this.#refs.keys().next().value!);
    return ref;
  }

  /** Drops (and wipes) the cached seed of a version, e.g. once it is archived. */
  forget(tenant: string, algorithm: Algorithm, keyVersion: number): void {
    const prefix = JSON.stringify([tenant, algorithm, keyVersion]).slice(0, -1);
    for (const id of [...this.#refs.keys()]) if (id.startsWith(`${prefix},`)) this.#drop(id);
  }

  #drop(id: string): void {
    const ref = this.#refs.get(id);
    if (!ref) return;
    this.#refs.delete(id);
    setTimeout(() => ref.seed.fill(0), 0);
  }

  /** The cache id and raw public key of a stored key, for verification (no seed is unwrapped). */
  publicRef(tenant: string, algorithm: Algorithm, key: StoredKey): PublicKeyRef {
    return {
      id: JSON.stringify([tenant, algorithm, key.key_version, key.public_key]),
      publicKey: this.publicKey(algorithm, key),
      algorithm,
    };
  }

  /** The raw public key of a stored key (its SPKI, decoded). */
  publicKey(algorithm: Algorithm, key: StoredKey): Uint8Array {
    const decoded = decodeSpki(base64ToBytes(key.public_key) ?? new Uint8Array());
    const expected = factsOf(algorithm).standard;
    if (decoded?.algorithm !== expected) throw new Error(`stored ${algorithm} public key is not a canonical ${expected} SPKI`);
    return decoded.publicKey;
  }
}
