#!/usr/bin/env node
/**
 * `npm run test:node24`: runs vitest under Node 24 (see setup.mjs for where it comes from) on the
 * suites that matter there: every provider against the official vectors and each other, with
 * `native` REQUIRED (QPHER_REQUIRE_PROVIDERS), the engine, and the server with its SQLite store
 * (the integration suite starts the real CLI as a child process, which inherits Node 24 and the
 * preload through NODE_OPTIONS). Extra arguments replace the default file list.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setupNode24 } from './setup.mjs';

export const NODE24_SUITES = ['test/crypto', 'test/providers', 'test/engine', 'packages/server/test'];

const root = fileURLToPath(new URL('../../', import.meta.url));
const { node, sqlite } = setupNode24();
const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : NODE24_SUITES;
const preload = fileURLToPath(new URL('./preload.mjs', import.meta.url));
const result = spawnSync(node, [fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url)), 'run', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    QPHER_NODE24_SQLITE: sqlite,
    QPHER_REQUIRE_PROVIDERS: 'native,wasm',
    QPHER_EXPECT_NODE_MAJOR: '24',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(),
  },
});
process.exit(result.status ?? 1);
