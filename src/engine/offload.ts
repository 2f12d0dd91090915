/**
 * Where the engine's per-request crypto runs when it is not on the calling thread: the server
 * hands seal/open/sign/verify to a pool of worker threads (src/server/pool.ts) and keeps HTTP,
 * auth and the store on the event loop. The engine still reads the store, checks the lifecycle
 * and unwraps the seed. Each operation gets only what it needs, with a cache id
 * `(tenant, algorithm, version, public key)`: seal and verify the public key alone (`PublicKeyRef`),
 * open and sign the seed as well (`KeyRef`, 32 or 64 bytes); the thread keeps the expanded key in
 * a bounded cache of its own.
 *
 * Implementations reject with `ServiceUnavailableError` (queue full: ERR_SERVICE_001) or
 * `GatewayTimeoutError` (past the deadline: ERR_TIMEOUT_001); the engine passes those through.
 * @module
 */
import type { CiphertextMode } from '../crypto/format.js';

export interface PublicKeyRef {
  /** Stable per (tenant, algorithm, version, public key): the cache id of the (expanded) key. */
  id: string;
  /** The raw public key (from the stored SPKI). */
  publicKey: Uint8Array;
}

export interface KeyRef extends PublicKeyRef {
  seed: Uint8Array;
}

export interface CryptoOffload {
  /** The primitive provider the threads run (`noble`, `native`, `wasm`). */
  readonly provider: string;
  /** Public key only: encryption never needs the seed (the engine derives deterministic m itself). */
  seal(
    key: PublicKeyRef,
    args: { keyVersion: number; plaintext: Uint8Array; aad: Uint8Array; mode: CiphertextMode; encapRandomness?: Uint8Array },
  ): Promise<Uint8Array>;
  /** Rejects with a plain Error when the ciphertext does not open. */
  open(key: KeyRef, args: { ciphertext: Uint8Array; aad: Uint8Array }): Promise<Uint8Array>;
  sign(key: KeyRef, message: Uint8Array, context?: Uint8Array): Promise<Uint8Array>;
  verify(key: PublicKeyRef, signature: Uint8Array, message: Uint8Array, context?: Uint8Array): Promise<boolean>;
}
