#!/usr/bin/env node
/**
 * `npm run test:node-lts`: runs vitest under the newest Node of each LTS line (setup.mjs says where
 * they come from) on the suites where the runtime matters: every provider against the official
 * vectors and each other with `native` REQUIRED (QPHER_REQUIRE_PROVIDERS) and `auto` required to
 * pick it (QPHER_EXPECT_AUTO_PROVIDER), the engine, and the server with its SQLite store (the
 * integration suite starts the real CLI as a child process, which inherits the leg's Node and the
 * preload through NODE_OPTIONS).
 *
 *   node test/node-lts/run.mjs [--major=26] [files...]   (extra files replace the default list)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LTS_MAJORS, setupLeg } from './setup.mjs';

export const LTS_SUITES = ['test/crypto', 'test/providers', 'test/engine', 'packages/server/test'];

const root = fileURLToPath(new URL('../../', import.meta.url));
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const preload = fileURLToPath(new URL('./preload.mjs', import.meta.url));

/**
 * Runs vitest on `files` under one leg (`setupLeg(major)`); resolves with its exit code and, when
 * `capture` is set, its output (otherwise it is inherited).
 */
export function runLeg(leg, files, { capture = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(leg.node, [vitest, 'run', ...files], {
      cwd: root,
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      env: {
        ...process.env,
        QPHER_LTS_SQLITE: leg.sqlite,
        QPHER_REQUIRE_PROVIDERS: 'native,wasm',
        QPHER_EXPECT_NODE_MAJOR: String(leg.major),
        QPHER_EXPECT_AUTO_PROVIDER: 'native',
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(),
      },
    });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const majorArg = args.find((a) => a.startsWith('--major='));
  const majors = majorArg ? [Number(majorArg.slice(8))] : LTS_MAJORS;
  const files = args.filter((a) => a !== majorArg);
  let failed = false;
  for (const major of majors) {
    const leg = setupLeg(major);
    process.stderr.write(`[node-lts] Node ${leg.version}\n`);
    const { code } = await runLeg(leg, files.length > 0 ? files : LTS_SUITES);
    failed ||= code !== 0;
  }
  process.exit(failed ? 1 : 0);
}
