/**
 * Server throughput on loopback beside the in-process engine, in one run (`npm run bench:server`).
 *
 * Starts a real `qpher serve` process (from source, request logs off with --quiet, rate limit
 * raised out of the way) over a fresh SQLite data directory, then for encrypt 1 KiB and sign
 * 1 KiB: autocannon (10 connections, 3 runs of 5 s) against the server, and the engine's
 * `execute` in this process (sequential, 3 runs of 1 s), plus the Hono app in-process
 * (`app.request`, no sockets) to show what HTTP parsing and the middleware cost. Prints medians
 * of the runs and ratios. Takes about 45 s.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { SOURCE_CLI, spawnServe } from '../test/support/serve.js';
import { selectProvider, type ProviderChoice } from '../src/crypto/select-provider.js';
import { Engine } from '../src/engine/engine.js';
import { createApp } from '../packages/server/src/app.js';
import { MemoryApiKeys } from '../packages/server/src/auth.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = 3;
const SERVER_SECONDS = 5;
const ENGINE_MS = 1000;
const CONNECTIONS = 10;

const payload = Buffer.alloc(1024, 0x61).toString('base64');
const OPS = {
  'encrypt 1 KiB': { operation: 'kem.encrypt', path: '/api/v1/kem/encrypt', body: { plaintext: payload, key_version: 1 } },
  'sign 1 KiB': { operation: 'signature.sign', path: '/api/v1/signature/sign', body: { message: payload, key_version: 1 } },
} as const;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function cli(args: string[]) {
  return spawn(process.execPath, [...SOURCE_CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, QPHER_MASTER_KEY: '' },
  });
}

async function output(proc: ReturnType<typeof cli>, until?: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      text += c;
      if (until?.test(text)) resolve(text);
    });
    proc.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
  });
}

async function timeLoop(fn: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ENGINE_MS) {
    await fn();
    count++;
  }
  return (count / (performance.now() - start)) * 1000;
}

export interface ServerBenchRow {
  operation: string;
  serverRequestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  engineOpsPerSec: number;
  appOpsPerSec: number;
  /** server req/s divided by engine ops/s */
  ratio: number;
}

/** Runs the whole comparison; `bench/run.ts` can call this and print the rows its own way. */
export async function benchServer(): Promise<ServerBenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'qpher-bench-'));
  const key = (await output(cli(['api-key', 'create', '--tenant', 'bench', '--data-dir', dir]))).trim();
  const server = await spawnServe(
    process.execPath,
    [...SOURCE_CLI, 'serve', '--port', '0', '--quiet', '--rate-limit', '1000000:1000000', '--data-dir', dir],
    { env: { ...process.env, QPHER_MASTER_KEY: '' } },
  );
  const url = server.url;
  const headers = { 'X-API-Key': key, 'Content-Type': 'application/json' };
  for (const algorithm of ['Kyber768', 'Dilithium3']) {
    const res = await fetch(`${url}/api/v1/kms/keys/generate`, { method: 'POST', headers, body: JSON.stringify({ algorithm }) });
    if (res.status !== 201) throw new Error(`generate ${algorithm}: ${res.status}`);
  }

  const engine = await Engine.create();
  const keys = new MemoryApiKeys();
  const appKey = (await keys.create('bench')).key;
  const app = createApp({ engine, apiKeys: keys, rateLimit: false });
  for (const algorithm of ['Kyber768', 'Dilithium3'] as const)
    await engine.execute({ tenant: 'bench' }, 'kms.generate', { algorithm }, crypto.randomUUID());

  const rows: ServerBenchRow[] = [];
  for (const [name, op] of Object.entries(OPS)) {
    const body = JSON.stringify(op.body);
    const server_rps: number[] = [];
    const p50: number[] = [];
    const p99: number[] = [];
    const engine_ops: number[] = [];
    const app_ops: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const result = await autocannon({
        url: url + op.path,
        method: 'POST',
        headers,
        body,
        connections: CONNECTIONS,
        duration: SERVER_SECONDS,
      });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      server_rps.push(result.requests.average);
      p50.push(result.latency.p50);
      p99.push(result.latency.p99);
      engine_ops.push(await timeLoop(() => engine.execute({ tenant: 'bench' }, op.operation, op.body, crypto.randomUUID())));
      app_ops.push(
        await timeLoop(async () => {
          const res = await app.request(`http://localhost${op.path}`, {
            method: 'POST',
            headers: { ...headers, 'X-API-Key': appKey },
            body,
          });
          if (res.status !== 200) throw new Error(`${name} in-process app: ${res.status}`);
          await res.arrayBuffer();
        }),
      );
    }
    rows.push({
      operation: name,
      serverRequestsPerSec: median(server_rps),
      p50Ms: median(p50),
      p99Ms: median(p99),
      engineOpsPerSec: median(engine_ops),
      appOpsPerSec: median(app_ops),
      ratio: median(server_rps) / median(engine_ops),
    });
  }
  await server.stop();
  await rm(dir, { recursive: true, force: true });
  return rows;
}

