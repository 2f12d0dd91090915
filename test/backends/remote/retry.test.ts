import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUSES } from '../../../src/backends/remote/retry.js';

describe('retry policy', () => {
  it('retries 429, 502, 503, 504 only', () => {
    expect([...RETRYABLE_STATUSES].sort()).toEqual([429, 502, 503, 504]);
    for (const status of [200, 201, 400, 401, 403, 404, 500]) expect(RETRYABLE_STATUSES.has(status)).toBe(false);
  });

  it('backs off with full jitter: random(0, min(max, base * 2^retry))', () => {
    expect(backoffDelay(0, 500, 10_000, () => 0.999999)).toBeCloseTo(500, 2);
    expect(backoffDelay(1, 500, 10_000, () => 0.5)).toBe(500);
    expect(backoffDelay(3, 500, 10_000, () => 1)).toBe(4000);
    expect(backoffDelay(5, 500, 10_000, () => 1)).toBe(10_000); // capped
    expect(backoffDelay(40, 500, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(2, 500, 10_000, () => 0)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, 500, 10_000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(2000);
    }
  });

  it('reads Retry-After as delay-seconds or an HTTP date', () => {
    const now = Date.parse('2026-02-15T10:30:00Z');
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('1')).toBe(1000);
    expect(parseRetryAfter(' 120 ')).toBe(120_000);
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter('Sun, 15 Feb 2026 10:30:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sun, 15 Feb 2026 10:29:00 GMT', now)).toBe(0); // in the past: now
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
  });
});
