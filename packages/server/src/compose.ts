/**
 * Composing a server from its parts, without listening: the SQLite store in the data directory,
 * the master key and its seed wrapper, the primitive provider, the crypto pool, the engine, and
 * the Hono app over them. node.ts puts the result on a socket. On any failure, whatever was
 * started here is closed again before the error propagates.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { Engine, type ProviderChoice, selectProvider } from 'qpher/host';
import { createApp } from './app.js';
import type { Env } from './http/context.js';
import { loadMasterKey, masterKeyWrapper } from './master-key.js';
import { servePlayground } from './playground.js';
import { CryptoPool } from './pool.js';
import type { ServeOptions } from './node.js';
import { SqliteStore } from './sqlite.js';

export const DB_FILE = 'qpher.db';

export async function openDataDir(dataDir: string): Promise<SqliteStore> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  return new SqliteStore(join(dataDir, DB_FILE));
}

export interface ComposedServer {
  app: Hono<Env>;
  store: SqliteStore;
  pool: CryptoPool | undefined;
  engine: Engine;
}

export async function composeServer(
  options: ServeOptions,
  shell: { hsts: boolean; ready: () => boolean; log: (line: string) => void },
): Promise<ComposedServer> {
  const log = shell.log;
  const store = await openDataDir(options.dataDir);
  let pool: CryptoPool | undefined;
  try {
    const masterKey = await loadMasterKey(options.dataDir, options.env);
    log(`master key from ${masterKey.origin}; data in ${store.path}`);
    const wrapper = await masterKeyWrapper(masterKey, store);
    const provider = await selectProvider(options.provider ?? 'auto');
    const threads = options.cryptoThreads ?? availableParallelism();
    if (threads > 0) {
      pool = await CryptoPool.start({
        threads,
        provider: provider.name as ProviderChoice,
        ...(options.cryptoQueue !== undefined ? { maxQueue: options.cryptoQueue } : {}),
        ...(options.cryptoDeadlineMs !== undefined ? { deadlineMs: options.cryptoDeadlineMs } : {}),
      });
    }
    log(
      `crypto: ${provider.name} provider, ${pool ? `${pool.threads} worker thread(s), queue ${pool.maxQueue}, deadline ${pool.deadlineMs} ms` : 'on the event loop'}`,
    );
    const engine = await Engine.create({
      store,
      wrapper,
      provider,
      ...(pool ? { crypto: pool } : {}),
      ...(options.maxKeyVersions !== undefined ? { maxKeyVersions: options.maxKeyVersions } : {}),
      onError: (error, operation) =>
        log(`engine error in ${operation}: ${error instanceof Error ? `${error.name}: ${error.message}` : typeof error}`),
    });
    const app = createApp({
      engine,
      apiKeys: store,
      idempotency: store,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
      hsts: shell.hsts,
      ...(options.playgroundDir ? { playground: servePlayground(options.playgroundDir) } : {}),
      ready: () => shell.ready() && store.ping(),
      readyInfo: { provider: engine.providerName, crypto_threads: pool?.threads ?? 0 },
      ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
      log,
    });
    return { app, store, pool, engine };
  } catch (error) {
    await pool?.close();
    store.close();
    throw error;
  }
}
