/**
 * Turns an HTTP request into the operation's request object (400 ERR_INVALID_001 when it cannot):
 * GET operations from the query string or the path, POST operations from a JSON body (checked
 * Content-Type, size limit, no duplicate keys; see body.ts). Sets `request` and `rawText`.
 * Validation of the fields themselves is the engine's, against the contract's schemas.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono';
import { OPERATIONS, type OperationName } from 'qpher/host';
import { BodyError, BodyTimeoutError, isJsonContentType, parseJsonBody, readBody } from '../body.js';
import { type Env, fail } from './context.js';

export function parseRequest(options: { maxBodyBytes: number; idleMs: number }): (name: OperationName) => MiddlewareHandler<Env> {
  return (name) => async (c, next) => {
    let request: unknown;
    let rawText = '';
    if (OPERATIONS[name].method === 'GET') {
      const built = queryRequest(c, pathFields(c));
      if (typeof built === 'string') return fail(c, 'ERR_INVALID_001', built);
      request = built;
    } else {
      if (!isJsonContentType(c.req.header('content-type') ?? null)) {
        return fail(c, 'ERR_INVALID_001', 'Validation failed: Content-Type must be application/json');
      }
      try {
        const parsed = parseJsonBody(await readBody(c.req.raw, options.maxBodyBytes, options.idleMs));
        request = parsed.value;
        rawText = parsed.text;
      } catch (error) {
        if (error instanceof BodyError) {
          const response = fail(c, 'ERR_INVALID_001', error.message);
          // A stalled body: the connection cannot be reused (the rest may still arrive).
          if (error instanceof BodyTimeoutError) response.headers.set('Connection', 'close');
          return response;
        }
        throw error;
      }
    }
    c.set('request', request);
    c.set('rawText', rawText);
    await next();
  };
}

/**
 * A GET request's fields: the path's placeholders, then every query parameter (unknown ones are
 * refused by name by the engine's schema). A field given both in the path and the query, or twice
 * in the query, is refused here: no silent precedence.
 */
function queryRequest(c: Context<Env>, fields: Record<string, unknown>): Record<string, unknown> | string {
  const request = { ...fields };
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1 || Object.hasOwn(request, name)) {
      return `Validation failed: query parameter ${JSON.stringify(name)} is given more than once`;
    }
    request[name] = values[0]!;
  }
  return request;
}

/** Path placeholders (`{algorithm}`, `{key_version}`); a version is a number when it looks like one. */
function pathFields(c: Context<Env>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(c.req.param() as Record<string, string>)) {
    fields[name] = name === 'key_version' && /^-?\d{1,20}$/.test(value) ? Number(value) : value;
  }
  return fields;
}
