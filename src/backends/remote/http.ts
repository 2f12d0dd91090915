/**
 * The wire side of the remote backend: checking `baseUrl`, mapping an operation and its request
 * to a URL and body, and reading whatever came back as an envelope (tolerantly). No zod, no
 * crypto: this module is in the browser bundle of `Qpher` + `RemoteBackend`.
 * @module
 */
import { ERROR_CODES, isErrorCode } from '../../contract/codes.js';
import type { Envelope } from '../../contract/envelope.js';
import { OPERATIONS, type OperationName } from '../../contract/operations.js';

/** 127.0.0.0/8, ::1 and localhost: the hosts where plain http never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  // WHATWG URL normalises IPv4 (`127.1` -> `127.0.0.1`) and brackets IPv6 (`[::1]`).
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Parses and checks `baseUrl`; returns it without a trailing slash. Never echoes more than the
 * origin in a message, in case someone pasted a secret into the URL.
 */
export function checkBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' && !(baseUrl instanceof URL)) {
    throw new TypeError('"baseUrl" option must be a string or URL');
  }
  let url: URL;
  try {
    url = new URL(String(baseUrl));
  } catch {
    throw new TypeError('"baseUrl" option must be an absolute URL such as "https://api.example.com"');
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('"baseUrl" option must not contain credentials; pass the API key as "apiKey"');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError('"baseUrl" option must not have a query or fragment');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new TypeError(
      `"baseUrl" option must use https: (plain http: is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1); got ${url.protocol}//${url.host}`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

export type Route = { url: string; body?: string } | { invalid: string };

/**
 * URL (and JSON body for POST) for one operation. GET operations put path placeholders
 * (`{algorithm}`, `{key_version}`) in the path and every other field in the query string, so an
 * unknown field still reaches the server and is refused there by name, as the local backend does.
 */
export function route(baseUrl: string, operation: OperationName, request: unknown): Route {
  const { method, path } = OPERATIONS[operation];
  if (method === 'POST') return { url: baseUrl + path, body: JSON.stringify(request ?? null) };
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { invalid: 'Validation failed: request body must be a JSON object' }; // the engine's words
  }
  const fields: Record<string, unknown> = { ...request };
  let missing: string | undefined;
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = fields[name];
    delete fields[name];
    if (value === undefined || value === null) missing ??= name;
    return encodeURIComponent(String(value));
  });
  // An empty path segment would reach another route (or none); say what the engine says instead.
  if (missing !== undefined) return { invalid: `Validation failed: ${missing} is required` };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) query.append(name, typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
  }
  const search = query.toString();
  return { url: baseUrl + filled + (search === '' ? '' : `?${search}`) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The envelope in a parsed body, or `undefined` when the body is not one. A tolerant reader:
 * either of `error.code` and `error.error_code` (what the published Qpher SDKs read) fills both,
 * as every envelope of ours carries them, a missing message
 * gets the code's default, a missing `request_id`/`timestamp` gets the one we sent / now.
 * Anything else is returned as the server sent it.
 */
export function readEnvelope(body: unknown, requestId: string): Envelope | undefined {
  if (!isRecord(body)) return undefined;
  const meta = {
    request_id: typeof body.request_id === 'string' ? body.request_id : requestId,
    timestamp: typeof body.timestamp === 'string' ? body.timestamp : new Date().toISOString(),
  };
  if (isRecord(body.error)) {
    const { error_code, ...error } = body.error;
    const code = typeof error.code === 'string' ? error.code : typeof error_code === 'string' ? error_code : undefined;
    if (code === undefined) return undefined;
    const message = typeof error.message === 'string' ? error.message : isErrorCode(code) ? ERROR_CODES[code].message : 'Unknown error';
    return { ...body, ...meta, error: { ...error, code, error_code: code, message } } as Envelope;
  }
  if ('data' in body && !('error' in body)) return { ...body, ...meta } as Envelope;
  return undefined;
}
