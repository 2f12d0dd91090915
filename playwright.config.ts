/**
 * Playwright e2e: the local backend in real Chromium (Debian's /usr/bin/chromium; no browser
 * download), against the fixture page built by Vite and served by `vite preview` on 127.0.0.1.
 * Run with `npm run test:e2e` (or `npx playwright test`).
 */
import { defineConfig } from '@playwright/test';

const PORT = 41731;
const config = 'e2e/fixtures/vite.config.ts';

export default defineConfig({
  testDir: 'e2e',
  // Only this suite: other e2e suites (e2e/demo) have their own configs and servers.
  testMatch: 'local-backend*.spec.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
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
  projects: [
    { name: 'local-backend', grepInvert: /@responsiveness/ },
    // Timing-sensitive: runs on its own after the rest, so the suite's other pages (two CPU-heavy
    // Workers at a time) do not compete with the page being measured.
    { name: 'responsiveness', grep: /@responsiveness/, dependencies: ['local-backend'] },
  ],
  webServer: {
    command: `npx vite build --config ${config} && npx vite preview --config ${config} --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
