/**
 * Caps on requests in flight, so a flood of slow or stalled clients holds a bounded amount of the
 * server (sockets, buffered body bytes, queued work): at most `total` API requests at once, and at
 * most `perKey` per API key, so one key cannot take every slot. Past a cap: 503 ERR_SERVICE_001
 * with `Retry-After: 1`, answered before the body is read. A request counts from the moment it is
 * routed until its answer is produced (the body's reception included).
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { type Env, fail } from './context.js';

export interface InFlightLimits {
  /** API requests in flight at once, over all keys (and unauthenticated callers). */
  total: number;
  /** API requests in flight at once per API key. */
  perKey: number;
}

export const DEFAULT_IN_FLIGHT: InFlightLimits = { total: 256, perKey: 32 };

export class InFlight {
  readonly limits: InFlightLimits;
  #total = 0;
  readonly #perKey = new Map<string, number>();

  constructor(limits: InFlightLimits) {
    this.limits = limits;
  }

  get total(): number {
    return this.#total;
  }

  /** The total cap, for every API route, before authentication. */
  totalCap(): MiddlewareHandler<Env> {
    return async (c, next) => {
      if (this.#total >= this.limits.total) {
        return busy(c, 'the server has too many requests in flight');
      }
      this.#total++;
      try {
        await next();
      } finally {
        this.#total--;
      }
    };
  }

  /** Takes a slot of `keyId`; false when it has none left. Give it back with `leave`. */
  enter(keyId: string): boolean {
    const used = this.#perKey.get(keyId) ?? 0;
    if (used >= this.limits.perKey) return false;
    this.#perKey.set(keyId, used + 1);
    return true;
  }

  leave(keyId: string): void {
    const used = (this.#perKey.get(keyId) ?? 1) - 1;
    if (used <= 0) this.#perKey.delete(keyId);
    else this.#perKey.set(keyId, used);
  }
}

export function busy(c: Parameters<MiddlewareHandler<Env>>[0], why: string): Response {
  const response = fail(c, 'ERR_SERVICE_001', `Service temporarily unavailable: ${why}; retry shortly`);
  response.headers.set('Retry-After', '1');
  return response;
}
