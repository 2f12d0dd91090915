/**
 * Playwright e2e for the playground (demo/), in Debian's Chromium (/usr/bin/chromium; never a
 * downloaded browser). The web server builds the playground with Vite, starts a real
 * `qpher serve --dev` on 127.0.0.1:41741 (fresh data directory), which serves the playground at
 * `/` next to the API (e2e/demo/serve.ts).
 *
 *   npm run test:demo      (npx playwright test -c playwright.demo.config.ts)
 *
 * Specs are named *.demo.ts so the library's e2e config (testMatch *.spec.ts under e2e/) does not
 * pick them up against its own fixture server.
 */
import { defineConfig } from '@playwright/test';

const PORT = 41741;

export default defineConfig({
  testDir: 'e2e/demo',
  testMatch: '**/*.demo.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 3,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: `npx vite build && node --import tsx e2e/demo/serve.ts --port ${PORT}`,
    // Answered by the real server; server.json (the dev key) is written before the playground check passes.
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
