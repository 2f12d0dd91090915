/**
 * Builds the playground (demo/) into packages/server/dist/playground (shipped in the qpher-server
 * package), the directory `qpher serve` serves at `/`.
 *
 * Two entries: the page (demo/index.html, which pulls in the library and its Worker) and the
 * service worker (demo/sw.ts), emitted at a fixed name, `/sw.js`, so that its scope is the whole
 * origin and its URL never changes between builds. After the files are written, the
 * `precacheManifest` plugin lists every emitted file and writes that list, and a version hash
 * of their contents, into sw.js: each build therefore ships a byte-different service worker
 * whenever any file changed, which is what makes browsers install the new one.
 * No workbox: the whole precache is ~60 lines in demo/sw.ts.
 *
 * The page imports the library by its package name, `qpher`, as an app would; the alias points
 * that name at the sources (tsconfig.json's `paths` does the same for the type checker).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('./demo', import.meta.url));
const outDir = fileURLToPath(new URL('./packages/server/dist/playground', import.meta.url));
const SERVICE_WORKER = 'sw.js';
/** Replaced in the built sw.js; must match demo/sw.ts. */
const PLACEHOLDER = '__QPHER_PRECACHE_MANIFEST__';

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else files.push(path);
  }
  return files;
}

/** Writes `{ version, urls }` of every other emitted file into the built service worker. */
function precacheManifest(): Plugin {
  let dir = outDir;
  let base = '/';
  return {
    name: 'qpher:precache-manifest',
    apply: 'build',
    configResolved(config) {
      dir = config.build.outDir;
      base = config.base;
    },
    async writeBundle() {
      const swPath = join(dir, SERVICE_WORKER);
      const files = (await walk(dir))
        .map((path) => relative(dir, path).split(sep).join('/'))
        .filter((file) => file !== SERVICE_WORKER && !file.endsWith('.map'))
        .sort();
      const hash = createHash('sha256');
      for (const file of files)
        hash
          .update(file)
          .update('\0')
          .update(await readFile(join(dir, file)))
          .update('\0');
      // index.html is precached under the app's root URL, which is what navigations ask for.
      const urls = files.map((file) => (file === 'index.html' ? base : base + file));
      const manifest = JSON.stringify({ version: hash.digest('hex').slice(0, 16), urls });
      const source = await readFile(swPath, 'utf8');
      const quoted = new RegExp(`(["'\`])${PLACEHOLDER}\\1`);
      if (!quoted.test(source)) throw new Error(`precache-manifest: ${PLACEHOLDER} not found in ${swPath}`);
      await writeFile(
        swPath,
        source.replace(quoted, () => JSON.stringify(manifest)),
      );
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  publicDir: false,
  resolve: { alias: [{ find: /^qpher$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  plugins: [precacheManifest()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Keep every asset a file: CSP has no `data:` in script-src/font-src, and the precache lists files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: {
        index: join(root, 'index.html'),
        sw: join(root, 'sw.ts'),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? SERVICE_WORKER : 'assets/[name]-[hash].js'),
      },
    },
  },
  worker: { format: 'es' },
  preview: { host: '127.0.0.1', port: 41741, strictPort: true },
});
