/**
 * `npm run bench`'s store section: the server on SQLite beside the server on PostgreSQL (a
 * throwaway cluster from test/support/postgres.ts), one instance and two instances on one
 * database, encrypt 1 KiB and sign 1 KiB at 8 and 64 clients. With two instances the clients are
 * split between them and their req/s added. The PostgreSQL rows pay what sharing costs per
 * request: the API-key lookup, the shared rate-limit bucket (raised out of the way, but still
 * taken) and the keyring read each go over the network to the database.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startPostgres } from '../test/support/postgres.js';
import { SOURCE_CLI, type Served, spawnServe } from '../test/support/serve.js';

const payload = Buffer.alloc(1024, 0x61).toString('base64');
const OPS = {
  'encrypt 1 KiB': { path: '/api/v1/kem/encrypt', body: { plaintext: payload, key_version: 1 } },
  'sign 1 KiB': { path: '/api/v1/signature/sign', body: { message: payload, key_version: 1 } },
} as const;
const MASTER_KEY = Buffer.alloc(32, 5).toString('base64');

export interface StoreBenchRow {
  store: 'sqlite' | 'postgres';
  instances: number;
  operation: string;
  connections: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...SOURCE_CLI, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`qpher ${args[0]} exited with ${code}`))));
  });
}

export async function benchServerStores({ seconds = 2, connections = [8, 64] } = {}): Promise<StoreBenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'qpher-bench-stores-'));
  const cluster = await startPostgres();
  const rows: StoreBenchRow[] = [];
  try {
    const databaseUrl = await cluster.createDatabase('bench');
    const setups = {
      sqlite: { args: ['--data-dir', join(dir, 'shared')], env: { QPHER_MASTER_KEY: MASTER_KEY } },
      postgres: { args: ['--database', databaseUrl], env: { QPHER_MASTER_KEY: MASTER_KEY } },
    } as const;
    for (const [store, setup] of Object.entries(setups) as [StoreBenchRow['store'], (typeof setups)[keyof typeof setups]][]) {
      const key = await runCli(['api-key', 'create', '--tenant', 'bench', '--data-dir', join(dir, 'cli'), ...setup.args], setup.env);
      const servers: Served[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          servers.push(
            await spawnServe(
              process.execPath,
              [
                ...SOURCE_CLI,
                'serve',
                '--port',
                '0',
                '--quiet',
                '--rate-limit',
                '1000000:1000000',
                '--data-dir',
                join(dir, `own-${store}-${i}`),
                ...setup.args,
              ],
              { env: { ...process.env, ...setup.env }, timeoutMs: 60_000 },
            ),
          );
        }
        const headers = { 'X-API-Key': key, 'Content-Type': 'application/json' };
        for (const algorithm of ['Kyber768', 'Dilithium3']) {
          const res = await fetch(`${servers[0]!.url}/api/v1/kms/keys/generate`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ algorithm }),
          });
          if (res.status !== 201) throw new Error(`generate ${algorithm} on ${store}: ${res.status}`);
        }
        for (const [operation, op] of Object.entries(OPS)) {
          const body = JSON.stringify(op.body);
          await autocannon({ url: servers[0]!.url + op.path, method: 'POST', headers, body, connections: 8, duration: 1 }); // warm-up
          for (const instances of [1, 2]) {
            for (const c of connections) {
              const results = await Promise.all(
                servers.slice(0, instances).map((s) =>
                  autocannon({
                    url: s.url + op.path,
                    method: 'POST',
                    headers,
                    body,
                    connections: Math.ceil(c / instances),
                    duration: seconds,
                  }),
                ),
              );
              rows.push({
                store,
                instances,
                operation,
                connections: c,
                requestsPerSec: results.reduce((sum, r) => sum + r.requests.average, 0),
                p50Ms: Math.max(...results.map((r) => r.latency.p50)),
                p99Ms: Math.max(...results.map((r) => r.latency.p99)),
                non2xx: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
              });
            }
          }
        }
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    return rows;
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
