/**
 * What the server sends with the playground: a strict CSP on the page, its Worker script and
 * its service worker (each takes its own response's policy), and cache headers per kind of file.
 * The console fixture fails any test on a CSP violation, so the other specs prove the policy
 * does not get in the way.
 */
import { expect, openPlayground, test } from './fixtures.js';

const CSP =
  /^default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'; .*object-src 'none'; base-uri 'none';.* frame-ancestors 'none'$/;

test('CSP and cache headers on the page, the Worker script and the service worker', async ({ page }) => {
  const workerUrl = page.waitForEvent('worker').then((worker) => worker.url());
  const response = (await page.goto('/'))!;
  await openPlayground(page);
  const pageHeaders = response.headers();
  expect(pageHeaders['content-security-policy']).toMatch(CSP);
  expect(pageHeaders['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(pageHeaders['cache-control']).toBe('no-cache');
  expect(pageHeaders['content-type']).toBe('text/html; charset=utf-8');

  // The Worker starts with the first call (the key listing): its script is a hashed, immutable asset.
  const worker = await page.request.get(await workerUrl);
  expect(worker.headers()['content-type']).toBe('text/javascript; charset=utf-8');
  expect(worker.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(worker.headers()['content-security-policy']).toMatch(CSP);

  const sw = await page.request.get('/sw.js');
  expect(sw.headers()['cache-control']).toBe('no-cache');
  expect(sw.headers()['content-security-policy']).toMatch(CSP);
  // The build wrote the precache list into it: every file the page needs, the Worker included.
  const manifest = JSON.parse(JSON.parse(/JSON\.parse\(("(?:[^"\\]|\\.)*")\)/.exec(await sw.text())![1]!)) as {
    version: string;
    urls: string[];
  };
  expect(manifest.version).toMatch(/^[0-9a-f]{16}$/);
  expect(manifest.urls).toContain('/');
  expect(manifest.urls).toContain(new URL(await workerUrl).pathname);
  expect(manifest.urls.some((url) => url.endsWith('.css'))).toBe(true);
  expect(manifest.urls).not.toContain('/sw.js');

  // No inline script or style anywhere in the page.
  const inline = await page.evaluate(() => ({
    scripts: [...document.scripts].filter((s) => !s.src).length,
    styles: document.querySelectorAll('style, [style]').length,
  }));
  expect(inline).toEqual({ scripts: 0, styles: 0 });
});
