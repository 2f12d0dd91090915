/**
 * The request id rule, one for every backend and the server: a caller's id of 1-128 characters
 * from `[A-Za-z0-9._:-]` is echoed (so trace ids that are not UUIDs survive); anything else, or
 * none, gets a fresh UUID v4. The character set keeps an id safe in a header and a log line.
 * Free of zod: the facade and the remote backend import it.
 * @module
 */

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

/** The id a request goes by: `given` when it follows the rule, else a new UUID v4. */
export function requestIdFor(given: unknown): string {
  return isValidRequestId(given) ? given : globalThis.crypto.randomUUID();
}
