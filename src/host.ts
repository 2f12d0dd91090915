/**
 * `qpher/host`: the library's building blocks for programs that host the engine themselves,
 * such as the REST server (the `qpher-server` package). Browser-safe like every other entry
 * point (no static `node:*` import), but not the API for applications: use `qpher`,
 * `qpher/remote`, `qpher/local` or `qpher/offline` for that. What this module exports follows
 * the server's needs and may change with it, in step with `qpher-server`'s version.
 * @module
 */
export { ALGORITHMS, MAX_KEY_VERSION, isAlgorithm, type Algorithm, type KeyStatus } from './contract/algorithms.js';
export { ERROR_CODES, isErrorCode, statusOf, type ErrorCode } from './contract/codes.js';
export {
  errorEnvelope,
  isErrorEnvelope,
  successEnvelope,
  type Envelope,
  type ErrorEnvelope,
  type SuccessEnvelope,
} from './contract/envelope.js';
export { buildOpenApiDocument } from './contract/openapi.js';
export { requestIdFor } from './contract/request-id.js';
export {
  DEFAULT_SCOPES,
  EXPLICIT_SCOPES,
  OPERATIONS,
  OPERATION_NAMES,
  pathsOf,
  SCOPES,
  type OperationName,
  type Scope,
} from './contract/operations.js';
export { ErrorEnvelopeSchema, MAX_BACKUP_BASE64_LENGTH } from './contract/schemas.js';
export type { CiphertextMode } from './crypto/format.js';
export { nobleProvider, type PrimitiveProvider } from './crypto/primitives.js';
export { isProviderChoice, selectProvider, type ProviderChoice, type ProviderName } from './crypto/select-provider.js';
export { base64ToBytes, bytesToBase64 } from './encoding.js';
export { Engine, type Caller, type EngineOptions } from './engine/engine.js';
export { DEFAULT_MAX_KEY_VERSIONS } from './engine/lifecycle.js';
export { InlineCryptoRunner } from './engine/inline-crypto-runner.js';
export type {
  CryptoRunner,
  EncapsulateResult,
  HashArgs,
  KeyRef,
  OpenArgs,
  PublicKeyRef,
  SealArgs,
  WrapKeyArgs,
} from './engine/crypto-runner.js';
export { aesGcmSeedWrapper, type SeedWrapper, seedBinding } from './engine/seed-wrapper.js';
export { GatewayTimeoutError, InternalError, ServiceUnavailableError } from './errors.js';
export {
  copyStoredKey,
  overwritesFirst,
  type KeyPage,
  type KeyPageQuery,
  type KeyringChange,
  type KeyringView,
  type KeyStore,
  type StoredKey,
} from './stores/keystore.js';
