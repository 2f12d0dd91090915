#!/usr/bin/env node
/**
 * `npm run pack [-- DIR]`: builds both packages from this checkout and packs them into DIR
 * (default ./packed) as the registry would receive them: qpher-<v>.tgz and qpher-server-<v>.tgz.
 * Prints the two tarball paths as JSON.
 *
 * Everything is built in a private staging directory, never in dist/, so stale files of an
 * earlier build are never shipped and a concurrent build or test is never disturbed:
 *   <stage>/qpher/                  package.json, README.md, dist/ (tsc -p tsconfig.build.json, then scripts/bundle-hybrids.mjs)
 *   <stage>/node_modules/qpher  ->  <stage>/qpher (so the server compiles against the built library)
 *   <stage>/qpher-server/           package.json, README.md, dist/ (tsc, plus the playground that
 *                                   `vite build` writes to dist/playground)
 * In the repository qpher-server depends on qpher through `file:../..` (the workspace link); the
 * packed manifest names the library's exact version instead, the one it was built with.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'packed'));
const stage = join(root, 'node_modules/.cache/qpher-pack', String(process.pid));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const vite = join(root, 'node_modules/vite/bin/vite.js');
const run = (args, cwd = root) => execFileSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

rmSync(stage, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
try {
  const lib = join(stage, 'qpher');
  const server = join(stage, 'qpher-server');
  mkdirSync(join(stage, 'node_modules'), { recursive: true });
  mkdirSync(server, { recursive: true });

  const libManifest = readJson(join(root, 'package.json'));
  run([tsc, '-p', 'tsconfig.build.json', '--outDir', join(lib, 'dist')]);
  run([join(root, 'scripts/bundle-hybrids.mjs'), join(lib, 'dist')]); // the hybrids' lazy modules carry their own dependencies
  const { workspaces: _workspaces, devDependencies: _dev, scripts: _scripts, allowScripts: _allow, ...libPublished } = libManifest;
  writeFileSync(join(lib, 'package.json'), `${JSON.stringify(libPublished, null, 2)}\n`);
  cpSync(join(root, 'README.md'), join(lib, 'README.md'));
  symlinkSync(lib, join(stage, 'node_modules/qpher'), 'dir');

  // The sources are copied next to the staged library so that `qpher/host` resolves to its dist/.
  cpSync(join(root, 'packages/server/src'), join(server, 'src'), { recursive: true });
  writeFileSync(
    join(server, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'packages/server/tsconfig.build.json'),
      compilerOptions: { rootDir: 'src', outDir: 'dist' },
      include: ['src'],
    }),
  );
  run([tsc, '-p', join(server, 'tsconfig.json')]);
  rmSync(join(server, 'src'), { recursive: true });
  rmSync(join(server, 'tsconfig.json'));
  run([vite, 'build', '--outDir', join(server, 'dist/playground'), '--emptyOutDir']);
  const { devDependencies: _serverDev, scripts: _serverScripts, ...serverManifest } = readJson(join(root, 'packages/server/package.json'));
  serverManifest.dependencies = { ...serverManifest.dependencies, qpher: libManifest.version };
  writeFileSync(join(server, 'package.json'), `${JSON.stringify(serverManifest, null, 2)}\n`);
  cpSync(join(root, 'packages/server/README.md'), join(server, 'README.md'));

  const tarballs = [lib, server].map((dir) => {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', dir, '--pack-destination', out, '--json', '--silent'], { cwd: stage, encoding: 'utf8' }),
    );
    return join(out, packed.filename);
  });
  process.stdout.write(`${JSON.stringify({ qpher: tarballs[0], 'qpher-server': tarballs[1] })}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
