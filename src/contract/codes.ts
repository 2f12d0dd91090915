/**
 * The spec's error codes, their HTTP statuses and default messages: the one table that maps
 * codes to statuses, used by the engine, the server, the remote backend and `unwrap`.
 * @module
 */

export const ERROR_CODES = {
  ERR_AUTH_001: { status: 401, message: 'Invalid or missing API key' },
  ERR_INVALID_001: { status: 400, message: 'Request validation failed' },
  ERR_FORBIDDEN_001: { status: 403, message: 'Operation not allowed by policy' },
  ERR_NOT_FOUND_001: { status: 404, message: 'Resource not found' },
  ERR_KEM_005: { status: 404, message: 'Key version not found' },
  ERR_RATE_001: { status: 429, message: 'Rate limit exceeded' },
  ERR_CRYPTO_001: { status: 500, message: 'Internal cryptography error' },
  ERR_INTERNAL_001: { status: 500, message: 'Internal server error' },
  ERR_BAD_GATEWAY_001: { status: 502, message: 'Downstream service error' },
  ERR_SERVICE_001: { status: 503, message: 'Service temporarily unavailable' },
  ERR_TIMEOUT_001: { status: 504, message: 'Gateway timeout' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** HTTP status for a code; an unknown code from a foreign server counts as a 500. */
export function statusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].status : 500;
}
