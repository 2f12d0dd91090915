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
    const secretKey = this.#secretKey(key, algorithm); // first: it reads the seed before any await
    const signer = await this.#signer(algorithm);
    return signer.sign(message, await secretKey, context ? { context } : {});
  }

  async verify(key: PublicKeyRef, signature: Uint8Array, message: Uint8Array, context?: Uint8Array): Promise<boolean> {
    const signer = await this.#signer(algorithmOf(key, 'signature.verify'));
    return signer.verify(signature, message, this.#entry(key).publicKey, context ? { context } : {});
  }

  // The raw operations load their code on first use (dynamic imports): a browser app that never
  // calls them keeps it out of the Worker's first chunk (docs/bundles.md). Each one dispatches on
  // the key's primitive (`RAW_OPERATION_PRIMITIVES` below).
  async encapsulate(key: PublicKeyRef): Promise<EncapsulateResult> {
    const { publicKey } = this.#entry(key);
    if (supported(key, 'kem.encapsulate') === 'xWing') {
      const { xwingEncapsulate } = await import('../crypto/xwing.js');
      const { cipherText, sharedSecret } = xwingEncapsulate(publicKey);
      return { kemCiphertext: cipherText, sharedSecret };
    }
    const { kemEncapsulate } = await import('../crypto/kem.js');
    return kemEncapsulate({ publicKey, provider: this.#primitives });
  }

  async decapsulate(key: KeyRef, kemCiphertext: Uint8Array): Promise<Uint8Array> {
    const primitive = supported(key, 'kem.decapsulate');
    const secretKey = this.#secretKey(key, algorithmOf(key, 'kem.decapsulate'));
    if (primitive === 'xWing') {
      const { xwingDecapsulate } = await import('../crypto/xwing.js');
      return xwingDecapsulate(kemCiphertext, await secretKey);
    }
    const { kemDecapsulate } = await import('../crypto/kem.js');
    return kemDecapsulate({ secretKey: await secretKey, kemCiphertext, provider: this.#primitives });
  }

  async wrapKey(key: PublicKeyRef, args: WrapKeyArgs): Promise<Uint8Array> {
    supported(key, 'kem.wrapKey');
    const { wrapKey } = await import('../crypto/key-wrap.js');
    const kem = kemOf(algorithmOf(key, 'kem.wrapKey'));
    return wrapKey({ ...args, kem, publicKey: this.#entry(key).publicKey, provider: this.#primitives });
  }

  async unwrapKey(key: KeyRef, wrappedKey: Uint8Array): Promise<Uint8Array> {
    supported(key, 'kem.unwrapKey');
    const algorithm = algorithmOf(key, 'kem.unwrapKey');
    const secretKey = this.#secretKey(key, algorithm);
    const { unwrapKey } = await import('../crypto/key-wrap.js');
    return unwrapKey({ kem: kemOf(algorithm), secretKey: await secretKey, wrappedKey, provider: this.#primitives });
  }

  async signHash(key: KeyRef, args: HashArgs): Promise<Uint8Array> {
    const primitive = supported(key, 'signature.signHash');
    if (primitive === 'compositeMlDsa65') requireCompositeHash(args);
    const secretKey = this.#secretKey(key, algorithmOf(key, 'signature.signHash'));
    if (primitive === 'compositeMlDsa65') {
      const { compositeSignDigest } = await import('../crypto/composite-ml-dsa.js');
      return compositeSignDigest(args.hash, await secretKey, { provider: this.#primitives, ...contextOf(args) });
    }
    const { hashMlDsaSign } = await import('../crypto/hash-ml-dsa.js');
    return hashMlDsaSign({ ...args, secretKey: await secretKey });
  }

  async verifyHash(key: PublicKeyRef, signature: Uint8Array, args: HashArgs): Promise<boolean> {
    const { publicKey } = this.#entry(key);
    if (supported(key, 'signature.verifyHash') === 'compositeMlDsa65') {
      const { compositeVerifyDigest } = await import('../crypto/composite-ml-dsa.js');
      requireCompositeHash(args);
      return compositeVerifyDigest(signature, args.hash, publicKey, { provider: this.#primitives, ...contextOf(args) });
    }
    const { hashMlDsaVerify } = await import('../crypto/hash-ml-dsa.js');
    return hashMlDsaVerify({ ...args, signature, publicKey });
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

  /**
   * The expanded key, from the cache or from the seed. Call it before any `await` of the caller:
   * it copies the seed synchronously, because the seed's owner may wipe it once the caller has
   * yielded (src/engine/key-material.ts wipes dropped seeds on the next macrotask, and loading a
   * hybrid's code the first time takes longer than that).
   */
  #secretKey(key: KeyRef, algorithm: Algorithm): Promise<Uint8Array> {
    const found = this.#entry(key);
    if (found.secretKey) return Promise.resolve(found.secretKey);
    const seed = key.seed.slice();
    return keygenFor(this.#primitives, factsOf(algorithm), seed)
      .then(({ secretKey }) => {
        found.secretKey ??= secretKey;
        if (found.secretKey !== secretKey) secretKey.fill(0); // a concurrent first use won
        return found.secretKey;
      })
      .finally(() => seed.fill(0));
  }
}

/** The ciphertext format's name for a KEM row (its standard name). */
function kemOf(algorithm: Algorithm): CiphertextKem {
  return (factsOf(algorithm) as KemFacts).standard as CiphertextKem;
}

/**
 * The primitives each raw operation is implemented for: ML-KEM-768 (src/crypto/kem.ts) and X-Wing
 * (src/crypto/xwing.ts) for raw KEM, both through src/crypto/key-wrap.ts for key wrap, HashML-DSA
 * (src/crypto/hash-ml-dsa.ts) and the composite's SHA-512 pre-hash form
 * (src/crypto/composite-ml-dsa.ts) for sign-hash/verify-hash. A row of another primitive that
 * lists the operation in the algorithm table needs its own branch above; until then it fails
 * loudly instead of running another primitive's code on its key.
 */
const RAW_OPERATION_PRIMITIVES: Partial<Record<OperationName, readonly AlgorithmFacts['primitive'][]>> = {
  'kem.encapsulate': ['mlKem768', 'xWing'],
  'kem.decapsulate': ['mlKem768', 'xWing'],
  'kem.wrapKey': ['mlKem768', 'xWing'],
  'kem.unwrapKey': ['mlKem768', 'xWing'],
  'signature.signHash': ['mlDsa65', 'compositeMlDsa65'],
  'signature.verifyHash': ['mlDsa65', 'compositeMlDsa65'],
};

/** The key's primitive, when the raw operation is implemented for it; a TypeError otherwise. */
function supported(key: PublicKeyRef, operation: OperationName): AlgorithmFacts['primitive'] {
  const algorithm = algorithmOf(key, operation);
  const { primitive } = factsOf(algorithm);
  if (!RAW_OPERATION_PRIMITIVES[operation]?.includes(primitive)) {
    throw new TypeError(`${operation} is not implemented for ${algorithm}`);
  }
  return primitive;
}

/** The composite signs SHA-512(M) only (its M′ ends with that digest); the schemas refuse others first. */
function requireCompositeHash(args: HashArgs): void {
  if (args.hashAlgorithm !== 'SHA-512') throw new TypeError(`"hashAlgorithm" must be SHA-512 for the composite, got ${args.hashAlgorithm}`);
}

function contextOf(args: HashArgs): { context?: Uint8Array } {
  return args.context === undefined ? {} : { context: args.context };
}

/** The key's algorithm, or the operation's default when the ref does not say. */
function algorithmOf(key: PublicKeyRef, operation: OperationName): Algorithm {
  return key.algorithm ?? algorithmsFor(operation)[0];
}
