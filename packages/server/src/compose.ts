/**
 * Composing a server from its parts, without listening: the SQLite store in the data directory,
 * the master key and its seed wrapper, the primitive provider, the crypto pool, the engine, and
 * the Hono app over them. node.ts puts the result on a socket. On any failure, whatever was
 * started here is closed again before the error propagates.
 * @module
 */
import { chmod, mkdir, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { Engine, type ProviderChoice, type SeedWrapper, selectProvider } from 'qpher/host';
import { createApp } from './app.js';
import type { Env } from './http/context.js';
import { loadMasterKey, StartupError, unlockMasterKey } from './master-key.js';
import { servePlayground } from './playground.js';
import { CryptoPool } from './pool.js';
import type { ServeOptions } from './node.js';
import { SqliteStore } from './sqlite.js';

export const DB_FILE = 'qpher.db';

/**
 * Opens (creating if needed) the store in `dataDir`, owner-only whatever the process umask: the
 * directory is created 0700, and the database is created (or reset to) 0600 before SQLite opens
 * it, because SQLite gives the WAL and shared-memory files it creates the database's own mode.
 * Left-over WAL/shared-memory files of another mode are reset too. The CLI also sets umask 077;
 * this makes an embedder's `startServer` just as private.
 */
export async function openDataDir(dataDir: string): Promise<SqliteStore> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, DB_FILE);
  const handle = await open(path, 'a', 0o600);
  try {
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
  for (const suffix of ['-wal', '-shm']) {
    await chmod(path + suffix, 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  return new SqliteStore(path);
}

/**
 * Loads the master key (QPHER_MASTER_KEY or DIR/master.key), checks it against the store, and
 * attaches the integrity keys derived from it; a row that later fails its integrity check is
 * logged (which row, never its data).
 */
export async function unlockDataDir(
  store: SqliteStore,
  dataDir: string,
  env: NodeJS.ProcessEnv | undefined,
  log: (line: string) => void,
): Promise<SeedWrapper> {
  const masterKey = await loadMasterKey(dataDir, env);
  log(`master key from ${masterKey.origin}; data in ${store.path}`);
  return unlockMasterKey(masterKey, store, (row) => log(`integrity check failed: ${row} was changed outside qpher; refused`));
}

/** Refuses to go on while rows from before integrity MACs (schema 2) are unsealed. */
export function assertSealed(store: SqliteStore, dataDir: string): void {
  const legacy = store.legacyRows();
  if (legacy.keys.length > 0 || legacy.apiKeys > 0) {
    throw new StartupError(
      `${store.path} has ${legacy.keys.length} key row(s) and ${legacy.apiKeys} API key(s) written before integrity checks. ` +
        `Run once: qpher migrate --data-dir ${dataDir} (it checks every key row against the master key and seals it).`,
    );
  }
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
    const wrapper = await unlockDataDir(store, options.dataDir, options.env, log);
    assertSealed(store, options.dataDir);
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
      ...(pool ? { offload: pool } : {}),
      onError: (error, operation) =>
        log(`engine error in ${operation}: ${error instanceof Error ? `${error.name}: ${error.message}` : typeof error}`),
    });
    const app = createApp({
      engine,
      apiKeys: store,
      idempotency: store,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
      ...(options.bodyIdleMs ? { bodyIdleMs: options.bodyIdleMs } : {}),
      ...(options.inFlight ? { inFlight: options.inFlight } : {}),
      hsts: shell.hsts,
      ...(options.playgroundDir ? { playground: servePlayground(options.playgroundDir) } : {}),
      ready: () => shell.ready() && store.ping(),
      readyInfo: { provider: engine.providerName, crypto_threads: pool?.threads ?? 0 },
      log,
    });
    return { app, store, pool, engine };
  } catch (error) {
    await pool?.close();
    store.close();
    throw error;
  }
}
