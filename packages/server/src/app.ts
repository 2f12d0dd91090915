/**
 * The HTTP app: Web `Request` -> `Response` on Hono, with no `node:*` import, so it runs
 * in-process (`app.request(...)`) as well as behind `node.ts`. It adds to the engine exactly what
 * HTTP needs and nothing else: routing, API-key authentication, scopes, rate limits, body
 * parsing, idempotency, request ids and access logs. Every answer, errors included, is an
 * envelope built by the contract's `successEnvelope`/`errorEnvelope` with `Content-Type:
 * application/json` and `X-Request-ID`; the status of an error is always `statusOf(code)`.
 *
 * Order per request: route -> API key (401) -> rate limit (429) -> scope (403) -> body (400)
 * -> idempotency -> engine. Unauthenticated callers never make the server read a body.
 * @module
 */
import { Hono, type Context } from 'hono';
import { statusOf, type ErrorCode } from 'qpher/host';
import { errorEnvelope, isErrorEnvelope, successEnvelope, type Envelope } from 'qpher/host';
import { OPERATIONS, OPERATION_NAMES, type OperationName } from 'qpher/host';
import type { Engine } from 'qpher/host';
import { authenticate, type ApiKeyLookup, type ApiKeyRecord } from './auth.js';
import { BodyError, DEFAULT_MAX_BODY_BYTES, isJsonContentType, parseJsonBody, readBody } from './body.js';
import {
  MemoryIdempotencyStore,
  isValidIdempotencyKey,
  requestFingerprint,
  type IdempotencyStore,
  type StoredResponse,
} from './idempotency.js';
import { servedOpenApi } from './openapi.js';
import { DEFAULT_RATE_LIMIT, TokenBuckets, type RateLimit } from './rate-limit.js';

export interface AppOptions {
  engine: Engine;
  apiKeys: ApiKeyLookup;
  /** Default: in memory (the node server passes the SQLite store). */
  idempotency?: IdempotencyStore;
  /** Per API key. Default 50 requests/s with a burst of 100; `false` turns it off. */
  rateLimit?: RateLimit | false;
  /** Bodies above this are refused before parsing. Default 2 MiB. */
  maxBodyBytes?: number;
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

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HSTS = 'max-age=31536000; includeSubDomains';

type Env = { Variables: { requestId: string; passthrough: boolean } };

/** Route patterns of the table, to tell "wrong method" from "no such route". */
const ROUTE_PATTERNS = OPERATION_NAMES.map((name) => ({
  name,
  method: OPERATIONS[name].method,
  pattern: new RegExp(`^${OPERATIONS[name].path.replace(/\{[a-z_]+\}/g, '[^/]+')}$`),
}));

export function createApp(options: AppOptions): Hono<Env> {
  const engine = options.engine;
  const idempotency: IdempotencyStore = options.idempotency ?? new MemoryIdempotencyStore();
  const buckets = options.rateLimit === false ? undefined : new TokenBuckets(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = options.now ?? (() => Date.now());
  const waitMs = options.idempotencyWaitMs ?? 10_000;
  const log = options.log;
  const openapi = servedOpenApi(engine.limits, options.publicUrl);

  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given !== undefined && UUID_PATTERN.test(given) ? given : globalThis.crypto.randomUUID();
    c.set('requestId', requestId);
    await next();
    const headers = c.res.headers;
    headers.set('X-Request-ID', requestId);
    if (!c.var.passthrough) {
      headers.set('Content-Type', 'application/json');
      headers.set('Cache-Control', 'no-store');
      headers.set('X-Content-Type-Options', 'nosniff');
    }
    if (options.hsts) headers.set('Strict-Transport-Security', HSTS);
    // Every 503 (crypto queue full, store busy, not ready) says when to come back.
    if (c.res.status === 503 && !headers.has('Retry-After')) headers.set('Retry-After', '1');
    if (log) {
      const ms = (performance.now() - started).toFixed(1);
      log(`${c.req.method} ${printablePath(c.req.url)} ${c.res.status} ${ms}ms ${requestId}`);
    }
  });

  const playground = options.playground;
  if (playground) {
    app.use('*', async (c, next) => {
      const response = await playground(c.req.raw);
      if (!response) return next();
      c.set('passthrough', true);
      return response;
    });
  }

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

  for (const name of OPERATION_NAMES) {
    const op = OPERATIONS[name];
    const path = op.path.replace(/\{([a-z_]+)\}/g, ':$1');
    const handler = (c: Context<Env>) => handle(c, name);
    if (op.method === 'GET') app.get(path, handler);
    else app.post(path, handler);
  }

  app.notFound((c) => {
    const pathname = new URL(c.req.url).pathname;
    const allowed = ROUTE_PATTERNS.filter((r) => r.pattern.test(pathname)).map((r) => r.method);
    if (allowed.length > 0) {
      // No spec code means 405; ERR_NOT_FOUND_001 keeps the code -> status table the only truth.
      const response = fail(c, 'ERR_NOT_FOUND_001', `Method ${c.req.method} is not allowed on ${pathname}; use ${allowed.join(' or ')}`);
      response.headers.set('Allow', allowed.join(', '));
      return response;
    }
    return fail(c, 'ERR_NOT_FOUND_001', 'Resource not found');
  });

  app.onError((error, c) => {
    log?.(`error ${c.req.method} ${printablePath(c.req.url)} ${describeError(error)}`);
    if (isBusy(error)) return fail(c, 'ERR_SERVICE_001', 'Service temporarily unavailable');
    return fail(c, 'ERR_INTERNAL_001', 'Internal server error');
  });

