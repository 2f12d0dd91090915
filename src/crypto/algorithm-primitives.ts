/**
 * The primitive behind each row of the algorithm table (`primitive`, src/contract/algorithms.ts),
 * behind one KEM and one signature interface. ML-KEM-768 and ML-DSA-65 are members of the
 * `PrimitiveProvider` (noble, native, wasm). The hybrids are loaded on first use, so bundles that
 * never meet them stay small: X-Wing (./xwing.ts, `@noble/post-quantum`'s ML-KEM-768 + X25519)
 * and the ML-DSA-65 + ECDSA P-256 composite (./composite-ml-dsa.ts), whose ML-DSA half runs on
 * the given provider and whose P-256 half on `@noble/curves`.
 *
 * For both hybrids the private key is the 32-byte seed itself, and `keygen` returns the expanded
 * form as `secretKey` (`sizes.secretKey`): everything derived from the seed, so that a holder that
 * keeps it (the engine's key cache) does not derive it again on every decapsulation or signature.
 * Every operation also takes the seed.
 * @module
 */
import type { AlgorithmFacts, KemFacts, SignatureFacts } from '../contract/algorithms.js';
import type { KeyPair, PrimitiveProvider } from './primitives.js';

export interface KemPrimitive {
  /** From the row's seed (`sizes.seed`). */
  keygen(seed: Uint8Array): KeyPair;
  /** `randomness` (`sizes.encapRandomness` bytes) for known answers and deterministic mode; random when omitted. */
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

export interface SignaturePrimitive {
  keygen(seed: Uint8Array): KeyPair;
  /** Hedged by default; `randomness: false` is the deterministic variant. */
  sign(message: Uint8Array, secretKey: Uint8Array, opts?: { context?: Uint8Array; randomness?: Uint8Array | false }): Uint8Array;
  /** Never throws: anything malformed is `false`. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, opts?: { context?: Uint8Array }): boolean;
}

/** The KEM a provider runs for a KEM row. */
export async function loadKem(provider: PrimitiveProvider, facts: KemFacts): Promise<KemPrimitive> {
  switch (facts.primitive) {
    case 'mlKem768':
      return provider.mlKem768;
    case 'xWing': {
      const { xwingKeygenExpanded, xwingEncapsulate, xwingDecapsulate } = await import('./xwing.js');
      return { keygen: xwingKeygenExpanded, encapsulate: xwingEncapsulate, decapsulate: xwingDecapsulate };
    }
    default:
      throw new TypeError(`${facts.wire} is not a KEM`);
  }
}

/** The signature scheme a provider runs for a signature row. */
export async function loadSigner(provider: PrimitiveProvider, facts: SignatureFacts): Promise<SignaturePrimitive> {
  switch (facts.primitive) {
    case 'mlDsa65':
      return provider.mlDsa65;
    case 'compositeMlDsa65': {
      const { compositeKeygenExpanded, compositeSign, compositeVerify } = await import('./composite-ml-dsa.js');
      return {
        keygen: (seed) => {
          if (seed instanceof Uint8Array && seed.length !== facts.sizes.seed) {
            throw new RangeError(`"seed" must be ${facts.sizes.seed} bytes, got ${seed.length}`);
          }
          return compositeKeygenExpanded(seed, provider);
        },
        sign: (message, secretKey, { context, randomness } = {}) => {
          if (randomness instanceof Uint8Array) throw new TypeError('"randomness" must be false or absent for the composite');
          return compositeSign(message, secretKey, { context, provider, ...(randomness === false && { randomness: false }) });
        },
        verify: (signature, message, publicKey, { context } = {}) => compositeVerify(signature, message, publicKey, { context, provider }),
      };
    }
    default:
      throw new TypeError(`${facts.wire} is not a signature algorithm`);
  }
}

/** Key generation from a seed, whatever the kind of the row. */
export async function keygenFor(provider: PrimitiveProvider, facts: AlgorithmFacts, seed: Uint8Array): Promise<KeyPair> {
  return facts.kind === 'kem' ? (await loadKem(provider, facts)).keygen(seed) : (await loadSigner(provider, facts)).keygen(seed);
}
