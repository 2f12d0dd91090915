/**
 * Serves the built playground (`vite build` -> dist/playground) next to the API: `/` (index.html),
 * `/sw.js` (the service worker) and `/assets/*` (content-hashed files), with a strict
 * Content-Security-Policy and cache headers that suit each kind:
 *
 * - `index.html` and `sw.js`: `no-cache` (always revalidated, ETag -> 304), so a new build is
 *   seen on the next visit and the service worker's update check never reads a stale copy;
 * - `assets/*`: `immutable` for a year, since their names change whenever their bytes do.
 *
 * The CSP allows no inline script or style and no eval; scripts, the module Worker and the
 * service worker load from this origin only, and they may only connect to this origin. It is sent
 * on every file, not only on the page: a Worker and a service worker take their policy from
 * their own script's response.
 *
 * Anything else (other paths, other methods) is `undefined`: the caller's app answers it (with
 * its 404 envelope). Paths are matched against a fixed shape before touching the file system, so
 * `..`, encoded slashes or dot-files never reach it.
 * @module
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const PLAYGROUND_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  webmanifest: 'application/manifest+json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  webp: 'image/webp',
  woff2: 'font/woff2',
  wasm: 'application/wasm',
  txt: 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** `/`, `/index.html`, `/sw.js`, or one file directly under `/assets/` whose name starts with a letter or digit. */
const SERVED_PATH = /^\/(?:|index\.html|sw\.js|assets\/[A-Za-z0-9_][A-Za-z0-9._-]*)$/;

export type PlaygroundHandler = (request: Request) => Promise<Response | undefined>;

export interface PlaygroundOptions {
  /** Added to every response, e.g. `Strict-Transport-Security` when serving HTTPS. */
  headers?: Record<string, string>;
}

/**
 * A handler for the built playground in `dir`. Mount it before the API's routes; it returns
 * `undefined` for any request it does not serve.
 */
export function servePlayground(dir: string, options: PlaygroundOptions = {}): PlaygroundHandler {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('"dir" must be a non-empty path');
  const extra = Object.entries(options.headers ?? {});
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    let pathname: string;
    try {
      pathname = new URL(request.url).pathname;
    } catch {
      return undefined;
    }
    if (!SERVED_PATH.test(pathname)) return undefined;
    const file = pathname === '/' ? 'index.html' : pathname.slice(1);

    let body: Buffer;
    try {
      body = await readFile(join(dir, file));
    } catch {
      return undefined; // missing (or a directory): the app's 404
    }

    const extension = file.slice(file.lastIndexOf('.') + 1);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const headers = new Headers({
      'Content-Type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      'Cache-Control': file.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
      ETag: etag,
      'Content-Security-Policy': PLAYGROUND_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    for (const [name, value] of extra) headers.set(name, value);
    if (ifNoneMatch(request.headers.get('if-none-match'), etag)) {
      headers.delete('Content-Type');
      return new Response(null, { status: 304, headers });
    }
    headers.set('Content-Length', String(body.byteLength));
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
  };
}

/** RFC 9110 §13.1.2: weak comparison against a list of entity tags, or `*`. */
function ifNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
