/**
 * Qpher: post-quantum encryption (ML-KEM-768 + HPKE) and signatures (ML-DSA-65) behind one API,
 * run locally or against a Qpher REST server.
 * @module
 */
export { Qpher, type QpherOptions, type Input } from './qpher.js';
export { LocalBackend, type LocalBackendOptions, type LocalBackendInfo } from './backends/local/index.js';
export { IndexedDbKeyStore } from './stores/indexeddb.js';
export {
  RemoteBackend,
  type RemoteBackendOptions,
  type RemoteCallOptions,
  type FetchLike,
} from './backends/remote/index.js';
export type { Backend, CallOptions } from './backends/backend.js';
export { sealWithPublicKey as seal, verifyWithPublicKey as verify } from './crypto/seal.js';
export {
  unwrap,
  qpherErrorFrom,
  QpherError,
  AuthenticationError,
  ValidationError,
  ForbiddenError,
  NotFoundError,
  KeyVersionNotFoundError,
  RateLimitError,
  CryptoError,
  InternalError,
  BadGatewayError,
  ServiceUnavailableError,
  GatewayTimeoutError,
} from './errors.js';
export { ALGORITHMS, type Algorithm, type KeyStatus } from './contract/algorithms.js';
export { ERROR_CODES, type ErrorCode } from './contract/codes.js';
export { OPERATIONS, type OperationName } from './contract/operations.js';
export type { Envelope, SuccessEnvelope, ErrorEnvelope } from './contract/envelope.js';
export type { Requests, Responses, KeyInfo, Limits } from './contract/schemas.js';
export { MemoryKeyStore } from './stores/memory.js';
export type { KeyStore, StoredKey, KeyringChange } from './stores/keystore.js';
export type { SeedWrapper } from './engine/seed-wrapper.js';
