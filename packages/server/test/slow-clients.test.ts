/**
 * Slow and stalled clients against real `qpher serve` processes on 127.0.0.1, with raw sockets
 * that send headers and part of a body, then nothing: the per-key and total in-flight caps answer
 * 503 ERR_SERVICE_001 + Retry-After at once, a stalled body is cut off with a 400 that says
 * "Request timeout", and 1,000 such clients leave the server's memory bounded and the server
 * healthy.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createApiKey,
  expectEnvelope,
  killAll,
  parseRaw,
  removeDir,
  type ServerProcess,
  startServer,
  tempDir,
} from '../../../test/support/server.js';

const IDLE_MS = 1500;
const dirs: string[] = [];
let capped: ServerProcess; // total 64, per key 4
let wide: ServerProcess; // total 64, per key 100000
let keyA: string;
let keyB: string;
let keyWide: string;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

interface Slow {
  socket: Socket;
  /** The raw response, once the server has answered and closed (or '' on a reset). */
  answered: Promise<string>;
}

/** Sends the headers of a POST with a large Content-Length, and `sent` bytes of body, then stalls. */
function slowClient(port: number, key: string, sent: string, contentLength = 2_000_000): Slow {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  const answered = new Promise<string>((resolve) => {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
  });
  socket.write(
    'POST /api/v1/kms/keys/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `X-API-Key: ${key}\r\nContent-Length: ${contentLength}\r\n\r\n${sent}`,
  );
  return { socket, answered };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const [d1, d2] = [await tempDir(), await tempDir()];
  dirs.push(d1, d2);
  [keyA, keyB, keyWide] = await Promise.all([createApiKey(d1, 'a'), createApiKey(d1, 'b'), createApiKey(d2, 'w')]);
  const common = ['--crypto-threads', '0', '--rate-limit', '1000000:1000000', '--body-idle-timeout-ms', String(IDLE_MS), '--quiet'];
  [capped, wide] = await Promise.all([
    startServer(d1, [...common, '--max-in-flight', '64', '--max-in-flight-per-key', '4']),
    startServer(d2, [...common, '--max-in-flight', '64', '--max-in-flight-per-key', '100000']),
  ]);
}, 120_000);

afterAll(async () => {
  await capped?.stop();
  await wide?.stop();
  killAll();
  for (const dir of dirs) await removeDir(dir);
});

describe('slow clients', () => {
  it('caps one key at 4 in flight (503 + Retry-After), leaves other keys alone, and cuts stalled bodies off with a 400 "Request timeout"', async () => {
    const port = Number(new URL(capped.url).port);
    const stalled = Array.from({ length: 4 }, () => slowClient(port, keyA, '{"algorithm":', 100));
    await settle(300);
    const refused = await call(capped.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: keyA });
    const body = expectEnvelope(refused, 503, 'ERR_SERVICE_001');
    expect(body.error.message).toMatch(/this API key has too many requests in flight; retry shortly/);
    expect(refused.headers.get('retry-after')).toBe('1');
    expectEnvelope(await call(capped.url, 'POST', '/api/v1/kms/keys/generate', { key: keyB, body: { algorithm: 'Kyber768' } }), 201);

    const started = performance.now();
    const answers = await Promise.all(stalled.map((s) => s.answered));
    expect(performance.now() - started).toBeLessThan(IDLE_MS + 3000);
    for (const raw of answers) {
      const reply = parseRaw(raw);
      expectEnvelope(reply, 400, 'ERR_INVALID_001');
      expect(reply.body.error.message).toBe(
        `Request timeout: the request body stalled (nothing received for ${IDLE_MS} ms); send the whole body without pausing`,
      );
      expect(reply.headers.connection).toBe('close');
    }
    // The slots are free again.
    expectEnvelope(await call(capped.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: keyA }), 200);
  });

  it('1,000 slow clients: at most 64 in flight, the rest 503 at once, memory bounded, server healthy', async () => {
    const port = Number(new URL(wide.url).port);
    const pid = wide.proc.pid!;
    const before = rssMiB(pid);
    const chunk = `{"algorithm":"${'A'.repeat(64 * 1024)}`; // 64 KiB of a body that never ends
    const clients: Slow[] = [];
    const started = performance.now();
    for (let i = 0; i < 1000; i++) {
      clients.push(slowClient(port, keyWide, chunk));
      if (i % 100 === 99) await settle(50);
    }
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
    const answers = await Promise.all(clients.map((c) => c.answered));
    clearInterval(sampler);
    const statuses = answers.map((raw) => (raw ? parseRaw(raw).status : 0));
    const count = (status: number) => statuses.filter((s) => s === status).length;
    const growth = peak - before;
    const elapsed = performance.now() - started;
    for (const c of clients) c.socket.destroy();
    await settle(500);
    const after = rssMiB(pid);
    console.log(
      `1000 slow clients: ${count(503)} x 503, ${count(400)} x 400 (stalled), ${count(0)} resets; RSS before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (+${growth.toFixed(0)}), after ${after.toFixed(0)} MiB`,
    );
    expect(count(503) + count(400)).toBe(1000);
    // At most 64 read a body at any time, and each stalls for IDLE_MS before its 400: so no more
    // than 64 per IDLE_MS window of the run (the clients connect over a few seconds).
    expect(count(400)).toBeGreaterThan(0);
    expect(count(400)).toBeLessThanOrEqual(64 * Math.ceil(elapsed / IDLE_MS + 1));
    expect(count(503)).toBeGreaterThan(500);
    expect(growth).toBeLessThan(200);
    expectEnvelope(await call(wide.url, 'POST', '/api/v1/kms/keys/generate', { key: keyWide, body: { algorithm: 'Kyber768' } }), 201);
    expectEnvelope(await call(wide.url, 'GET', '/healthz'), 200);
  }, 60_000);
});