  async function handle(c: Context<Env>, name: OperationName): Promise<Response> {
    const op = OPERATIONS[name];
    const requestId = c.var.requestId;

    const key = await authenticate(options.apiKeys, c.req.header('x-api-key'));
    if (!key) return fail(c, 'ERR_AUTH_001', 'Invalid or missing API key');

    if (buckets) {
      const decision = buckets.take(key.id);
      if (!decision.allowed) {
        const response = fail(c, 'ERR_RATE_001', `Rate limit exceeded. Retry after ${decision.retryAfterSeconds} seconds.`);
        response.headers.set('Retry-After', String(decision.retryAfterSeconds));
        return response;
      }
    }

    if (!key.scopes.includes(op.scope)) {
      return fail(c, 'ERR_FORBIDDEN_001', `Operation not allowed by policy: this API key lacks the "${op.scope}" scope`);
    }

    let request: unknown;
    let rawText = '';
    if (op.method === 'GET') {
      const built = name === 'kms.get' ? pathRequest(c) : queryRequest(c);
      if (typeof built === 'string') return fail(c, 'ERR_INVALID_001', built);
      request = built;
    } else {
      if (!isJsonContentType(c.req.header('content-type') ?? null)) {
        return fail(c, 'ERR_INVALID_001', 'Validation failed: Content-Type must be application/json');
      }
      try {
        const parsed = parseJsonBody(await readBody(c.req.raw, maxBodyBytes));
        request = parsed.value;
        rawText = parsed.text;
      } catch (error) {
        if (error instanceof BodyError) return fail(c, 'ERR_INVALID_001', error.message);
        throw error;
      }
    }

    const idempotencyKey = op.mutates ? c.req.header('idempotency-key') : undefined;
    if (idempotencyKey === undefined) return run(c, name, key, request);

    if (!isValidIdempotencyKey(idempotencyKey)) {
      return fail(c, 'ERR_INVALID_001', 'Validation failed: Idempotency-Key must be 1-255 printable ASCII characters without spaces');
    }
    const fingerprint = await requestFingerprint(name, request, rawText);
    const deadline = now() + waitMs;
    for (;;) {
      const reservation = await idempotency.reserve(key.tenant, idempotencyKey, fingerprint, now());
      if (reservation.state === 'replay') {
        const response = respond(c, replayed(reservation.response, requestId), reservation.response.status);
        response.headers.set('Idempotent-Replayed', 'true');
        return response;
      }
      if (reservation.state === 'mismatch') {
        return fail(c, 'ERR_INVALID_001', 'Validation failed: this Idempotency-Key was already used with a different request');
      }
      if (reservation.state === 'acquired') break;
      if (reservation.state === 'unknown') {
        return fail(
          c,
          'ERR_SERVICE_001',
          'The first request with this Idempotency-Key was interrupted after its change was saved, and its response is lost; ' +
            'check the keyring (GET /api/v1/kms/keys) rather than retrying with this key',
        );
      }
      if (now() >= deadline) {
        const response = fail(c, 'ERR_SERVICE_001', 'A request with this Idempotency-Key is still in progress; retry later');
        response.headers.set('Retry-After', '1');
        return response;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    let stored = false;
    try {
      const running = () => execute(name, key, request, requestId);
      const { envelope, status } = idempotency.run ? await idempotency.run(key.tenant, idempotencyKey, running) : await running();
      if (status < 500) {
        const record: StoredResponse = isErrorEnvelope(envelope) ? { status, error: envelope.error } : { status, data: envelope.data };
        await idempotency.complete(key.tenant, idempotencyKey, record, now());
        stored = true;
      }
      return respond(c, envelope, status);
    } finally {
      if (!stored) await idempotency.release(key.tenant, idempotencyKey);
    }
  }

  async function run(c: Context<Env>, name: OperationName, key: ApiKeyRecord, request: unknown): Promise<Response> {
    const { envelope, status } = await execute(name, key, request, c.var.requestId);
    return respond(c, envelope, status);
  }

  async function execute(name: OperationName, key: ApiKeyRecord, request: unknown, requestId: string) {
    const envelope = await engine.execute({ tenant: key.tenant }, name, request, requestId);
    const status = isErrorEnvelope(envelope) ? statusOf(envelope.error.code) : OPERATIONS[name].status;
    return { envelope, status };
  }

  return app;
}

function respond(c: Context<Env>, envelope: Envelope, status: number): Response {
  return c.body(JSON.stringify(envelope), status as 200, { 'Content-Type': 'application/json' });
}

function fail(c: Context<Env>, code: ErrorCode, message: string): Response {
  return respond(c, errorEnvelope(code, message, c.var.requestId), statusOf(code));
}

function replayed(response: StoredResponse, requestId: string): Envelope {
  if (response.error) return errorEnvelope(response.error.code as ErrorCode, response.error.message, requestId);
  return successEnvelope(response.data, requestId);
}

/** `GET /kms/keys?algorithm=…`: every query parameter is a field (unknown ones are refused by name). */
function queryRequest(c: Context<Env>): Record<string, string> | string {
  const request: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) return `Validation failed: query parameter ${JSON.stringify(name)} is given more than once`;
    request[name] = values[0]!;
  }
  return request;
}

/** `GET /kms/keys/{algorithm}/{key_version}`: the version is a number when it looks like one. */
function pathRequest(c: Context<Env>): Record<string, unknown> {
  const version = c.req.param('key_version') ?? '';
  return {
    algorithm: c.req.param('algorithm'),
    key_version: /^-?\d{1,20}$/.test(version) ? Number(version) : version,
  };
}

/** The raw (still percent-encoded) path, so a log line cannot be split or forged. */
function printablePath(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = '?';
  }
  path = path.replace(/[^\x21-\x7e]/g, '?');
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'code' in error ? ` ${String(error.code)}` : ''}: ${error.message.slice(0, 200)}`;
  return typeof error;
}

function isBusy(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED');
}
