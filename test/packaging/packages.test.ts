/**
 * The two npm packages as users get them: `scripts/pack.mjs` packs both, then each is installed
 * from its tarball into an empty project with npm (dependencies from the registry or npm's cache).
 *
 * - `qpher` alone: no native module, no install script, at most 8 packages, and a Node script
 *   encrypts and decrypts with the local backend.
 * - `qpher` + `qpher-server`: `npx qpher api-key create` prints a key, `npx qpher serve` answers
 *   `/healthz`, that key works against the API, and the playground is served at `/`.
 *
 * better-sqlite3 is a native addon; compiling it takes minutes on a small machine. Its install
 * script (prebuild-install) is pointed at a local prebuild made from this checkout's own build
 * of the same version for the same Node ABI (npm_config_better_sqlite3_local_prebuilds), so the
 * install script really runs, without network or compiler.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type Served, spawnServe } from '../support/serve.js';

const work = mkdtempSync(join(tmpdir(), 'qpher-packaging-'));
let tarballs: { qpher: string; 'qpher-server': string };
const servers: Served[] = [];

beforeAll(() => {
  const out = execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/pack.mjs'), join(work, 'packed')], { encoding: 'utf8' });
  tarballs = JSON.parse(out.trim().split('\n').at(-1)!);
}, 240_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(work, { recursive: true, force: true });
});

function emptyProject(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return dir;
}

function npmInstall(dir: string, specs: string[], env: NodeJS.ProcessEnv = {}): void {
  execFileSync('npm', ['install', ...specs, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('qpher alone', () => {
  it('installs without native code or install scripts, in at most 8 packages, and encrypts and decrypts', () => {
    const dir = emptyProject('library-only');
    npmInstall(dir, [tarballs.qpher]);

    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const installed = Object.keys(lock.packages).filter((path) => path !== '');
    expect(installed).toContain('node_modules/qpher');
    expect(installed.length).toBeLessThanOrEqual(8);
    expect(installed.filter((path) => lock.packages[path]!.hasInstallScript)).toEqual([]);
    const nativeFiles = files(join(dir, 'node_modules')).filter((f) => f.endsWith('.node') || f.endsWith('binding.gyp'));
    expect(nativeFiles).toEqual([]);
    for (const name of ['hono', 'better-sqlite3', 'piscina', '@hono/node-server'])
      expect(existsSync(join(dir, 'node_modules', name))).toBe(false);
    // The package ships dist/ only, so its source maps must carry their sources (no ../src to point at).
    const dist = join(dir, 'node_modules/qpher/dist');
    const maps = files(dist).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const parsed = JSON.parse(readFileSync(join(dist, map), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
      expect(parsed.sourcesContent?.length, map).toBe(parsed.sources.length);
    }

    writeFileSync(
      join(dir, 'roundtrip.js'),
      `import { Qpher, LocalBackend, unwrap } from 'qpher';
       const q = new Qpher({ backend: new LocalBackend() });
       const { key_version } = unwrap(await q.kms.generate({ algorithm: 'Kyber768' }));
       const sealed = unwrap(await q.kem.encrypt({ plaintext: new TextEncoder().encode('packed hello'), key_version }));
       const opened = unwrap(await q.kem.decrypt({ ciphertext: sealed.ciphertext, key_version }));
       console.log(atob(opened.plaintext));`,
    );
    expect(execFileSync(process.execPath, ['roundtrip.js'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('packed hello');
  }, 120_000);
});

describe('qpher + qpher-server', () => {
  it('installs, and `npx qpher` creates an API key and serves the API and the playground', async () => {
    const dir = emptyProject('with-server');
    npmInstall(dir, [tarballs.qpher, tarballs['qpher-server']], { npm_config_better_sqlite3_local_prebuilds: localPrebuild() });
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/qpher-server/package.json'), 'utf8'));
    expect(pkg.dependencies.qpher).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);

    const dataDir = join(dir, 'data');
    const key = execFileSync('npx', ['--no-install', 'qpher', 'api-key', 'create', '--tenant', 'acme', '--data-dir', dataDir], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, QPHER_MASTER_KEY: '' },
    }).trim();
    expect(key).toMatch(/^qph_[A-Za-z0-9_-]+$/);

    const server = await spawnServe(
      'npx',
      ['--no-install', 'qpher', 'serve', '--port', '0', '--data-dir', dataDir, '--crypto-threads', '1'],
      {
        cwd: dir,
        env: { ...process.env, QPHER_MASTER_KEY: '' },
        detached: true,
        timeoutMs: 60_000,
      },
    );
    servers.push(server);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { data: unknown }).data).toEqual({ status: 'ok' });

    const generated = await fetch(`${server.url}/api/v1/kms/keys/generate`, {
      method: 'POST',
      headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ algorithm: 'Dilithium3' }),
    });
    expect(generated.status).toBe(201);

    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    await page.body?.cancel();
    // npx dies of the SIGTERM sent to the group; stop() resolves once it has exited. (Not checked
    // as "the port is closed": another suite's server may be given the same port at once.)
    await server.stop();
  }, 180_000);
});

/** `<dir>/better-sqlite3-v<version>-node-v<abi>-linux-x64.tar.gz` holding this checkout's build/Release/better_sqlite3.node. */
function localPrebuild(): string {
  const installed = join(REPO_ROOT, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  const dir = join(work, 'prebuilds');
  mkdirSync(dir, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', join(dir, name), '-C', installed, 'build/Release/better_sqlite3.node']);
  return dir;
}
