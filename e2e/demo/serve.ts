/**
 * The e2e origin for the playground: a real `qpher serve --dev` process (fresh data directory) and
 * in front of it, on one origin, the built playground served by `servePlayground` (the module the
 * server mounts at `/`), with everything else proxied to the real server. Once `qpher serve`
 * serves the playground itself (it answers `GET /` with HTML), everything is proxied and this is a
 * plain pass-through, so the tests run against the real thing.
 *
 *   node --import tsx e2e/demo/serve.ts [--port 41741]
 *
 * Writes `{ url, apiKey, upstream, mode }` to node_modules/.cache/qpher-demo-e2e/server.json for
 * the specs (the dev API key comes from the server's own `--dev` output).
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { servePlayground } from '../../src/server/playground.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '41741' } } });
const repo = fileURLToPath(new URL('../..', import.meta.url));
const cache = fileURLToPath(new URL('../../node_modules/.cache/qpher-demo-e2e/', import.meta.url));
const dataDir = cache + 'data';
const playgroundDir = fileURLToPath(new URL('../../dist/playground', import.meta.url));

await rm(dataDir, { recursive: true, force: true });
await mkdir(cache, { recursive: true });

const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', 'serve', '--port', '0', '--data-dir', dataDir, '--dev', '--quiet'], {
  cwd: repo,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const stop = () => {
  child.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('exit', (code) => {
  process.stderr.write(`qpher serve exited (${code})\n`);
  process.exit(1);
});

const { upstream, apiKey } = await new Promise<{ upstream: string; apiKey: string }>((resolve, reject) => {
  let output = '';
  const timer = setTimeout(() => reject(new Error(`qpher serve --dev did not print a URL and key in 20 s:\n${output}`)), 20_000);
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    output += chunk;
    const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
    const key = /^\s+(qph_[A-Za-z0-9_-]+)\s*$/m.exec(output)?.[1];
    if (url && key) {
      clearTimeout(timer);
      resolve({ upstream: url, apiKey: key });
    }
  });
});

// Does the real server serve the playground already? Then only proxy.
const probe = await fetch(upstream + '/').catch(() => undefined);
const native = probe?.headers.get('content-type')?.startsWith('text/html') === true;
await probe?.body?.cancel();
const playground = native ? async () => undefined : servePlayground(playgroundDir);

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'host' || name === 'connection') continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const body = req.method === 'GET' || req.method === 'HEAD' ? null : Buffer.concat(chunks);
  return new Request(origin + req.url, { method: req.method!, headers, body });
}

async function reply(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'content-encoding' && name !== 'transfer-encoding' && name !== 'connection') headers[name] = value;
  });
  const body = Buffer.from(await response.arrayBuffer());
  if (!('content-length' in headers) && response.status !== 304) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

const server = createServer((req, res) => {
  void (async () => {
    try {
      const request = await toRequest(req, `http://${req.headers.host}`);
      const local = await playground(request);
      if (local) return await reply(res, local);
      const target = upstream + req.url;
      await reply(res, await fetch(target, { method: request.method, headers: request.headers, body: request.body, redirect: 'manual', duplex: 'half' } as RequestInit));
    } catch (error) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy error: ${(error as Error).message}`);
    }
  })();
});
const url = `http://127.0.0.1:${values.port}`;
// Written before listening: once the origin answers, the specs can read it.
await writeFile(cache + 'server.json', JSON.stringify({ url, apiKey, upstream, mode: native ? 'qpher serve' : 'servePlayground + proxy' }));
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`playground e2e origin ${url} (${native ? 'proxying qpher serve' : 'servePlayground + proxy to ' + upstream})\n`);
});
