/**
 * Composing a server from its parts, without listening: the store (SQLite in the data directory,
 * or PostgreSQL when a database URL is given: see store.ts), the master key and its seed wrapper, the primitive provider, the crypto pool, the engine, and
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
import type { RateLimit } from './rate-limit.js';
import { servePlayground } from './playground.js';
import { CryptoPool } from './pool.js';
import type { ServeOptions } from './node.js';
import { describeDatabaseError, isDatabaseUrl, PostgresStore, type PostgresOptions, redactDatabaseUrl } from './postgres.js';
import { SchemaTooNewError } from './postgres-schema.js';
import { SqliteStore } from './sqlite.js';
import type { ServerStore } from './store.js';

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
export async function unlockStore(
  store: ServerStore,
  dataDir: string,
  env: NodeJS.ProcessEnv | undefined,
  log: (line: string) => void,
): Promise<SeedWrapper> {
  // Instances sharing a database must share the key: there it is never created on the fly.
  const masterKey = await loadMasterKey(dataDir, env, { create: store.kind === 'sqlite' });
  log(`master key from ${masterKey.origin}; data in ${store.location}`);
  return unlockMasterKey(masterKey, store, (row) => log(`integrity check failed: ${row} was changed outside qpher; refused`), log);
}

/** Refuses to go on while rows from before integrity MACs (schema 2) are unsealed. */
export async function assertSealed(store: ServerStore, dataDir: string): Promise<void> {
  const legacy = await store.legacyRows();
  if (legacy.keys.length > 0 || legacy.apiKeys > 0) {
    throw new StartupError(
      `${store.location} has ${legacy.keys.length} key row(s) and ${legacy.apiKeys} API key(s) written before integrity checks. ` +
        `Run once: qpher migrate ${store.kind === 'postgres' ? `--database ${store.location}` : `--data-dir ${dataDir}`} ` +
        '(it checks every key row against the master key and seals it).',
    );
  }
}

export interface StoreChoice {
  dataDir: string;
  /** A `postgres://` URL: the shared store. Absent: SQLite in the data directory. */
  database?: string | undefined;
  postgres?: PostgresOptions;
}

/** The store the options name; a database that cannot be reached or migrated is a StartupError. */
export async function openStore(choice: StoreChoice): Promise<ServerStore> {
  if (choice.database === undefined) return openDataDir(choice.dataDir);
  if (!isDatabaseUrl(choice.database)) {
    throw new StartupError('The database must be a postgres:// or postgresql:// URL (e.g. postgres://qpher@db.internal:5432/qpher)');
  }
  await mkdir(choice.dataDir, { recursive: true, mode: 0o700 });
  try {
    return await PostgresStore.open(choice.database, choice.postgres);
  } catch (error) {
    const reason = error instanceof SchemaTooNewError ? error.message : describeDatabaseError(error);
    throw new StartupError(`Cannot open the database ${redactDatabaseUrl(choice.database)}: ${reason}`);
  }
}

export interface ComposedServer {
  app: Hono<Env>;
  store: ServerStore;
  pool: CryptoPool | undefined;
  engine: Engine;
}

export async function composeServer(
  options: ServeOptions,
  shell: { hsts: boolean; ready: () => boolean; log: (line: string) => void },
): Promise<ComposedServer> {
  const log = shell.log;
  const store = await openStore({
    dataDir: options.dataDir,
    database: options.database,
    postgres: { ...options.postgres, log },
  });
  let pool: CryptoPool | undefined;
  try {
    if (options.allowKeyExport)
      log('key export is enabled (--allow-key-export): API keys with the kms:export scope can export private seeds');
    const wrapper = await unlockStore(store, options.dataDir, options.env, log);
    await assertSealed(store, options.dataDir);
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
      ...(store.sharedRateLimiter ? { rateLimiter: (limit: RateLimit) => store.sharedRateLimiter!(limit) } : {}),
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
      allowKeyExport: options.allowKeyExport === true,
      ...(options.bodyIdleMs ? { bodyIdleMs: options.bodyIdleMs } : {}),
      ...(options.inFlight ? { inFlight: options.inFlight } : {}),
      hsts: shell.hsts,
      ...(options.playgroundDir ? { playground: servePlayground(options.playgroundDir) } : {}),
      ready: async () => shell.ready() && (await store.ping()),
      readyInfo: { provider: engine.providerName, crypto_threads: pool?.threads ?? 0, store: store.kind },
      ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
      log,
    });
    return { app, store, pool, engine };
  } catch (error) {
    await pool?.close();
    await store.close();
    throw error;
  }
}
