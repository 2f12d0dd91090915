/**
 * The browser Worker backend in real Chromium (Debian's, through Playwright): LocalBackend with
 * its module Worker and IndexedDB, default (noble) vs the wasm provider (bench/browser/), for
 * encrypt 1 KiB and sign 1 KiB. Each figure is measured inside the page (calls back to back),
 * subjects interleaved round by round; medians.
 */
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { build, preview } from 'vite';
import { median } from './measure.js';

export interface BrowserRow {
  operation: string;
  provider: string;
  opsPerSec: number;
}

const configFile = fileURLToPath(new URL('./browser/vite.config.ts', import.meta.url));
const outDir = fileURLToPath(new URL('../node_modules/.cache/qpher-bench-browser', import.meta.url));

export async function benchBrowser({ rounds = 5, roundMs = 400, port = 41741 } = {}): Promise<BrowserRow[]> {
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port, strictPort: true } });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const providers = (await page.evaluate(() => (window as any).__bench.ready)) as Record<string, string>;
    if (providers.noble !== 'noble' || providers.wasm !== 'wasm') throw new Error(`unexpected providers ${JSON.stringify(providers)}`);
    const subjects = ['noble', 'wasm'].flatMap((provider) => ['encrypt 1 KiB', 'sign 1 KiB'].map((operation) => ({ provider, operation })));
    const results = new Map<string, number[]>();
    const measure = (s: { provider: string; operation: string }, ms: number) =>
      page.evaluate(([p, o, t]) => (window as any).__bench.measure(p, o, t) as Promise<number>, [s.provider, s.operation, ms] as const);
    for (const s of subjects) await measure(s, roundMs / 2); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const s of subjects) {
        const key = `${s.provider}|${s.operation}`;
        results.set(key, [...(results.get(key) ?? []), await measure(s, roundMs)]);
      }
    }
    if (errors.length > 0) throw new Error(`browser errors: ${errors.join('; ')}`);
    return subjects.map((s) => ({ ...s, opsPerSec: median(results.get(`${s.provider}|${s.operation}`)!) }));
  } finally {
    await browser.close();
    await server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await benchBrowser());
}
