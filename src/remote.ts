/**
 * `qpher/remote`: the facade and the REST client. No post-quantum code, no zod, no Worker: the
 * server does the cryptography. Same classes as the root entry (`qpher`), so both can be mixed.
 * @module
 */
export { Qpher, type QpherOptions, type Input } from './qpher.js';
export {
  RemoteBackend,
  type RemoteBackendOptions,
  type RemoteCallOptions,
  type FetchLike,
} from './backends/remote/index.js';
export type { Backend, CallOptions } from './backends/backend.js';
export * from './errors.js';
export { ALGORITHMS, type Algorithm, type KeyStatus } from './contract/algorithms.js';
export { ERROR_CODES, type ErrorCode } from './contract/codes.js';
export { OPERATIONS, type OperationName } from './contract/operations.js';
export type { Envelope, SuccessEnvelope, ErrorEnvelope } from './contract/envelope.js';
export type { Requests, Responses, KeyInfo, Limits } from './contract/schemas.js';
