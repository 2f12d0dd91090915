/**
 * Retry policy of the remote backend: which outcomes are retried, exponential backoff with full
 * jitter, and `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date). Pure functions,
 * no timers: the caller owns the deadline.
 * @module
 */

/**
 * Statuses worth another attempt: the server or a proxy said "not now" (429, 503) or a gateway
 * failed on the way (502, 504). 400/401/403/404 will fail the same way again, and a 500 may have
 * done half the work, so those are returned at once.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * `random(0, min(maxDelayMs, baseDelayMs · 2^retry))`, `retry` counting from 0.
 */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  return random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
}

/**
 * Milliseconds a `Retry-After` header asks us to wait, or `undefined` when absent or unreadable.
 * A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only a date with a weekday/month name: Date.parse also accepts "-1" or "1.5" as years.
  const date = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
