/**
 * Server memory under 1,000 slow clients (`npm run bench:slow-clients`): a real `qpher serve`
 * process (from source, SQLite, one crypto thread, 40 API keys so the per-key cap does not bind)
 * gets 1,000 raw connections that each send the headers of a 2 MB POST and 64 KiB of its body,
 * then nothing. Prints the server's RSS (/proc/PID/status) before, at its peak while they hang
 * on, and after they are gone, with how they were answered (503 at once over the in-flight cap,
 * 400 "Request timeout" once a body has been idle for the body-idle timeout), for the default
 * caps (256 in flight, 32 per key, 10 s idle) and with the caps lifted (100,000), to show what the
 * caps save. Takes about a minute. Linux only (reads /proc).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SOURCE_CLI, spawnServe } from '../test/support/serve.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLIENTS = 1000;
const KEYS = 40;
const SENT = `{"algorithm":"${'A'.repeat(64 * 1024)}`;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

function run(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const proc = spawn(process.execPath, [...SOURCE_CLI, ...args], { cwd: ROOT, env: { ...process.env, QPHER_MASTER_KEY: '' } });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.on('exit', (code) => (code === 0 ? done(out.trim()) : fail(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

/** Resolves to the status of the answer (0 for none: reset or still open when destroyed). */
function slowClient(port: number, key: string): { status: Promise<number>; destroy(): void } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  const status = new Promise<number>((done) => {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    const finish = () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0));
    socket.on('close', finish);
    socket.on('error', finish);
  });
  socket.write(
    'POST /api/v1/kms/keys/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `X-API-Key: ${key}\r\nContent-Length: 2000000\r\n\r\n${SENT}`,
  );
  return { status, destroy: () => socket.destroy() };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(label: string, caps: string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'qpher-bench-slow-'));
  try {
    const keys: string[] = [];
    for (let i = 0; i < KEYS; i++) keys.push(await run(['api-key', 'create', '--tenant', `t${i}`, '--data-dir', dir]));
    const served = await spawnServe(
      process.execPath,
      [
        ...SOURCE_CLI,
        'serve',
        '--port',
        '0',
        '--data-dir',
        dir,
        '--quiet',
        '--crypto-threads',
        '1',
        '--rate-limit',
        '1000000:1000000',
        ...caps,
      ],
      { cwd: ROOT, env: { ...process.env, QPHER_MASTER_KEY: '' }, timeoutMs: 60_000 },
    );
    const pid = served.proc.pid!;
    const port = Number(new URL(served.url).port);
    try {
      await settle(1000);
      const before = rssMiB(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
      const started = performance.now();
      const clients = [];
      for (let i = 0; i < CLIENTS; i++) {
        clients.push(slowClient(port, keys[i % KEYS]!));
        if (i % 100 === 99) await settle(50);
      }
      const statuses = await Promise.all(clients.map((c) => c.status));
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      for (const c of clients) c.destroy();
      await settle(2000);
      const after = rssMiB(pid);
      const count = (s: number) => statuses.filter((x) => x === s).length;
      console.log(
        `${label}: ${count(503)} x 503, ${count(400)} x 400, ${count(0)} unanswered in ${seconds.toFixed(1)} s; ` +
          `RSS before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)}), after ${after.toFixed(0)} MiB`,
      );
    } finally {
      await served.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await measure('default caps (256 in flight, 32 per key, 10 s idle)', []);
await measure('caps lifted (100,000 in flight and per key, 10 s idle)', ['--max-in-flight', '100000', '--max-in-flight-per-key', '100000']);
