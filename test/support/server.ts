/**
 * Helpers for the server tests: real `qpher` processes (run from source with tsx, so no build is
 * needed; spawned by serve.ts) on 127.0.0.1 with port 0, their CLI, and small HTTP helpers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll } from 'vitest';
import { REPO_ROOT, SOURCE_CLI, spawnServe, StartFailure } from './serve.js';

const ROOT = REPO_ROOT;
const NODE_ARGS = SOURCE_CLI;

export interface ServerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

const running = new Set<ChildProcess>();

export async function tempDir(prefix = 'qpher-server-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * For a test file that starts servers in directories of its own: returns a maker of fresh data
 * directories, and registers an afterAll that kills every server left running and removes them.
 */
export function freshDirs(): () => Promise<string> {
  const dirs: string[] = [];
  afterAll(async () => {
    killAll();
    await Promise.all(dirs.map(removeDir));
  });
  return async () => {
    const dir = await tempDir();
    dirs.push(dir);
    return dir;
  };
}

/** `timeoutMs`: how long it may take to print its URL (default 60 s). */
export async function startServer(
  dataDir: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  options: { timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const served = await spawnServe(process.execPath, [...SOURCE_CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, QPHER_MASTER_KEY: '', ...env },
    // A loaded 2-core machine can take longer than serve.ts's default 20 s to start tsx + the pool.
    timeoutMs: options.timeoutMs ?? 60_000,
    onSpawn: (proc, exited) => {
      running.add(proc);
      exited.then(() => running.delete(proc));
    },
  });
  return {
    url: served.url,
    port: Number(new URL(served.url).port),
    proc: served.proc,
    output: served.output,
    stop: served.stop,
    kill9: served.kill9,
  };
}

export { StartFailure };

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [...NODE_ARGS, ...args], {
      cwd: ROOT,
      env: { ...process.env, QPHER_MASTER_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    proc.on('exit', (code) => {
      running.delete(proc);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `store`: extra CLI arguments and environment, e.g. `--database URL` and the master key for PostgreSQL. */
export async function createApiKey(
  dataDir: string,
  tenant: string,
  scopes?: string,
  store: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const result = await runCli(
    ['api-key', 'create', '--tenant', tenant, '--data-dir', dataDir, ...(scopes ? ['--scopes', scopes] : []), ...(store.args ?? [])],
    store.env,
  );
  if (result.code !== 0) throw new Error(`api-key create failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** Kills every process a test file started and did not stop (for afterAll). */
export function killAll(): void {
  for (const proc of running) proc.kill('SIGKILL');
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers['X-API-Key'] = options.key;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

/** Sends raw bytes over a socket and returns the raw response text (for what fetch refuses to send). */
export function rawHttp(port: number, payload: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (data += c));
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', (e) => (data ? resolve(data) : reject(e)));
    socket.write(payload);
    setTimeout(() => socket.end(), 2000).unref();
  });
}

/** Splits a raw HTTP response into status, lower-cased headers and parsed JSON body. */
export function parseRaw(raw: string): { status: number; headers: Record<string, string>; body: any } {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let bodyText = rest.join('\r\n\r\n');
  if (headers['transfer-encoding'] === 'chunked') bodyText = dechunk(bodyText);
  return { status: Number(statusLine.split(' ')[1]), headers, body: bodyText ? JSON.parse(bodyText) : undefined };
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const i = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, i), 16);
    if (!size) return out;
    out += rest.slice(i + 2, i + 2 + size);
    rest = rest.slice(i + 2 + size + 2);
  }
}

export function b64(text: string | Uint8Array): string {
  return Buffer.from(text).toString('base64');
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks the envelope shape every response must have and returns the body. */
export function expectEnvelope(reply: Reply | ReturnType<typeof parseRaw>, status: number, code?: string): any {
  const headers = reply.headers instanceof Headers ? Object.fromEntries(reply.headers) : reply.headers;
  const problems: string[] = [];
  if (reply.status !== status) problems.push(`status ${reply.status} != ${status}`);
  if (headers['content-type'] !== 'application/json') problems.push(`content-type ${headers['content-type']}`);
  // the request id rule (src/contract/request-id.ts): a caller's id within it, or a UUID
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(headers['x-request-id'] ?? '')) problems.push(`x-request-id ${headers['x-request-id']}`);
  if (reply.body?.request_id !== headers['x-request-id']) problems.push('request_id differs from header');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(reply.body?.timestamp ?? '')) problems.push('timestamp');
  if (code !== undefined && reply.body?.error?.code !== code) problems.push(`code ${reply.body?.error?.code} != ${code}`);
  if (reply.body?.error !== undefined && reply.body.error.error_code !== reply.body.error.code) problems.push('error_code != code');
  if (code === undefined && !('data' in (reply.body ?? {}))) problems.push('no data');
  if (problems.length) throw new Error(`bad envelope (${problems.join('; ')}): ${JSON.stringify(reply.body)?.slice(0, 300)}`);
  return reply.body;
}

export { httpRequest };
