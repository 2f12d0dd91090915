/**
 * Who may call an operation, in the order that never makes the server read a body for an
 * unauthenticated caller: API key (401) -> rate limit per key (429 with Retry-After) -> the
 * operation's scope (403) -> the key's in-flight cap (503 with Retry-After, in-flight.ts), held
 * until the answer is produced. Sets `apiKey` for the later middlewares.
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import type { Scope } from 'qpher/host';
import { authenticate, type ApiKeyLookup } from '../auth.js';
import type { RateLimiter } from '../rate-limit.js';
import { type Env, fail } from './context.js';
import { busy, type InFlight } from './in-flight.js';

export function guard(options: {
  apiKeys: ApiKeyLookup;
  buckets?: RateLimiter | undefined;
  inFlight: InFlight;
}): (scope: Scope) => MiddlewareHandler<Env> {
  const { apiKeys, buckets, inFlight } = options;
  return (scope) => async (c, next) => {
    const key = await authenticate(apiKeys, c.req.header('x-api-key'));
    if (!key) return fail(c, 'ERR_AUTH_001', 'Invalid or missing API key');

    if (buckets) {
      const decision = await buckets.take(key.id);
      if (!decision.allowed) {
        const response = fail(c, 'ERR_RATE_001', `Rate limit exceeded. Retry after ${decision.retryAfterSeconds} seconds.`);
        response.headers.set('Retry-After', String(decision.retryAfterSeconds));
        return response;
      }
    }

    if (!key.scopes.includes(scope)) {
      return fail(c, 'ERR_FORBIDDEN_001', `Operation not allowed by policy: this API key lacks the "${scope}" scope`);
    }
    if (!inFlight.enter(key.id)) return busy(c, 'this API key has too many requests in flight');
    c.set('apiKey', key);
    try {
      await next();
    } finally {
      inFlight.leave(key.id);
    }
  };
}
