/**
 * Per-request context for every answer of the app: the request id (the caller's
 * `X-Request-ID` when it follows `requestIdFor`'s rule, else a fresh UUID), the headers every response carries (JSON, no-store, nosniff,
 * HSTS when serving HTTPS, `Retry-After` on any 503), one access-log line, and the envelope
 * helpers the other middlewares answer with.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono';
import { errorEnvelope, requestIdFor, statusOf, type Envelope, type ErrorCode } from 'qpher/host';
import type { ApiKeyRecord } from '../auth.js';

/** What an executed operation produced; the idempotency middleware stores it. */
export interface Outcome {
  envelope: Envelope;
  status: number;
}

export type Env = {
  Variables: {
    requestId: string;
    /** Set by the playground: its response keeps its own Content-Type and caching headers. */
    passthrough: boolean;
    /** Set by the guard. */
    apiKey: ApiKeyRecord;
    /** Set by the request parser: the operation's request object, and the raw body text (POST). */
    request: unknown;
    rawText: string;
    /** Set by the operation handler. */
    outcome: Outcome;
  };
};

const HSTS = 'max-age=31536000; includeSubDomains';

export function requestContext(options: { hsts?: boolean; log?: (line: string) => void }): MiddlewareHandler<Env> {
  const log = options.log;
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFor(c.req.header('x-request-id'));
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
  };
}

export function respond(c: Context<Env>, envelope: Envelope, status: number): Response {
  return c.body(JSON.stringify(envelope), status as 200, { 'Content-Type': 'application/json' });
}

export function fail(c: Context<Env>, code: ErrorCode, message: string): Response {
  return respond(c, errorEnvelope(code, message, c.var.requestId), statusOf(code));
}

/** The raw (still percent-encoded) path, so a log line cannot be split or forged. */
export function printablePath(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = '?';
  }
  path = path.replace(/[^\x21-\x7e]/g, '?');
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'code' in error ? ` ${String(error.code)}` : ''}: ${error.message.slice(0, 200)}`;
  return typeof error;
}
