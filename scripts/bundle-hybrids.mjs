#!/usr/bin/env node
/**
 * `node scripts/bundle-hybrids.mjs DIST`: after tsc, rewrites DIST/crypto/xwing.js and
 * DIST/crypto/composite-ml-dsa.js as self-contained modules, each with its own copy of
 * everything it imports (`@noble/*`, and this package's primitives.js and algorithm table).
 *
 * Why: both are loaded on first use (src/crypto/algorithm-primitives.ts). Left as tsc wrote them,
 * they share modules with the ML-KEM / ML-DSA code every app loads, and an app's bundler then
 * (a) keeps in that shared code every export the hybrids use (SHA-512 and its 64-bit arithmetic,
 * the P-256 / X25519 field helpers) and (b) splits it into a chunk of its own, which compresses
 * worse. Measured with test/size: the seal/verify bundle went from 15.6 to 21.6 KB gzip and the
 * local backend's Worker from 28.6 to 34.2 KB, for apps that never meet a hybrid key; sharing only
 * our own modules still left seal/verify at 18.05 KB (budget 18). Self-contained, the cost moves
 * into the two lazy chunks (about 21 and 28 KB gzip), which only hybrid users download. The copy
 * of the primitives inside them is only the composite's default provider: the engine and the
 * offline helpers pass their own (src/crypto/algorithm-primitives.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const dist = resolve(process.argv[2] ?? 'dist');

for (const file of ['crypto/xwing.js', 'crypto/composite-ml-dsa.js']) {
  const path = join(dist, file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run tsc first`);
  await build({
    entryPoints: [path],
    outfile: path,
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: existsSync(`${path}.map`),
    legalComments: 'inline',
    logLevel: 'warning',
  });
}
