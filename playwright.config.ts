/**
 * Playwright e2e in Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH; never a downloaded
 * browser). Two suites, each against its own real server on 127.0.0.1:
 * - local-backend: the library's LocalBackend (module Worker + IndexedDB) on a Vite-built fixture
 *   page served by `vite preview`;
 * - playground: the demo page built by Vite and served by a real `qpher serve --dev`
 *   (e2e/demo/serve.ts), next to the API.
 * Run with `npm run test:e2e` (part of `npm test`).
 */
import { defineConfig } from '@playwright/test';

// Two checkouts can run their browser tests side by side with different QPHER_E2E_PORT values.
const FIXTURE_PORT = Number(process.env.QPHER_E2E_PORT ?? 41731);
const PLAYGROUND_PORT = FIXTURE_PORT + 10;
const fixtureConfig = 'e2e/fixtures/vite.config.ts';

export default defineConfig({
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [
    {
      name: 'local-backend',
      testDir: 'e2e',
      testMatch: 'local-backend*.spec.ts',
      grepInvert: /@responsiveness/,
      use: { baseURL: `http://127.0.0.1:${FIXTURE_PORT}` },
    },
    {
      name: 'playground',
      testDir: 'e2e/demo',
      testMatch: '**/*.demo.ts',
      use: { baseURL: `http://127.0.0.1:${PLAYGROUND_PORT}` },
    },
    // Timing-sensitive: runs alone after the rest, so no other CPU-heavy page competes with it.
    {
      name: 'responsiveness',
      testDir: 'e2e',
      testMatch: 'local-backend*.spec.ts',
      grep: /@responsiveness/,
      dependencies: ['local-backend', 'playground'],
      use: { baseURL: `http://127.0.0.1:${FIXTURE_PORT}` },
    },
  ],
  webServer: [
    {
      command: `npx vite build --config ${fixtureConfig} && npx vite preview --config ${fixtureConfig} --host 127.0.0.1 --port ${FIXTURE_PORT} --strictPort`,
      url: `http://127.0.0.1:${FIXTURE_PORT}/`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `npx vite build && node --import tsx e2e/demo/serve.ts --port ${PLAYGROUND_PORT}`,
      // Answered by the real server; the dev key is written before this check passes.
      url: `http://127.0.0.1:${PLAYGROUND_PORT}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
