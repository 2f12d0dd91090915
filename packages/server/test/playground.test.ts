import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYGROUND_CSP, servePlayground, type PlaygroundHandler } from '../src/playground.js';

let base: string;
let dir: string;
let serve: PlaygroundHandler;
const origin = 'http://127.0.0.1:8080';
const get = (path: string, init?: RequestInit) => serve(new Request(origin + path, init));

beforeAll(async () => {
  // base/outside.txt sits next to the served directory, base/play: traversal must not reach it.
  base = await mkdtemp(join(tmpdir(), 'qpher-playground-'));
  dir = join(base, 'play');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await mkdir(join(dir, 'assets', 'nested'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(dir, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  await writeFile(join(dir, 'assets', 'index-AbC123.js'), 'console.log(1);');
  await writeFile(join(dir, 'assets', 'index-AbC123.css'), 'body{}');
  await writeFile(join(dir, 'assets', 'blob-AbC123.bin'), new Uint8Array([1, 2, 3]));
  await writeFile(join(dir, 'assets', '.secret'), 'no');
  await writeFile(join(dir, 'assets', 'nested', 'x.js'), 'no');
  await writeFile(join(base, 'outside.txt'), 'outside');
  serve = servePlayground(dir);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('servePlayground', () => {
  it('serves index.html at / and /index.html, revalidated on every visit, with the CSP', async () => {
    for (const path of ['/', '/index.html']) {
      const response = (await get(path))!;
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toBe(PLAYGROUND_CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await response.text()).toContain('<title>t</title>');
    }
  });

  it('serves the service worker as JavaScript, not cached, with the CSP (its own policy)', async () => {
    const response = (await get('/sw.js'))!;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toBe(PLAYGROUND_CSP);
  });

  it('serves hashed assets as immutable with their content types', async () => {
    const js = (await get('/assets/index-AbC123.js'))!;
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-security-policy')).toBe(PLAYGROUND_CSP);
    expect(await js.text()).toBe('console.log(1);');
    const css = (await get('/assets/index-AbC123.css'))!;
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const bin = (await get('/assets/blob-AbC123.bin'))!;
    expect(bin.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await bin.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('has a CSP with no inline script, no eval, and same-origin workers and connections', () => {
    const directives = new Map(PLAYGROUND_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('worker-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(PLAYGROUND_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('answers a matching If-None-Match with 304 and no body; HEAD with headers only', async () => {
    const first = (await get('/'))!;
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = (await get('/', { headers: { 'If-None-Match': `"other", W/${etag}` } }))!;
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const head = (await get('/sw.js', { method: 'HEAD' }))!;
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String('self.addEventListener("fetch", () => {});'.length));
    expect(await head.text()).toBe('');
  });

  it('adds the extra headers it is given (HSTS over HTTPS) and refuses a missing directory argument', async () => {
    const hsts = 'max-age=31536000; includeSubDomains';
    const response = (await servePlayground(dir, { headers: { 'Strict-Transport-Security': hsts } })(new Request(`${origin}/sw.js`)))!;
    expect(response.headers.get('strict-transport-security')).toBe(hsts);
    expect(response.headers.get('content-security-policy')).toBe(PLAYGROUND_CSP);
    expect(() => servePlayground('')).toThrow(TypeError);
  });

  it('leaves every other request to the app (undefined)', async () => {
    const others = [
      '/api/v1/kms/keys?algorithm=Kyber768',
      '/healthz',
      '/missing.html',
      '/assets/missing-123.js',
      '/assets/.secret',
      '/assets/nested/x.js',
      '/assets/nested',
      '/assets/..%2F..%2Foutside.txt',
      '/assets/%2e%2e/%2e%2e/outside.txt',
      '/../outside.txt',
      '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/../../etc/passwd',
      '/assets/',
      '/assets',
      '//index.html',
      '/index.html/',
    ];
    for (const path of others) expect(await get(path), path).toBeUndefined();
    // Dot segments (also percent-encoded) are resolved by the URL parser first, never above `/`.
    expect(await (await get('/assets/%2e%2e/index.html'))!.text()).toContain('<title>t</title>');
    expect(await get('/', { method: 'POST', body: '{}' })).toBeUndefined();
    expect(await get('/', { method: 'DELETE' })).toBeUndefined();
  });
});
