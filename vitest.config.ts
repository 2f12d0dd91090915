import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// `qpher-source`: the server package imports `qpher/host` (and tests `qpher/*`) from src/, not dist/
// (see the `exports` of package.json), so no build is needed before testing.
const conditions = ['qpher-source', ...defaultServerConditions];

/** Suites that start real `qpher serve` processes or a PostgreSQL cluster, install packages, or run another Node. */
const INTEGRATION = [
  'packages/server/test/integration.test.ts',
  'packages/server/test/durability.test.ts',
  'packages/server/test/tls.test.ts',
  'packages/server/test/backup.test.ts',
  'packages/server/test/store-backup.test.ts',
  'packages/server/test/master-key-rotate.test.ts',
  'packages/server/test/body-depth.test.ts',
  'packages/server/test/integrity.test.ts',
  'packages/server/test/postgres.test.ts',
  'packages/server/test/multi-instance.test.ts',
  'packages/server/test/sdk-compat.test.ts',
  'test/packaging/**/*.test.ts',
];

/**
 * Suites that measure the server under load (its answers within a deadline, its memory): they run
 * last and one at a time, so that what they measure is the server, not the other suites sharing
 * the machine's cores.
 */
const LOAD = ['packages/server/test/overload.test.ts', 'packages/server/test/slow-clients.test.ts'];

// `npx vitest run --project unit` (or integration, load, browser, size, node-lts) runs one group.
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          exclude: [...INTEGRATION, ...LOAD, 'test/contract/**', 'test/size/**', 'test/node-lts/**', '**/node_modules/**'],
        },
      },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
      { extends: true, test: { name: 'load', include: LOAD, fileParallelism: false, sequence: { groupOrder: 1 } } },
      // Chromium + vite preview + a real server: the contract suite on every backend.
      { extends: true, test: { name: 'browser', include: ['test/contract/**/*.test.ts'] } },
      // Vite builds of the fixture web app against the budgets.
      { extends: true, test: { name: 'size', include: ['test/size/**/*.test.ts'] } },
      // Child vitests under the newest Node 24 and 26 (test/node-lts/).
      { extends: true, test: { name: 'node-lts', include: ['test/node-lts/**/*.test.ts'] } },
    ],
  },
});
