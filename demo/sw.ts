/**
 * The playground's service worker: precaches every file of the build on install and serves them
 * cache-first, so that after one visit the page reloads and runs (local backend: Worker +
 * IndexedDB) with no network at all. API calls (`/api/`, `/healthz`, `/readyz`) are never
 * intercepted: with the network off they fail in the page, where the remote backend turns the
 * failure into an ERR_SERVICE_001 envelope.
 *
 * The file list comes from the build (vite.config.ts writes it over the placeholder below), with
 * a version hash of the files' contents; a new build is a new sw.js, installed as the next
 * version, which swaps caches on activation.
 * @module
 */

// Minimal types: the project's `lib` is DOM, and adding WebWorker beside it clashes.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface ServiceWorkerScope {
  readonly location: Location;
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const scope = self as unknown as ServiceWorkerScope;
const MANIFEST = JSON.parse('__QPHER_PRECACHE_MANIFEST__') as { version: string; urls: string[] };
const PREFIX = 'qpher-playground-';
const CACHE = PREFIX + MANIFEST.version;
const ROOT = new URL(scope.registration.scope).pathname;
/** Paths that belong to the server, not to the app: always the network. */
const PASS_THROUGH = /^\/(?:api\/|healthz$|readyz$)/;

scope.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // `cache: 'reload'`: fill the cache from the server, never from a stale HTTP cache entry.
      await cache.addAll(MANIFEST.urls.map((url) => new Request(url, { cache: 'reload' })));
      await scope.skipWaiting();
    })(),
  );
});

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await scope.clients.claim();
    })(),
  );
});

scope.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== scope.location.origin || PASS_THROUGH.test(url.pathname)) return;

  if (request.mode === 'navigate') {
    if (url.pathname !== ROOT && url.pathname !== `${ROOT}index.html`) return;
    event.respondWith(fromCache(ROOT, request));
    return;
  }
  event.respondWith(fromCache(url.pathname, request));
});

/** The precached copy when there is one, else the network (files of an older or newer build). */
async function fromCache(key: string, request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  return hit ?? fetch(request);
}
