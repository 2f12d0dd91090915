/**
 * Listening: the composed server (compose.ts: store, master key, engine, crypto pool, app) on
 * HTTP or HTTPS (TLS 1.3 only) through @hono/node-server, and graceful shutdown (stop accepting,
 * finish requests in flight, close the pool and the store). Signals are the CLI's (cli.ts).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { errorEnvelope } from 'qpher/host';
import { composeServer } from './compose.js';
import { StartupError } from './master-key.js';
import type { CryptoPool } from './pool.js';
import type { PostgresOptions } from './postgres.js';
import type { ServerStore } from './store.js';
import type { ProviderChoice } from 'qpher/host';
import type { RateLimit } from './rate-limit.js';
import type { InFlightLimits } from './http/in-flight.js';

const SHUTDOWN_GRACE_MS = 10_000;

export { DB_FILE, openDataDir, openStore } from './compose.js';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  /** A `postgres://` URL: keep everything in that shared database instead of DATA_DIR/qpher.db. */
  database?: string | undefined;
  /** Connection pool and timeouts for `database`. */
  postgres?: Omit<PostgresOptions, 'log'>;
  tls?: { certFile: string; keyFile: string };
  rateLimit?: RateLimit;
  /** Allow plain HTTP on a non-loopback address. */
  insecureHttp?: boolean;
  maxBodyBytes?: number;
  /** Serve kms.export (`qpher serve --allow-key-export`); see AppOptions.allowKeyExport. */
  allowKeyExport?: boolean;
  /** A request body that sends nothing for this long gets 400 (body.ts). Default 10 s. */
  bodyIdleMs?: number;
  /** API requests in flight, in total and per API key (http/in-flight.ts). Default 256 and 32. */
  inFlight?: Partial<InFlightLimits>;
  /** Serve the built playground from this directory at `/` (see playground.ts). */
  playgroundDir?: string;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Base URL clients reach the server at, for `servers` in the OpenAPI document (see openapi.ts). */
  publicUrl?: string;
  /** Primitive provider (docs/performance.md). Default `auto`: native on Node 24+, else noble. */
  provider?: ProviderChoice;
  /** Crypto worker threads (pool.ts). Default one per core; 0 runs crypto on the event loop. */
  cryptoThreads?: number;
  /** Pool back-pressure: tasks that may wait (default 64 per thread) and the per-task deadline (5000 ms). */
  cryptoQueue?: number;
  cryptoDeadlineMs?: number;
  /** Versions a keyring of one (tenant, algorithm) may hold (EngineOptions.maxKeyVersions; default 10,000). */
  maxKeyVersions?: number;
}

export interface RunningServer {
  url: string;
  store: ServerStore;
  /** The crypto pool, when there is one. */
  pool: CryptoPool | undefined;
  /** Stops accepting, lets requests in flight finish (up to 10 s), then closes the store. */
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  if (!options.tls && !isLoopback(options.host) && !options.insecureHttp) {
    throw new StartupError(
      `Refusing to serve plain HTTP on ${options.host}: API keys and data would cross the network unencrypted. ` +
        'Give --tls-cert and --tls-key, listen on a loopback address (127.0.0.1, ::1), ' +
        'or pass --insecure-http if a TLS-terminating proxy sits in front.',
    );
  }
  let tlsOptions: { cert: Buffer; key: Buffer } | undefined;
  if (options.tls) {
    try {
      tlsOptions = { cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) };
    } catch (error) {
      throw new StartupError(`Cannot read the TLS certificate or key: ${(error as Error).message}`);
    }
  }

  let closing = false;
  let server: Server | undefined;
  const { app, store, pool } = await composeServer(options, { hsts: tlsOptions !== undefined, ready: () => !closing, log });
  try {
    server = (
      tlsOptions
        ? createAdaptorServer({
            fetch: app.fetch,
            createServer: createHttpsServer,
            serverOptions: { ...tlsOptions, minVersion: 'TLSv1.3' },
          })
        : createAdaptorServer({ fetch: app.fetch, createServer: createHttpServer })
    ) as Server;
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => answerMalformed(error, socket, log));
    server.headersTimeout = 20_000;
    server.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(options.port, options.host, () => {
        server!.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await pool?.close();
    await store.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' || (error as NodeJS.ErrnoException).code === 'EACCES') {
      throw new StartupError(`Cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
    }
    throw error;
  }

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tlsOptions ? 'https' : 'http'}://${host}:${address.port}`;
  const running = server;
  let closed: Promise<void> | undefined;

  return {
    url,
    store,
    pool,
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => running.close(() => resolve()));
        running.closeIdleConnections();
        const idle = setInterval(() => running.closeIdleConnections(), 100);
        const force = setTimeout(() => running.closeAllConnections(), SHUTDOWN_GRACE_MS);
        await stopped;
        clearInterval(idle);
        clearTimeout(force);
        await pool?.close();
        await store.close();
      })();
      return closed;
    },
  };
}

/**
 * Requests Node's HTTP parser rejects (a CR/LF in a header, an oversized header block, a bad
 * request line) never reach the app; without this they would get Node's bare `400 Bad Request`.
 */
function answerMalformed(error: NodeJS.ErrnoException, socket: Duplex, log: (line: string) => void): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const requestId = globalThis.crypto.randomUUID();
  // A request not received in time (headersTimeout, requestTimeout) is what HTTP calls 408; the
  // error codes have none, and the stall is the client's, so: 400 ERR_INVALID_001, saying so.
  const message =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'Validation failed: request headers are too large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'Request timeout: the request was not received in time (headers within 20 s, the whole request within 60 s)'
        : 'Validation failed: malformed HTTP request';
  const body = JSON.stringify(errorEnvelope('ERR_INVALID_001', message, requestId));
  log(
    `- - 400 ${error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request timeout' : 'malformed request'} (${error.code ?? 'unknown'}) ${requestId}`,
  );
  socket.end(
    'HTTP/1.1 400 Bad Request\r\n' +
      'Content-Type: application/json\r\n' +
      `X-Request-ID: ${requestId}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}
