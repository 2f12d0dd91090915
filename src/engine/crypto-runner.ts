/**
 * `CryptoRunner`: where the engine's per-request crypto (seal, open, sign, verify) runs. The
 * engine reads the store, checks the lifecycle and unwraps the seed. Each operation gets only what
 * it needs, with a cache id `(tenant, algorithm, version, public key)`: seal and verify the public
 * key alone (`PublicKeyRef`), open and sign the seed as well (`KeyRef`); the runner keeps the
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

export interface CryptoRunner {
  /** The primitive provider it runs (`noble`, `native`, `wasm`). */
  readonly provider: string;
  seal(key: PublicKeyRef, args: SealArgs): Promise<Uint8Array>;
  /** Rejects with a plain Error when the ciphertext does not open. */
  open(key: KeyRef, args: OpenArgs): Promise<Uint8Array>;
  sign(key: KeyRef, message: Uint8Array, context?: Uint8Array): Promise<Uint8Array>;
  verify(key: PublicKeyRef, signature: Uint8Array, message: Uint8Array, context?: Uint8Array): Promise<boolean>;
}
