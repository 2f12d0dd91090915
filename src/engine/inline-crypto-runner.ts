/**
 * The `CryptoRunner` on the calling thread: seal, open, sign, verify and the raw operations
 * (encapsulate, decapsulate, wrapKey, unwrapKey, signHash, verifyHash) with one primitive
 * provider, keyed by the `KeyRef` the engine passes. The same class runs inside each of the
 * server pool's worker threads (src/server/crypto-worker.ts), so there is one implementation
 * wherever crypto runs. Which primitive a key uses comes from its row of the algorithm table.
 *
 * Expanded secret keys are cached per key id (tenant, algorithm, version, public key) in a
 * bounded LRU and wiped on eviction. The first public-key array seen for an id is kept and reused,
 * because providers cache per-key state (noble's prepared ML-KEM matrix, OpenSSL key objects) per
 * Uint8Array. Seeds are borrowed, never kept or wiped here: their owner decides.
 * @module
 */
import { type AlgorithmFacts, algorithmsFor, factsOf, type Algorithm, type KemFacts, type SignatureFacts } from '../contract/algorithms.js';
import type { OperationName } from '../contract/operations.js';
import { keygenFor, loadSigner } from '../crypto/algorithm-primitives.js';
import { type CiphertextKem, openCiphertext, sealCiphertext } from '../crypto/format.js';
import type { PrimitiveProvider } from '../crypto/primitives.js';
import type { CryptoRunner, EncapsulateResult, HashArgs, KeyRef, OpenArgs, PublicKeyRef, SealArgs, WrapKeyArgs } from './crypto-runner.js';

interface Entry {
  publicKey: Uint8Array;
  secretKey?: Uint8Array;
}

export const DEFAULT_KEY_CACHE_ENTRIES = 256;

export class InlineCryptoRunner implements CryptoRunner {
  readonly provider: string;
  readonly #primitives: PrimitiveProvider;
  readonly #cache = new Map<string, Entry>();
  readonly #cacheEntries: number;

  constructor(primitives: PrimitiveProvider, cacheEntries = DEFAULT_KEY_CACHE_ENTRIES) {
    this.provider = primitives.name;
    this.#primitives = primitives;
    this.#cacheEntries = cacheEntries;
  }

  async seal(key: PublicKeyRef, args: SealArgs): Promise<Uint8Array> {
    const kem = kemOf(algorithmOf(key, 'kem.encrypt'));
    return sealCiphertext({ ...args, kem, publicKey: this.#entry(key).publicKey, provider: this.#primitives });
  }

  async open(key: KeyRef, args: OpenArgs): Promise<Uint8Array> {
    const algorithm = algorithmOf(key, 'kem.decrypt');
    const secretKey = await this.#secretKey(key, algorithm);
    return openCiphertext({ ...args, kem: kemOf(algorithm), secretKey, provider: this.#primitives });
  }

  async sign(key: KeyRef, message: Uint8Array, context?: Uint8Array): Promise<Uint8Array> {
    const algorithm = algorithmOf(key, 'signature.sign');
    const signer = await this.#signer(algorithm);
    return signer.sign(message, await this.#secretKey(key, algorithm), context ? { context } : {});
  }

  async verify(key: PublicKeyRef, signature: Uint8Array, message: Uint8Array, context?: Uint8Array): Promise<boolean> {
    const signer = await this.#signer(algorithmOf(key, 'signature.verify'));
    return signer.verify(signature, message, this.#entry(key).publicKey, context ? { context } : {});
  }

  // The raw operations load their code on first use (dynamic imports): a browser app that never
  // calls them keeps it out of the Worker's first chunk (docs/bundles.md).
  async encapsulate(key: PublicKeyRef): Promise<EncapsulateResult> {
    supported(key, 'kem.encapsulate');
    const { kemEncapsulate } = await import('../crypto/kem.js');
    return kemEncapsulate({ publicKey: this.#entry(key).publicKey, provider: this.#primitives });
  }

  async decapsulate(key: KeyRef, kemCiphertext: Uint8Array): Promise<Uint8Array> {
    const algorithm = supported(key, 'kem.decapsulate');
    const { kemDecapsulate } = await import('../crypto/kem.js');
    return kemDecapsulate({ secretKey: await this.#secretKey(key, algorithm), kemCiphertext, provider: this.#primitives });
  }

  async wrapKey(key: PublicKeyRef, args: WrapKeyArgs): Promise<Uint8Array> {
    supported(key, 'kem.wrapKey');
    const { wrapKey } = await import('../crypto/key-wrap.js');
    return wrapKey({ ...args, publicKey: this.#entry(key).publicKey, provider: this.#primitives });
  }

  async unwrapKey(key: KeyRef, wrappedKey: Uint8Array): Promise<Uint8Array> {
    const algorithm = supported(key, 'kem.unwrapKey');
    const { unwrapKey } = await import('../crypto/key-wrap.js');
    return unwrapKey({ secretKey: await this.#secretKey(key, algorithm), wrappedKey, provider: this.#primitives });
  }

  async signHash(key: KeyRef, args: HashArgs): Promise<Uint8Array> {
    const algorithm = supported(key, 'signature.signHash');
    const { hashMlDsaSign } = await import('../crypto/hash-ml-dsa.js');
    return hashMlDsaSign({ ...args, secretKey: await this.#secretKey(key, algorithm) });
  }

  async verifyHash(key: PublicKeyRef, signature: Uint8Array, args: HashArgs): Promise<boolean> {
    supported(key, 'signature.verifyHash');
    const { hashMlDsaVerify } = await import('../crypto/hash-ml-dsa.js');
    return hashMlDsaVerify({ ...args, signature, publicKey: this.#entry(key).publicKey });
  }

  #signer(algorithm: Algorithm) {
    return loadSigner(this.#primitives, factsOf(algorithm) as SignatureFacts);
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

  async #secretKey(key: KeyRef, algorithm: Algorithm): Promise<Uint8Array> {
    const found = this.#entry(key);
    found.secretKey ??= (await keygenFor(this.#primitives, factsOf(algorithm), key.seed)).secretKey;
    return found.secretKey;
  }
}

/** The ciphertext format's name for a KEM row (its standard name). */
function kemOf(algorithm: Algorithm): CiphertextKem {
  return (factsOf(algorithm) as KemFacts).standard as CiphertextKem;
}

/**
 * The primitive each raw operation is implemented for (src/crypto/kem.ts, key-wrap.ts,
 * hash-ml-dsa.ts). A row of another primitive that lists the operation in the algorithm table
 * needs its own implementation here; until then it fails loudly instead of running ML-KEM-768 or
 * ML-DSA-65 code on its key.
 */
const RAW_OPERATION_PRIMITIVE: Partial<Record<OperationName, AlgorithmFacts['primitive']>> = {
  'kem.encapsulate': 'mlKem768',
  'kem.decapsulate': 'mlKem768',
  'kem.wrapKey': 'mlKem768',
  'kem.unwrapKey': 'mlKem768',
  'signature.signHash': 'mlDsa65',
  'signature.verifyHash': 'mlDsa65',
};

function supported(key: PublicKeyRef, operation: OperationName): Algorithm {
  const algorithm = algorithmOf(key, operation);
  if (factsOf(algorithm).primitive !== RAW_OPERATION_PRIMITIVE[operation]) {
    throw new TypeError(`${operation} is not implemented for ${algorithm}`);
  }
  return algorithm;
}

/** The key's algorithm, or the operation's default when the ref does not say. */
function algorithmOf(key: PublicKeyRef, operation: OperationName): Algorithm {
  return key.algorithm ?? algorithmsFor(operation)[0];
}
