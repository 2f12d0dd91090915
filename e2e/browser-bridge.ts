/**
 * A Node-side bridge to LocalBackend running in real Chromium, for suites that run under vitest
 * (the shared contract suite): builds the e2e fixture page with Vite, serves it with `vite preview`
 * on 127.0.0.1, launches Debian's Chromium, and hands out Backends whose `call` runs
 * `window.__qpherBackend.call(...)` in a page of their own (a fresh IndexedDB database each, so a
 * fresh keyspace), through `page.evaluate`.
 *
 *   const bridge = await startBrowserBridge();
 *   contract('browser', async () => new Qpher({ backend: await bridge.backend() }));
 *   afterAll(() => bridge.close());   // then: expect(bridge.errors).toEqual([])
 */
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import type { Backend, CallOptions } from '../src/backends/backend.js';
import type { Envelope } from '../src/contract/envelope.js';
import type { OperationName } from '../src/contract/operations.js';

export interface BrowserBridge {
  /** A LocalBackend (module Worker + IndexedDB) in a new page of the shared browser context. */
  backend(): Promise<Backend>;
  /** Console errors and uncaught errors seen in any page so far. */
  readonly errors: string[];
  readonly url: string;
  close(): Promise<void>;
}

export interface BrowserBridgeOptions {
  /** Port for `vite preview` on 127.0.0.1. Default QPHER_E2E_PORT + 1 (41732; the Playwright suite uses QPHER_E2E_PORT). */
  port?: number;
  executablePath?: string;
}

const configFile = fileURLToPath(new URL('./fixtures/vite.config.ts', import.meta.url));
const outDir = fileURLToPath(new URL('../node_modules/.cache/qpher-e2e-bridge-dist', import.meta.url));

export async function startBrowserBridge(options: BrowserBridgeOptions = {}): Promise<BrowserBridge> {
  const port = options.port ?? Number(process.env.QPHER_E2E_PORT ?? 41731) + 1;
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  let server: PreviewServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port, strictPort: true } });
    browser = await chromium.launch({
      executablePath: options.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (error) {
    await browser?.close();
    await server?.close();
    throw error;
  }
  const url = `http://127.0.0.1:${port}/`;
  const context: BrowserContext = await browser.newContext();
  const errors: string[] = [];
  context.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  context.on('weberror', (error) => errors.push(`pageerror: ${error.error().message}`));
  let pages = 0;

  return {
    errors,
    url,
    async backend() {
      const page = await context.newPage();
      await page.goto(`${url}?db=bridge-${Date.now()}-${++pages}`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
      return new PageBackend(page);
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** A Backend whose calls run in the page's LocalBackend; requests and envelopes cross as JSON. */
class PageBackend implements Backend {
  readonly #page: Page;

  constructor(page: Page) {
    this.#page = page;
  }

  async call(operation: OperationName, request: unknown, options: CallOptions & { requestId: string }): Promise<Envelope> {
    const { requestId, signal, timeoutMs } = options;
    signal?.throwIfAborted();
    // The request crosses as JSON text (as it would over HTTP), parsed in the page: Playwright's own
    // argument serialisation would turn an own `__proto__` field into a prototype and lose it.
    const answer = this.#page.evaluate(
      ([operation, json, requestId, timeoutMs]) =>
        (window as any).__qpherBackend.call(operation, json === undefined ? undefined : JSON.parse(json), {
          requestId,
          ...(timeoutMs === null ? {} : { timeoutMs }),
        }),
      [operation, JSON.stringify(request), requestId, timeoutMs ?? null] as const,
    ) as Promise<Envelope>;
    if (!signal) return answer;
    // An AbortSignal cannot cross into the page: abort on this side, as fetch would.
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      answer.then(resolve, reject);
    });
  }

  async close(): Promise<void> {
    if (this.#page.isClosed()) return;
    await this.#page.evaluate(() => (window as any).__qpherBackend.close());
    await this.#page.close();
  }
}
