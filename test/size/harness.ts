/**
 * Builds the third-party Vite app in fixtures/web-app against a freshly built copy of this
 * package and measures what each budget row costs. Shared by test/size/size.test.ts
 * and bench/web.ts.
 *
 * How "code of this package only" is computed: every row is built twice with Vite's JS API.
 *  - package-only: every bare import that is not `qpher` or `qpher/...` (i.e. @noble/*, zod)
 *    is external, in the page's build and in the Worker's build. The output chunks
 *    then hold this package's code, minified by Vite as an app would ship it, plus the import
 *    statements naming the externals (a few dozen bytes, counted against the package) and
 *    Vite's own preload helper where the package's code makes a dynamic import.
 *  - total: nothing external, as the app ships it.
 * Each chunk a row loads is gzipped on its own at level 9 (zlib) and the sizes are summed.
 * Everything is deterministic: same sources, same Vite, same bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin, type Rolldown } from 'vite';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const appRoot = join(repoRoot, 'fixtures/web-app');
const configFile = join(appRoot, 'vite.config.ts');

/** Budgets in bytes (1 KB = 1000 bytes, the stricter reading). */
export const BUDGETS = {
  remote: 6000,
  localMain: 5000,
  // 30 KB until the raw operations and the two hybrid algorithms added their request schemas and
  // table rows to the first chunk (their crypto loads on first use); 32 KB until the IndexedDB
  // store with one row per key replaced idb-keyval with this package's code; 32.5 KB until key
  // backups (two operations' schemas, the persistent-storage request, the store's wrapping key)
  // joined it; docs/bundles.md.
  localWorker: 36000,
  offline: 18000,
} as const;

/**
 * `npm run build` into a private directory (so a concurrent `dist/` build is never read half
 * written), laid out as an installed package: <stage>/node_modules/qpher/{package.json,dist}.
 */
export function stagePackage(tag: string): string {
  // Per process, so two runs at once (a test and a bench, two checkouts' CI) never share a stage.
  const stage = join(repoRoot, 'node_modules/.cache/qpher-web', `${tag}-${process.pid}`);
  const pkg = join(stage, 'node_modules/qpher');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });
  const tsc = [
    join(repoRoot, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
    '--outDir',
    join(pkg, 'dist'),
    '--sourceMap',
    'false',
    '--declaration',
    'false',
  ];
  try {
    execFileSync(process.execPath, tsc, { cwd: repoRoot, stdio: 'pipe' });
  } catch (error) {
    // tsc still emits JavaScript on type errors; those are the typecheck's business, sizes only need the output.
    if (!existsSync(join(pkg, 'dist/index.js'))) throw error;
    console.warn(`tsc reported type errors; measuring its output anyway:\n${String((error as { stdout?: unknown }).stdout ?? '')}`);
  }
  // The same post-tsc step as `npm run build` (scripts/bundle-hybrids.mjs): the hybrids' lazy modules carry their own dependencies.
  execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle-hybrids.mjs'), join(pkg, 'dist')], { cwd: repoRoot, stdio: 'pipe' });
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2));
  // The importer `qpher` is resolved from; Vite only resolves from an importer's directory if the file exists.
  writeFileSync(join(stage, 'app.js'), "import 'qpher';\n");
  // ...and its own package.json, else the resolver takes `qpher` as a self-reference to the repo's package.
  writeFileSync(join(stage, 'package.json'), '{ "name": "qpher-web-app-stage", "private": true }\n');
  return stage;
}

export function removeStage(stage: string): void {
  rmSync(stage, { recursive: true, force: true });
}

/** Resolves `qpher` and `qpher/*` as if installed in <stage>/node_modules, through its `exports`. */
function installedAt(stage: string): Plugin {
  const importer = join(stage, 'app.js');
  const real = realpathSync(stage);
  return {
    name: 'qpher-installed',
    enforce: 'pre',
    async resolveId(id, _importer, options) {
      if (id !== 'qpher' && !id.startsWith('qpher/')) return null;
      const resolved = await this.resolve(id, importer, { ...options, skipSelf: true });
      // Never fall back to anything else (the repo's own dist/ through self-reference, say).
      if (!resolved || !(resolved.id.startsWith(stage) || resolved.id.startsWith(real)))
        throw new Error(`${id} did not resolve inside ${stage}: ${resolved?.id}`);
      return resolved;
    },
  };
}

/** A bare import of anything but this package: a dependency. */
function isDependency(id: string): boolean {
  return !/^[./\0]/.test(id) && !/^[a-zA-Z]:[\\/]/.test(id) && id !== 'qpher' && !id.startsWith('qpher/') && !id.startsWith('vite/');
}

