/**
 * The HTTP app: Web `Request` -> `Response` on Hono, with no `node:*` import, so it runs
 * in-process (`app.request(...)`) as well as behind `node.ts`. It adds to the engine exactly what
 * HTTP needs and nothing else: routing, API-key authentication, scopes, rate limits, body
 * parsing, idempotency, request ids and access logs. Every answer, errors included, is an
 * envelope built by the contract's `successEnvelope`/`errorEnvelope` with `Content-Type:
 * application/json` and `X-Request-ID`; the status of an error is always `statusOf(code)`.
 *
 * This module is the wiring; each concern is a middleware of its own in http/:
 *   context (request id, common headers, access log) -> [playground] -> route ->
 *   guard (API key 401 -> rate limit 429 -> scope 403) -> request (query/body 400) ->
 *   idempotent (Idempotency-Key) -> the operation (engine).
 * Unauthenticated callers never make the server read a body.
 * @module
 */
import { Hono } from 'hono';
import {
  type Engine,
  isErrorEnvelope,
  OPERATION_NAMES,
  OPERATIONS,
  pathsOf,
  ServiceUnavailableError,
  statusOf,
  successEnvelope,
} from 'qpher/host';
import type { ApiKeyLookup } from './auth.js';
import { DEFAULT_BODY_IDLE_MS, DEFAULT_MAX_BODY_BYTES } from './body.js';
import { describeError, type Env, fail, printablePath, requestContext, respond } from './http/context.js';
import { guard } from './http/guard.js';
import { DEFAULT_IN_FLIGHT, InFlight, type InFlightLimits } from './http/in-flight.js';
import { idempotent } from './http/idempotent.js';
import { parseRequest } from './http/request.js';
import { type IdempotencyStore, MemoryIdempotencyStore } from './idempotency.js';
import { servedOpenApi } from './openapi.js';
import { DEFAULT_RATE_LIMIT, type RateLimit, type RateLimiter, TokenBuckets } from './rate-limit.js';
import { IntegrityError } from './integrity-error.js';
import { StoreBusyError } from './store-busy.js';

export interface AppOptions {
  engine: Engine;
  apiKeys: ApiKeyLookup;
  /** Default: in memory (the node server passes the SQLite store). */
  idempotency?: IdempotencyStore;
  /** Per API key. Default 50 requests/s with a burst of 100; `false` turns it off. */
  rateLimit?: RateLimit | false;
  /** Where the buckets live. Default: this process's memory (TokenBuckets); postgres.ts shares them. */
  rateLimiter?: (limit: RateLimit) => RateLimiter;
  /** Bodies above this are refused before parsing. Default 2 MiB. */
  maxBodyBytes?: number;
  /** A body that sends nothing for this long is cut off (400, see body.ts). Default 10 s. */
  bodyIdleMs?: number;
  /** Requests in flight, in total and per API key (in-flight.ts). Default 256 and 32. */
  inFlight?: Partial<InFlightLimits>;
  /** Send `Strict-Transport-Security` (set when serving HTTPS). */
  hsts?: boolean;
  /** Readiness probe for `/readyz`: true when the store answers. */
  ready?: () => boolean | Promise<boolean>;
  /** Extra fields for a ready `/readyz` answer (the node server reports `provider`, `crypto_threads`). */
  readyInfo?: Record<string, string | number>;
  /** Base URL for `servers` in the OpenAPI document; default: the request's origin (see openapi.ts). */
  publicUrl?: string;
  /** One line per request; never keys, bodies or stack traces. Default: none. */
  log?: (line: string) => void;
  /**
   * Static files served before the API (the playground, see `playground.ts`): answers with a
   * Response, or `undefined` to let the API answer. Its responses keep their own Content-Type and
   * caching headers; they still get `X-Request-ID`.
   */
  playground?: (request: Request) => Promise<Response | undefined>;
  /** How long a repeat waits for an in-flight request with the same Idempotency-Key. */
  idempotencyWaitMs?: number;
  now?: () => number;
}

/** Route patterns of the table, to tell "wrong method" from "no such route". */
const ROUTE_PATTERNS = OPERATION_NAMES.flatMap((name) =>
  pathsOf(name).map((path) => ({
    name,
    method: OPERATIONS[name].method,
    pattern: new RegExp(`^${path.replace(/\{[a-z_]+\}/g, '[^/]+')}$`),
    fixed: !path.includes('{'),
  })),
);

