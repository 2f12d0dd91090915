/**
 * The e2e origin for the playground: a real `qpher serve --dev` on 127.0.0.1:PORT with a fresh
 * data directory, serving the playground that `vite build` just wrote to packages/server/dist/playground at `/`
 * next to the API (same origin, as `npm start` does).
 *
 *   node --import tsx e2e/demo/serve.ts [--port 41741]
 *
 * Writes `{ url, apiKey }` to node_modules/.cache/qpher-demo-e2e/server.json for the specs (the
 * dev API key is the one the server itself prints with `--dev`), and refuses to go on if the
 * server does not serve the playground. SIGTERM/SIGINT stop the server gracefully.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SOURCE_CLI, spawnServe } from '../../test/support/serve.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '41741' } } });
const repo = fileURLToPath(new URL('../..', import.meta.url));
const cache = fileURLToPath(new URL('../../node_modules/.cache/qpher-demo-e2e/', import.meta.url));
const dataDir = `${cache}data`;
const playgroundDir = fileURLToPath(new URL('../../packages/server/dist/playground', import.meta.url));

await rm(dataDir, { recursive: true, force: true });
await rm(`${cache}server.json`, { force: true }); // never let a spec read the last run's key
await mkdir(cache, { recursive: true });

const server = await spawnServe(
  process.execPath,
  [...SOURCE_CLI, 'serve', '--port', values.port, '--data-dir', dataDir, '--playground', playgroundDir, '--dev', '--quiet'],
  { cwd: repo },
);
let stopping = false;
const stop = () => {
  stopping = true;
  void server.stop();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.exited.then((code) => {
  if (!stopping) process.stderr.write(`qpher serve exited (${code}):\n${server.output()}\n`);
  process.exit(stopping ? 0 : 1);
});

// `--dev` prints the key after the URL line.
const url = server.url;
const apiKey = await new Promise<string>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`qpher serve --dev printed no key in 20 s:\n${server.output()}`)), 20_000);
  const check = () => {
    const key = /^\s+(qph_[A-Za-z0-9_-]+)\s*$/m.exec(server.output())?.[1];
    if (!key) return;
    clearTimeout(timer);
    server.proc.stdout!.off('data', check);
    resolve(key);
  };
  server.proc.stdout!.on('data', check);
  check();
});

const page = await fetch(`${url}/`);
if (!page.headers.get('content-type')?.startsWith('text/html')) {
  process.stderr.write(`qpher serve does not serve the playground at ${url}/ (status ${page.status}); was it built?\n`);
  stop();
}
await page.body?.cancel();
await writeFile(`${cache}server.json`, JSON.stringify({ url, apiKey }));
process.stdout.write(`playground e2e: qpher serve at ${url}\n`);
