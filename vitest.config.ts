import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// `qpher-source`: the server package imports `qpher/host` (and tests `qpher/*`) from src/, not dist/
// (see the `exports` of package.json), so no build is needed before testing.
const conditions = ['qpher-source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
