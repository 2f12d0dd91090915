/**
 * `CryptoRunner`: where the engine's per-request crypto (seal, open, sign, verify, and the raw
 * KEM, key-wrap and pre-hash operations of docs/crypto-operations.md) runs. The
 * engine reads the store, checks the lifecycle and unwraps the seed. Each operation gets only what
 * it needs, with a cache id `(tenant, algorithm, version, public key)`: seal, verify, encapsulate,
 * wrapKey and verifyHash the public key alone (`PublicKeyRef`), open, sign, decapsulate, unwrapKey
 * and signHash the seed as well (`KeyRef`); the runner keeps the
 * expanded key in a bounded cache of its own. Two runners: `InlineCryptoRunner` (./inline-crypto-runner.ts, on the
 * calling thread, the default) and the server's worker-thread pool (src/server/pool.ts), which
 * runs an `InlineCryptoRunner` in each thread and keeps HTTP, auth and the store on the event loop.
 *
 * Pool implementations reject with `ServiceUnavailableError` (queue full: ERR_SERVICE_001) or
 * `GatewayTimeoutError` (past the deadline: ERR_TIMEOUT_001); the engine passes those through.
 * @module
 */
import type { Algorithm } from '../contract/algorithms.js';
import type { CiphertextMode } from '../crypto/format.js';
import type { HashMlDsaAlgorithm } from '../crypto/hash-algorithms.js';

export interface PublicKeyRef {
  /** Stable per (tenant, algorithm, version, public key): the cache id of the (expanded) key. */
  id: string;
  /** The raw public key (from the stored SPKI). */
  publicKey: Uint8Array;
  /**
   * The key's algorithm (a row of src/contract/algorithms.ts). Absent: the operation's default
   * algorithm, the only one of its kind today.
   */
  algorithm?: Algorithm;
}

export interface KeyRef extends PublicKeyRef {
  seed: Uint8Array;
}

/** What `seal` needs besides the key: the v1 ciphertext's inputs (src/crypto/format.ts). */
export interface SealArgs {
  keyVersion: number;
  plaintext: Uint8Array;
  aad: Uint8Array;
  mode: CiphertextMode;
  /** Deterministic mode's encapsulation randomness (deriveDeterministicRandomness). */
  encapRandomness?: Uint8Array;
}

export interface OpenArgs {
  ciphertext: Uint8Array;
  aad: Uint8Array;
}

export interface EncapsulateResult {
  kemCiphertext: Uint8Array;
  sharedSecret: Uint8Array;
}

export interface WrapKeyArgs {
  /** Goes into the wrapped key's header (docs/format.md, "Wrapped keys"). */
  keyVersion: number;
  symmetricKey: Uint8Array;
}

export interface HashArgs {
  hashAlgorithm: HashMlDsaAlgorithm;
  /** The digest, already checked to be `hashAlgorithm`'s length. */
  hash: Uint8Array;
  context?: Uint8Array;
}

export interface CryptoRunner {
  /** The primitive provider it runs (`noble`, `native`, `wasm`). */
  readonly provider: string;
  seal(key: PublicKeyRef, args: SealArgs): Promise<Uint8Array>;
  /** Rejects with a plain Error when the ciphertext does not open. */
  open(key: KeyRef, args: OpenArgs): Promise<Uint8Array>;
  sign(key: KeyRef, message: Uint8Array, context?: Uint8Array): Promise<Uint8Array>;
  verify(key: PublicKeyRef, signature: Uint8Array, message: Uint8Array, context?: Uint8Array): Promise<boolean>;
  /** FIPS 203 Encaps: a fresh shared secret and the KEM ciphertext that carries it. */
  encapsulate(key: PublicKeyRef): Promise<EncapsulateResult>;
  /**
   * FIPS 203 Decaps with implicit rejection: a wrong ciphertext of the right length gives the
   * rejection secret. The engine checks the length first.
   */
  decapsulate(key: KeyRef, kemCiphertext: Uint8Array): Promise<Uint8Array>;
  wrapKey(key: PublicKeyRef, args: WrapKeyArgs): Promise<Uint8Array>;
  /** Rejects with a plain Error when the wrapped key does not unwrap. */
  unwrapKey(key: KeyRef, wrappedKey: Uint8Array): Promise<Uint8Array>;
  /** HashML-DSA.Sign (FIPS 204 Algorithm 4) over a digest. */
  signHash(key: KeyRef, args: HashArgs): Promise<Uint8Array>;
  verifyHash(key: PublicKeyRef, signature: Uint8Array, args: HashArgs): Promise<boolean>;
}