/** The methods a path answers to; a fixed route (`/kms/keys/rotate`) hides a placeholder one. */
function methodsFor(pathname: string): string[] {
  const matches = ROUTE_PATTERNS.filter((r) => r.pattern.test(pathname));
  const fixed = matches.filter((r) => r.fixed);
  return [...new Set((fixed.length > 0 ? fixed : matches).map((r) => r.method))];
}

export function createApp(options: AppOptions): Hono<Env> {
  const engine = options.engine;
  const log = options.log;
  const inFlight = new InFlight({ ...DEFAULT_IN_FLIGHT, ...options.inFlight });
  const allowed = guard({
    inFlight,
    apiKeys: options.apiKeys,
    buckets:
      options.rateLimit === false
        ? undefined
        : (options.rateLimiter ?? ((limit) => new TokenBuckets(limit)))(options.rateLimit ?? DEFAULT_RATE_LIMIT),
  });
  const parsed = parseRequest({
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    idleMs: options.bodyIdleMs ?? DEFAULT_BODY_IDLE_MS,
  });
  const once = idempotent({
    store: options.idempotency ?? new MemoryIdempotencyStore(),
    waitMs: options.idempotencyWaitMs ?? 10_000,
    now: options.now ?? (() => Date.now()),
  });
  const openapi = servedOpenApi(engine.limits, options.publicUrl);

  const app = new Hono<Env>();
  app.use('*', requestContext({ ...(options.hsts !== undefined ? { hsts: options.hsts } : {}), ...(log ? { log } : {}) }));

  const playground = options.playground;
  if (playground) {
    app.use('*', async (c, next) => {
      const response = await playground(c.req.raw);
      if (!response) return next();
      c.set('passthrough', true);
      return response;
    });
  }

  app.use('/api/*', inFlight.totalCap());

  app.get('/healthz', (c) => respond(c, successEnvelope({ status: 'ok' }, c.var.requestId), 200));
  app.get('/readyz', async (c) => {
    let ok = false;
    try {
      ok = options.ready ? await options.ready() : true;
    } catch {
      ok = false;
    }
    return ok
      ? respond(c, successEnvelope({ status: 'ready', ...options.readyInfo }, c.var.requestId), 200)
      : fail(c, 'ERR_SERVICE_001', 'Service temporarily unavailable: the store is not ready');
  });
  app.get('/api/v1/openapi.json', (c) => {
    return c.body(openapi(c.req.url), 200, { 'Content-Type': 'application/json' });
  });

  // Table order registers `/kms/keys/active` before the alias `/kms/keys/{key_version}`, so
  // "active" is never taken for a version.
  for (const name of OPERATION_NAMES) {
    const op = OPERATIONS[name];
    const route = op.method === 'GET' ? app.get.bind(app) : app.post.bind(app);
    for (const template of pathsOf(name)) {
      route(template.replace(/\{([a-z_]+)\}/g, ':$1'), allowed(op.scope), parsed(name), once(name), async (c) => {
        const envelope = await engine.execute({ tenant: c.var.apiKey.tenant }, name, c.var.request, c.var.requestId);
        const status = isErrorEnvelope(envelope) ? statusOf(envelope.error.code) : op.status;
        c.set('outcome', { envelope, status });
        return respond(c, envelope, status);
      });
    }
  }

  app.notFound((c) => {
    const pathname = new URL(c.req.url).pathname;
    const allowedMethods = methodsFor(pathname);
    if (allowedMethods.length > 0) {
      // No spec code means 405; ERR_NOT_FOUND_001 keeps the code -> status table the only truth.
      const response = fail(
        c,
        'ERR_NOT_FOUND_001',
        `Method ${c.req.method} is not allowed on ${pathname}; use ${allowedMethods.join(' or ')}`,
      );
      response.headers.set('Allow', allowedMethods.join(', '));
      return response;
    }
    return fail(c, 'ERR_NOT_FOUND_001', 'Resource not found');
  });

  app.onError((error, c) => {
    log?.(`error ${c.req.method} ${printablePath(c.req.url)} ${describeError(error)}`);
    if (error instanceof StoreBusyError) return fail(c, 'ERR_SERVICE_001', 'Service temporarily unavailable');
    if (error instanceof IntegrityError) return fail(c, 'ERR_INTERNAL_001', error.message);
    if (error instanceof ServiceUnavailableError) return fail(c, 'ERR_SERVICE_001', error.message);
    return fail(c, 'ERR_INTERNAL_001', 'Internal server error');
  });

  return app;
}
