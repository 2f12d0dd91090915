/**
 * QpherError and one subclass per spec error code. Callers switch on `code` (stable), not on
 * messages. Facade calls resolve to envelopes and never throw for an API outcome; `unwrap` is
 * the bridge for callers who prefer exceptions. Bad *arguments* to library functions are
 * TypeError/RangeError instead.
 * @module
 */
import { ERROR_CODES, statusOf, type ErrorCode } from './contract/codes.js';
import { isErrorEnvelope, type Envelope } from './contract/envelope.js';

export class QpherError extends Error {
  static code: ErrorCode | (string & {}) = 'ERR_INTERNAL_001';
  /** The spec's error code, e.g. `ERR_KEM_005`. */
  readonly code: ErrorCode | (string & {});
  /** The HTTP status the REST API answers with for this code. */
  readonly status: number;
  readonly requestId: string | undefined;

  constructor(message?: string, options?: { code?: string; requestId?: string }) {
    const code = options?.code ?? (new.target as typeof QpherError).code;
    super(message ?? defaultMessage(code));
    this.name = this.constructor.name;
    this.code = code;
    this.status = statusOf(code);
    this.requestId = options?.requestId;
  }
}

function defaultMessage(code: string): string {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode].message : 'Unknown error';
}

export class AuthenticationError extends QpherError {
  static override code = 'ERR_AUTH_001';
}
export class ValidationError extends QpherError {
  static override code = 'ERR_INVALID_001';
}
export class ForbiddenError extends QpherError {
  static override code = 'ERR_FORBIDDEN_001';
}
export class NotFoundError extends QpherError {
  static override code = 'ERR_NOT_FOUND_001';
}
export class KeyVersionNotFoundError extends QpherError {
  static override code = 'ERR_KEM_005';
}
export class RateLimitError extends QpherError {
  static override code = 'ERR_RATE_001';
}
export class CryptoError extends QpherError {
  static override code = 'ERR_CRYPTO_001';
}
export class InternalError extends QpherError {
  static override code = 'ERR_INTERNAL_001';
}
export class BadGatewayError extends QpherError {
  static override code = 'ERR_BAD_GATEWAY_001';
}
export class ServiceUnavailableError extends QpherError {
  static override code = 'ERR_SERVICE_001';
}
export class GatewayTimeoutError extends QpherError {
  static override code = 'ERR_TIMEOUT_001';
}

const CLASSES: Record<ErrorCode, typeof QpherError> = {
  ERR_AUTH_001: AuthenticationError,
  ERR_INVALID_001: ValidationError,
  ERR_FORBIDDEN_001: ForbiddenError,
  ERR_NOT_FOUND_001: NotFoundError,
  ERR_KEM_005: KeyVersionNotFoundError,
  ERR_RATE_001: RateLimitError,
  ERR_CRYPTO_001: CryptoError,
  ERR_INTERNAL_001: InternalError,
  ERR_BAD_GATEWAY_001: BadGatewayError,
  ERR_SERVICE_001: ServiceUnavailableError,
  ERR_TIMEOUT_001: GatewayTimeoutError,
};

/** Rebuilds the QpherError subclass for a code (e.g. after crossing a Worker or the network). */
export function qpherErrorFrom(code: string, message: string, requestId?: string): QpherError {
  const Class = Object.hasOwn(CLASSES, code) ? CLASSES[code as ErrorCode] : QpherError;
  return new Class(message, { code, ...(requestId === undefined ? {} : { requestId }) });
}

/** Returns the envelope's `data`, or throws the QpherError its `error` describes. */
export function unwrap<T>(envelope: Envelope<T>): T {
  if (isErrorEnvelope(envelope)) {
    throw qpherErrorFrom(envelope.error.code, envelope.error.message, envelope.request_id);
  }
  return envelope.data;
}
