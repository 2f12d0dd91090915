/**
 * Bundle-size budgets: builds each row in the third-party Vite app fixtures/web-app
 * against a fresh build of this package, prints the sizes, and fails when one is over budget.
 * How the sizes are computed: test/size/harness.ts and docs/bundles.md.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUDGETS, buildApp, kb, measureRow, removeStage, stagePackage, type RowSizes } from './harness.js';

let stage: string;
const rows = new Map<string, RowSizes>();

beforeAll(async () => {
  stage = stagePackage('size-test');
  for (const entry of ['remote', 'local', 'offline', 'remote-subpath', 'local-subpath', 'offline-subpath']) {
    rows.set(entry, await measureRow(stage, `rows/${entry}.ts`));
  }
  const table = [...rows.values()].map((r) => ({
    row: r.entry,
    'main, package': kb(r.packageOnly.main),
    'main, total': kb(r.total.main),
    'Worker, package': r.packageOnly.worker ? kb(r.packageOnly.worker) : '',
    'Worker, total': r.total.worker ? kb(r.total.worker) : '',
    'not counted: dynamic import() chunks, total': kb(lazy(r)),
  }));
  console.log('Bundle sizes, gzip -9 (1 KB = 1000 bytes), fixtures/web-app built by Vite:');
  console.table(table);
}, 120_000);

afterAll(() => removeStage(stage));

/** Chunks only a dynamic import() reaches (the in-process engine for Node, optional providers). */
const lazy = (r: RowSizes) =>
  r.total.files.filter((f) => f.kind === 'lazy' || f.kind === 'worker-lazy').reduce((sum, f) => sum + f.gzip, 0);

const row = (name: string) => rows.get(name)!;
const deps = (modules: string[]) => modules.filter((m) => m.includes('node_modules/') && !m.includes('node_modules/qpher/'));
const own = (modules: string[]) =>
  modules.filter((m) => m.includes('node_modules/qpher/')).map((m) => m.replace(/.*node_modules\/qpher\/dist\//, ''));

describe.each(['', '-subpath'])('budgets (root entry%s)', (suffix) => {
  test(`Qpher + RemoteBackend ≤ ${kb(BUDGETS.remote)}, with no post-quantum code, zod or Worker`, () => {
    const r = row(`remote${suffix}`);
    expect(r.packageOnly.main).toBeLessThanOrEqual(BUDGETS.remote);
    expect(r.total.main).toBeLessThanOrEqual(BUDGETS.remote);
    expect(deps(r.total.mainModules)).toEqual([]);
    expect(r.total.worker).toBe(0);
    expect(own(r.total.mainModules).filter((m) => /^(crypto|engine|stores|server)\/|schemas/.test(m))).toEqual([]);
  });

  test(`Qpher + LocalBackend main-thread part ≤ ${kb(BUDGETS.localMain)}, without the crypto`, () => {
    const r = row(`local${suffix}`);
    expect(r.packageOnly.main).toBeLessThanOrEqual(BUDGETS.localMain);
    expect(r.total.main).toBeLessThanOrEqual(BUDGETS.localMain);
    expect(deps(r.total.mainModules)).toEqual([]);
    expect(own(r.total.mainModules).filter((m) => /^(crypto|engine|stores|server)\/|schemas/.test(m))).toEqual([]);
  });

  test(`the local backend's Worker chunk, crypto included ≤ ${kb(BUDGETS.localWorker)}`, () => {
    const r = row(`local${suffix}`);
    expect(r.packageOnly.worker).toBeGreaterThan(0);
    expect(r.packageOnly.worker).toBeLessThanOrEqual(BUDGETS.localWorker);
    expect(r.total.worker).toBeLessThanOrEqual(BUDGETS.localWorker);
  });

  test(`seal + verify alone ≤ ${kb(BUDGETS.offline)}, without the key store`, () => {
    const r = row(`offline${suffix}`);
    expect(r.packageOnly.main).toBeLessThanOrEqual(BUDGETS.offline);
    expect(r.total.main).toBeLessThanOrEqual(BUDGETS.offline);
    expect(deps(r.total.mainModules).filter((m) => /idb-keyval|zod/.test(m))).toEqual([]);
    expect(own(r.total.mainModules).filter((m) => /^(engine|stores|backends|server)\/|schemas/.test(m))).toEqual([]);
    expect(r.total.worker).toBe(0);
  });
});

test('the library offers its five entry points and depends on no server or native package', async () => {
  const { readFileSync } = await import('node:fs');
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  expect(Object.keys(manifest.exports)).toEqual(['.', './remote', './local', './offline', './host', './package.json']);
  expect(Object.keys(manifest.dependencies).sort()).toEqual(['@noble/curves', '@noble/hashes', '@noble/post-quantum', 'zod']);
  expect(manifest.bin).toBeUndefined();
  expect(manifest.sideEffects).toBe(false);
});

test('each entry loads in Node by its published name and hands out the same classes as the root', async () => {
  const { execFileSync } = await import('node:child_process');
  const script = `
    const root = await import('qpher');
    const out = {};
    for (const entry of ['qpher/remote', 'qpher/local', 'qpher/offline', 'qpher/host']) {
      const m = await import(entry);
      out[entry] = { names: Object.keys(m), same: Object.keys(m).filter((k) => k in root).every((k) => m[k] === root[k]) };
    }
    console.log(JSON.stringify(out));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: stage, encoding: 'utf8' }));
  expect(out['qpher/remote'].names).toEqual(expect.arrayContaining(['Qpher', 'RemoteBackend', 'unwrap', 'QpherError']));
  expect(out['qpher/local'].names).toEqual(expect.arrayContaining(['Qpher', 'LocalBackend', 'unwrap', 'QpherError']));
  expect(out['qpher/offline'].names.sort()).toEqual(['encapsulate', 'seal', 'verify', 'verifyHash']);
  expect(out['qpher/host'].names).toEqual(expect.arrayContaining(['Engine', 'selectProvider', 'buildOpenApiDocument']));
  for (const entry of Object.values(out) as { same: boolean }[]) expect(entry.same).toBe(true);
});

test('a browser build cannot import qpher/server', async () => {
  await expect(measureRow(stage, 'rows/server.ts')).rejects.toThrow(/qpher\/server/);
});

test('the fixture app itself (index.html) builds, with its Worker chunk', async () => {
  const { readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const outDir = join(stage, 'app-dist');
  await buildApp(stage, outDir);
  const assets = readdirSync(join(outDir, 'assets'));
  expect(assets.filter((f) => f.startsWith('worker-') && f.endsWith('.js'))).toHaveLength(1);
  expect(readdirSync(outDir)).toContain('index.html');
});