export interface ServerLoadRow {
  operation: string;
  provider: string;
  threads: number;
  connections: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than 200 (503 under back-pressure), summed over the runs. */
  non2xx: number;
  /** The single-thread engine (in this process, same provider), measured between the server runs. */
  engineOpsPerSec: number;
}

/**
 * `npm run bench`'s server section: a real `qpher serve` (crypto pool, one thread per core) on
 * loopback, encrypt 1 KiB and sign 1 KiB at each concurrency, `runs` runs of `seconds` each,
 * medians. Concurrencies of one operation are interleaved run by run.
 */
export async function benchServerLoad({
  connections = [1, 8, 64],
  runs = 3,
  seconds = 2,
  provider = 'noble',
}: {
  connections?: number[];
  runs?: number;
  seconds?: number;
  provider?: string;
} = {}): Promise<ServerLoadRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'qpher-bench-'));
  const key = (await output(cli(['api-key', 'create', '--tenant', 'bench', '--data-dir', dir]))).trim();
  const server = await spawnServe(
    process.execPath,
    [...SOURCE_CLI, 'serve', '--port', '0', '--quiet', '--rate-limit', '1000000:1000000', '--provider', provider, '--data-dir', dir],
    { env: { ...process.env, QPHER_MASTER_KEY: '' } },
  );
  try {
    const url = server.url;
    const headers = { 'X-API-Key': key, 'Content-Type': 'application/json' };
    for (const algorithm of ['Kyber768', 'Dilithium3']) {
      const res = await fetch(`${url}/api/v1/kms/keys/generate`, { method: 'POST', headers, body: JSON.stringify({ algorithm }) });
      if (res.status !== 201) throw new Error(`generate ${algorithm}: ${res.status}`);
    }
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { data: { provider: string; crypto_threads: number } };
    const engine = await Engine.create({ provider: await selectProvider(ready.data.provider as ProviderChoice) });
    for (const algorithm of ['Kyber768', 'Dilithium3'] as const)
      await engine.execute({ tenant: 'bench' }, 'kms.generate', { algorithm }, crypto.randomUUID());
    const rows: ServerLoadRow[] = [];
    for (const [name, op] of Object.entries(OPS)) {
      const body = JSON.stringify(op.body);
      await autocannon({ url: url + op.path, method: 'POST', headers, body, connections: 8, duration: 1 }); // warm-up
      const samples = new Map<number, { rps: number[]; p50: number[]; p99: number[]; non2xx: number }>();
      const engineOps: number[] = [];
      for (let run = 0; run < runs; run++) {
        engineOps.push(await timeLoop(() => engine.execute({ tenant: 'bench' }, op.operation, op.body, crypto.randomUUID())));
        for (const c of connections) {
          const r = await autocannon({ url: url + op.path, method: 'POST', headers, body, connections: c, duration: seconds });
          if (r.errors > 0 || r.timeouts > 0) throw new Error(`${name} at ${c}: ${r.errors} errors, ${r.timeouts} timeouts`);
          const s = samples.get(c) ?? { rps: [], p50: [], p99: [], non2xx: 0 };
          s.rps.push(r.requests.average);
          s.p50.push(r.latency.p50);
          s.p99.push(r.latency.p99);
          s.non2xx += r.non2xx;
          samples.set(c, s);
        }
      }
      for (const c of connections) {
        const s = samples.get(c)!;
        rows.push({
          operation: name,
          provider: ready.data.provider,
          threads: ready.data.crypto_threads,
          connections: c,
          requestsPerSec: median(s.rps),
          p50Ms: median(s.p50),
          p99Ms: median(s.p99),
          non2xx: s.non2xx,
          engineOpsPerSec: median(engineOps),
        });
      }
    }
    return rows;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  console.log(
    `Qpher server bench: node ${process.version}, ${CONNECTIONS} connections, ${RUNS} runs (server ${SERVER_SECONDS}s, engine ${ENGINE_MS / 1000}s each), medians\n`,
  );
  const rows = (await benchServer()).map((r) => [
    r.operation,
    r.serverRequestsPerSec.toFixed(0),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    r.engineOpsPerSec.toFixed(0),
    r.appOpsPerSec.toFixed(0),
    r.ratio.toFixed(2),
  ]);
  const head = ['operation', 'server req/s', 'p50 ms', 'p99 ms', 'engine ops/s', 'app ops/s', 'server/engine'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  for (const row of rows) console.log(line(row));
  console.log(
    '\nengine = Engine.execute in this process (sequential); app = Hono app via app.request (no sockets); server = real process over loopback.',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