export interface Sizes {
  /** gzip -9 bytes of the chunks the page's main thread loads (entry + static imports). */
  main: number;
  /** gzip -9 bytes of the Worker's entry chunk and its static imports, 0 if no Worker. */
  worker: number;
  /** main/worker: counted; lazy/worker-lazy: only reachable through a dynamic import(), not counted. */
  files: { file: string; kind: 'main' | 'worker' | 'lazy' | 'worker-lazy'; raw: number; gzip: number }[];
  /** Modules bundled into the main-thread chunks, relative to the repo (Worker chunks are assets: no list). */
  mainModules: string[];
}

const gzip = (code: string | Uint8Array) => gzipSync(code, { level: 9 }).length;

/** Records the Worker build's chunk graph (Vite hands the main build only its files, as assets). */
function workerGraph(into: Map<string, Rolldown.OutputChunk>): Plugin {
  return {
    name: 'qpher-worker-graph',
    generateBundle(_options, bundle) {
      for (const item of Object.values(bundle)) if (item.type === 'chunk') into.set(item.fileName, item);
    },
  };
}

/** A chunk and, transitively, the chunks it imports statically: what loading it fetches. */
function staticClosure(chunks: Map<string, Rolldown.OutputChunk>, roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of chunks.get(file)?.imports ?? []) visit(next);
  };
  for (const root of roots) visit(root);
  return seen;
}

async function buildOnce(stage: string, entry: string, packageOnly: boolean): Promise<Sizes> {
  const external = packageOnly ? (id: string) => isDependency(id) : undefined;
  const workerChunks = new Map<string, Rolldown.OutputChunk>();
  const result = await build({
    configFile,
    logLevel: 'silent',
    plugins: [installedAt(stage)],
    build: {
      write: false,
      rolldownOptions: { input: join(appRoot, entry), preserveEntrySignatures: 'strict', ...(external ? { external } : {}) },
    },
    worker: { rolldownOptions: external ? { external } : {}, plugins: () => [workerGraph(workerChunks)] },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const items = outputs.flatMap((o) => o.output);
  const chunks = new Map(items.filter((i): i is Rolldown.OutputChunk => i.type === 'chunk').map((c) => [c.fileName, c]));
  // The main thread loads the entry and, transitively, its static imports; dynamic imports
  // (the in-process engine, for Node) are never fetched by a browser page on the Worker path.
  const mainFiles = staticClosure(
    chunks,
    [...chunks.values()].filter((c) => c.isEntry).map((c) => c.fileName),
  );
  // Likewise the Worker: its entry chunk and what that imports statically; chunks it may import
  // dynamically later are reported as 'worker-lazy', not counted in the row.
  const workerFiles = staticClosure(
    workerChunks,
    [...workerChunks.values()].filter((c) => c.isEntry).map((c) => c.fileName),
  );

  const sizes: Sizes = { main: 0, worker: 0, files: [], mainModules: [] };
  for (const file of mainFiles) sizes.mainModules.push(...(chunks.get(file)?.moduleIds ?? []).map((id) => relative(repoRoot, id)));
  for (const item of items) {
    const code = item.type === 'chunk' ? item.code : item.source;
    if (!item.fileName.endsWith('.js')) continue;
    let kind: Sizes['files'][number]['kind'];
    if (item.type === 'chunk') kind = mainFiles.has(item.fileName) ? 'main' : 'lazy';
    else if (workerChunks.has(item.fileName)) kind = workerFiles.has(item.fileName) ? 'worker' : 'worker-lazy';
    else throw new Error(`${item.fileName}: a .js asset that is not a Worker chunk`);
    const file = { file: item.fileName, kind, raw: typeof code === 'string' ? Buffer.byteLength(code) : code.length, gzip: gzip(code) };
    sizes.files.push(file);
    if (kind === 'main') sizes.main += file.gzip;
    if (kind === 'worker') sizes.worker += file.gzip;
  }
  // Vite bundles the Worker whenever it transforms the module that creates it, even when the
  // row's tree-shaking drops that module; only an emitted Worker chunk without its entry is wrong.
  if (sizes.files.some((f) => f.kind === 'worker-lazy') && sizes.worker === 0) {
    throw new Error(`${entry}: Worker chunks were emitted without the Worker's entry chunk`);
  }
  return sizes;
}

export interface RowSizes {
  entry: string;
  packageOnly: Sizes;
  total: Sizes;
}

/** Builds one row (a module of fixtures/web-app/rows) both ways. */
export async function measureRow(stage: string, entry: string): Promise<RowSizes> {
  return { entry, packageOnly: await buildOnce(stage, entry, true), total: await buildOnce(stage, entry, false) };
}

/** Builds the whole fixture app (index.html) into outDir, as `vite build` would. */
export async function buildApp(stage: string, outDir: string): Promise<void> {
  await build({ configFile, logLevel: 'silent', plugins: [installedAt(stage)], build: { outDir, emptyOutDir: true } });
}

export const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
