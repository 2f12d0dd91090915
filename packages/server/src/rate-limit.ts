/**
 * Token-bucket rate limiting per API key: each key's bucket holds up to `burst` tokens and refills
 * at `rps` tokens per second; a request takes one token or is refused with the number of whole
 * seconds after which one will be available. TokenBuckets keep them in this process's memory (the
 * SQLite server: two processes on one data directory each allow the configured rate); the
 * PostgreSQL store keeps them in the database instead, shared by every instance (postgres.ts).
 * @module
 */

export interface RateLimit {
  /** Sustained requests per second per API key. */
  rps: number;
  /** Bucket size: requests allowed at once after a quiet period. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { rps: 50, burst: 100 };

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Takes one token for an API key: in memory (TokenBuckets) or in a shared database. */
export interface RateLimiter {
  take(id: string): RateDecision | Promise<RateDecision>;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class TokenBuckets implements RateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = 0;

  constructor(limit: RateLimit = DEFAULT_RATE_LIMIT, now: () => number = () => performance.now()) {
    if (!(limit.rps > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit must have rps > 0 and burst >= 1');
    this.#limit = limit;
    this.#now = now;
  }

  take(id: string): RateDecision {
    const now = this.#now();
    this.#sweep(now);
    const { rps, burst } = this.#limit;
    const bucket = this.#buckets.get(id) ?? { tokens: burst, updated: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updated) / 1000) * rps);
    bucket.updated = now;
    this.#buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rps)) };
  }

  /** Drops buckets that have refilled completely: they behave exactly like absent ones. */
  #sweep(now: number): void {
    const fullAfterMs = (this.#limit.burst / this.#limit.rps) * 1000;
    if (now - this.#lastSweep < Math.max(fullAfterMs, 10_000)) return;
    this.#lastSweep = now;
    for (const [id, bucket] of this.#buckets) if (now - bucket.updated >= fullAfterMs) this.#buckets.delete(id);
  }
}

/** Parses `RPS[:BURST]` (e.g. `50:100`); BURST defaults to twice RPS. Throws a TypeError. */
export function parseRateLimit(text: string): RateLimit {
  const match = /^(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(text.trim());
  const rps = match ? Number(match[1]) : NaN;
  const burst = match?.[2] !== undefined ? Number(match[2]) : Math.max(1, Math.ceil(rps * 2));
  if (!match || !(rps > 0) || !(burst >= 1))
    throw new TypeError(`--rate-limit must be RPS[:BURST] with RPS > 0 and BURST >= 1, got "${text}"`);
  return { rps, burst };
}
