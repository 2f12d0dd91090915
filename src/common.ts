/**
 * What every entry point shares: the facade, the Backend interface, errors, and the contract's
 * zod-free constants and types. No backend, no crypto.
 * @module
 */
export { Qpher, type QpherOptions, type Input } from './qpher.js';
export type { Backend, CallOptions } from './backends/backend.js';
export * from './errors.js';
export { ALGORITHM_TABLE, ALGORITHMS, type Algorithm, algorithmsFor, type KeyStatus } from './contract/algorithms.js';
export { ERROR_CODES, type ErrorCode } from './contract/codes.js';
export { OPERATIONS, type OperationName } from './contract/operations.js';
export type { Envelope, SuccessEnvelope, ErrorEnvelope } from './contract/envelope.js';
export type { Requests, Responses, KeyInfo, Limits } from './contract/schemas.js';
