/**
 * Shared pieces of the playground specs: a `page` that fails the test on any console error,
 * warning, uncaught exception or CSP violation (page, its Worker and its service worker), and
 * small helpers that act as a person would: by role and label.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test as base, type Locator, type Page } from '@playwright/test';

export { expect };

export interface ServerInfo {
  url: string;
  apiKey: string;
}

/** The server's URL and dev API key, written by serve.ts once the server has printed them. */
export async function serverInfo(): Promise<ServerInfo> {
  const path = fileURLToPath(new URL('../../node_modules/.cache/qpher-demo-e2e/server.json', import.meta.url));
  for (let waited = 0; ; waited += 100) {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as ServerInfo;
    } catch (error) {
      if (waited > 10_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

interface Console {
  /** Chromium logs every failed HTTP request as a console error; a test that provokes one on purpose says so. */
  allowFailedRequests(pattern: RegExp): void;
  messages: string[];
}

export const test = base.extend<{ console: Console }>({
  console: [
    async ({ context, page }, use) => {
      const messages: string[] = [];
      const allowed: RegExp[] = [];
      const record = (where: string, type: string, text: string, url = '') => {
        if (type !== 'error' && type !== 'warning') return;
        if (/^Failed to load resource/.test(text) && allowed.some((pattern) => pattern.test(url))) return;
        messages.push(`${where} ${type}: ${text}${url ? ` (${url})` : ''}`);
      };
      page.on('console', (m) => record('page', m.type(), m.text(), m.location().url));
      page.on('pageerror', (e) => messages.push(`page uncaught: ${e.message}`));
      page.on('worker', (w) => w.on('console', (m) => record('worker', m.type(), m.text(), m.location().url)));
      context.on('serviceworker', (w) => w.on('console', (m) => record('service worker', m.type(), m.text(), m.location().url)));
      context.on('weberror', (e) => messages.push(`uncaught: ${e.error().message}`));
      await page.addInitScript(() => {
        // CSP violations are console errors too, but record them by name to make failures obvious.
        document.addEventListener('securitypolicyviolation', (event) => {
          console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
        });
      });
      await use({ allowFailedRequests: (pattern) => allowed.push(pattern), messages });
      expect(messages, 'console errors and warnings').toEqual([]);
    },
    { auto: true },
  ],
});

/** A result panel by its accessible name, e.g. "Encrypt result". */
export function result(page: Page, name: string): Locator {
  return page.getByRole('status', { name, exact: true });
}

/** Waits for a result panel to finish and returns its summary line and parsed JSON. */
export async function outcome(panel: Locator): Promise<{ state: string; summary: string; json: any }> {
  await expect(panel).not.toHaveAttribute('aria-busy', 'true');
  await expect(panel).toHaveAttribute('data-state', /^(ok|error|note)$/);
  const state = (await panel.getAttribute('data-state'))!;
  const message = panel.locator('.message');
  const summary = [await panel.locator('.summary').textContent(), (await message.count()) > 0 ? await message.textContent() : undefined]
    .filter((part) => part)
    .join(' ');
  const pre = panel.locator('pre');
  const json = (await pre.count()) > 0 ? JSON.parse((await pre.textContent())!) : undefined;
  return { state, summary, json };
}

export function form(page: Page, name: string): Locator {
  return page.getByRole('form', { name, exact: true });
}

export async function openPlayground(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Qpher playground' })).toBeVisible();
}

/** Waits for the key table to show `count` rows of keys. */
export async function keyRows(page: Page, count: number): Promise<Locator> {
  const rows = page.getByRole('table').locator('tbody tr[data-status]');
  await expect(rows).toHaveCount(count);
  return rows;
}

export async function useRemote(page: Page, apiKey: string): Promise<void> {
  await page.getByRole('radio', { name: 'Remote', exact: true }).check();
  await expect(page.getByLabel('Base URL')).toHaveValue(new URL(page.url()).origin);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Use this server' }).click();
  await expect(page.locator('#backend-status')).toContainText('Using the remote backend');
}
