#!/usr/bin/env node
/**
 * The `qpher` command.
 *
 *   qpher serve [--host 127.0.0.1] [--port 8080] [--data-dir ./.qpher] [--tls-cert F --tls-key F]
 *               [--rate-limit RPS[:BURST]] [--insecure-http] [--dev] [--quiet]
 *               [--playground DIR | --no-playground]
 *               [--provider auto|noble|native|wasm] [--crypto-threads N]
 *               [--crypto-queue N] [--crypto-deadline-ms MS] [--public-url URL]
 *               [--max-key-versions N]
 *               [--database postgres://USER@HOST:PORT/DB] [--db-pool-size N]
 *               [--db-acquire-timeout-ms MS] [--db-statement-timeout-ms MS] [--allow-key-export]
 *   qpher api-key create --tenant NAME [--scopes a,b] [--data-dir D | --database URL]   (prints only the key)
 *   qpher api-key list [--json] [--data-dir D | --database URL]
 *   qpher api-key revoke <id> [--data-dir D | --database URL]
 *   qpher keys export|import ...   (encrypted key backups, keys-command.ts)
 *   qpher backup|restore ...       (a copy of the SQLite store, store-backup.ts)
 *   qpher master-key rotate [--data-dir D | --database URL]   (master-key-rotate.ts)
 *
 * `--database` (or QPHER_DATABASE_URL) puts the store in PostgreSQL, shared by every instance
 * given the same URL; without it the store is DIR/qpher.db (SQLite).
 *   qpher migrate [--data-dir D | --database URL]   (once, after upgrading from a store without integrity MACs)
 *               (serve also takes [--max-in-flight N] [--max-in-flight-per-key N] [--body-idle-timeout-ms MS])
 *
 * The api-key commands and migrate need the master key (QPHER_MASTER_KEY or D/master.key), like
 * serve: API keys are stored as HMACs under a key derived from it (integrity.ts).
 *
 * Exit status: 0 success (and after SIGTERM), 1 refused to start or failed, 2 bad usage.
 * @module
 */
import { open, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_KEY_VERSIONS, DEFAULT_SCOPES, MAX_KEY_VERSION, SCOPES } from 'qpher/host';
import { DATABASE_URL_ENV } from './postgres.js';
import type { ServerStore } from './store.js';
import { assertTenantName, authenticate, parseScopes } from './auth.js';
import { assertSealed, unlockStore } from './compose.js';
import { MASTER_KEY_ENV, StartupError } from './master-key.js';
import { NEW_MASTER_KEY_ENV, rotateMasterKey } from './master-key-rotate.js';
import { isLoopback, openStore, startServer } from './node.js';
import { parsePublicUrl } from './openapi.js';
import { isProviderChoice, seedBinding } from 'qpher/host';
import { DEFAULT_RATE_LIMIT, parseRateLimit } from './rate-limit.js';
import { parse, UsageError } from './cli-args.js';
import { keysCommand } from './keys-command.js';
import { backupStore, restoreStore } from './store-backup.js';

const DEV_KEY_FILE = 'dev-api-key';

const USAGE = `Usage:
  qpher serve [--host 127.0.0.1] [--port 8080] [--data-dir ./.qpher]
              [--tls-cert FILE --tls-key FILE] [--rate-limit RPS[:BURST]]
              [--insecure-http] [--dev] [--quiet] [--playground DIR | --no-playground]
              [--provider auto|noble|native|wasm] [--crypto-threads N (0: no pool)]
              [--crypto-queue N] [--crypto-deadline-ms MS]
              [--max-in-flight N (256)] [--max-in-flight-per-key N (32)] [--body-idle-timeout-ms MS (10000)]
              [--public-url URL (servers in the OpenAPI document; default: the request's origin)]
              [--max-key-versions N (per tenant and algorithm; default ${DEFAULT_MAX_KEY_VERSIONS})]
              [--database postgres://USER@HOST:PORT/DB] [--db-pool-size N]
              [--db-acquire-timeout-ms MS] [--db-statement-timeout-ms MS]
              [--allow-key-export (serve POST /api/v1/kms/keys/export to keys with kms:export)]
  qpher api-key create --tenant NAME [--scopes ${SCOPES.join(',')}] [--data-dir DIR | --database URL]
                       (no --scopes: every scope but kms:export, which must be named)
  qpher api-key list [--json] [--data-dir DIR | --database URL]
  qpher api-key revoke <id> [--data-dir DIR | --database URL]
  qpher keys export --tenant NAME --out FILE [--algorithm ALG] [--data-dir DIR | --database URL]
  qpher keys import --tenant NAME --in FILE [--data-dir DIR | --database URL]
  qpher backup --out FILE [--data-dir DIR]     (a consistent copy of the SQLite store while it serves)
  qpher restore --in FILE [--data-dir DIR]     (server stopped; same master key)
  qpher master-key rotate [--data-dir DIR | --database URL]
                       (server stopped: every seed rewrapped under a new master key, one transaction)
  qpher migrate [--data-dir DIR | --database URL]   (once, after an upgrade that asks for it)

Environment: QPHER_MASTER_KEY (base64 of 32 bytes) overrides DIR/master.key (and is required,
or an existing DIR/master.key, with --database); ${DATABASE_URL_ENV} is the default of --database.
  QPHER_BACKUP_PASSPHRASE: the passphrase of keys export/import (else asked on a terminal).
  QPHER_NEW_MASTER_KEY: the new key of master-key rotate when the old one is QPHER_MASTER_KEY.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'api-key':
      return apiKey(rest);
    case 'keys':
      return keysCommand(rest);
    case 'backup':
    case 'restore':
      return storeBackupCommand(command, rest);
    case 'master-key':
      return masterKeyCommand(rest);
    case 'migrate':
      return migrate(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    'data-dir': { type: 'string', default: './.qpher' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'rate-limit': { type: 'string' },
    'insecure-http': { type: 'boolean', default: false },
    dev: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    playground: { type: 'string' },
    'no-playground': { type: 'boolean', default: false },
    provider: { type: 'string', default: 'auto' },
    'crypto-threads': { type: 'string' },
    'crypto-queue': { type: 'string' },
    'crypto-deadline-ms': { type: 'string' },
    'max-in-flight': { type: 'string' },
    'max-in-flight-per-key': { type: 'string' },
    'body-idle-timeout-ms': { type: 'string' },
    'public-url': { type: 'string' },
    'allow-key-export': { type: 'boolean', default: false },
    'max-key-versions': { type: 'string' },
    database: { type: 'string' },
    'db-pool-size': { type: 'string' },
    'db-acquire-timeout-ms': { type: 'string' },
    'db-statement-timeout-ms': { type: 'string' },
  });
  if (!isProviderChoice(values.provider)) throw new UsageError(`--provider must be auto, noble, native or wasm, got "${values.provider}"`);
  const threads = values['crypto-threads'];
  for (const flag of [
    'crypto-threads',
    'crypto-queue',
    'crypto-deadline-ms',
    'db-pool-size',
    'db-acquire-timeout-ms',
    'db-statement-timeout-ms',
  ] as const) {
    const value = values[flag];
    if (value !== undefined && !/^\d{1,7}$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  }
  const maxKeyVersions = values['max-key-versions'];
  if (
    maxKeyVersions !== undefined &&
    (!/^\d{1,10}$/.test(maxKeyVersions) || Number(maxKeyVersions) < 1 || Number(maxKeyVersions) > MAX_KEY_VERSION)
  ) {
    throw new UsageError(`--max-key-versions must be a whole number from 1 to ${MAX_KEY_VERSION}, got "${maxKeyVersions}"`);
  }
  for (const flag of ['max-in-flight', 'max-in-flight-per-key', 'body-idle-timeout-ms'] as const) {
    const value = values[flag];
    if (value !== undefined && !/^[1-9]\d{0,6}$/.test(value))
      throw new UsageError(`--${flag} must be a positive whole number, got "${value}"`);
  }
  const inFlight = {
    ...(values['max-in-flight'] !== undefined ? { total: Number(values['max-in-flight']) } : {}),
    ...(values['max-in-flight-per-key'] !== undefined ? { perKey: Number(values['max-in-flight-per-key']) } : {}),
  };
  if (values['db-pool-size'] === '0') throw new UsageError('--db-pool-size must be at least 1');
  const dbNumber = (flag: 'db-pool-size' | 'db-acquire-timeout-ms' | 'db-statement-timeout-ms') =>
    values[flag] === undefined ? undefined : Math.max(1, Number(values[flag]));
  const poolSize = dbNumber('db-pool-size');
  const acquireTimeoutMs = dbNumber('db-acquire-timeout-ms');
  const statementTimeoutMs = dbNumber('db-statement-timeout-ms');
  const queue = values['crypto-queue'];
  const deadline = values['crypto-deadline-ms'];
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port must be 0-65535, got "${values.port}"`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  if (values.dev && !isLoopback(values.host)) throw new UsageError('--dev only listens on a loopback address');
  let rateLimit = DEFAULT_RATE_LIMIT;
  try {
    if (values['rate-limit'] !== undefined) rateLimit = parseRateLimit(values['rate-limit']);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }

  const publicUrl = values['public-url'];
  if (publicUrl !== undefined) {
    try {
      parsePublicUrl(publicUrl);
    } catch (error) {
      throw new UsageError(`--${(error as Error).message}`);
    }
  }

  const playgroundDir = values['no-playground'] ? undefined : (values.playground ?? builtPlayground());
  if (values['insecure-http'] && !values['tls-cert'] && !isLoopback(values.host)) {
    process.stderr.write(
      `qpher: warning: serving plain HTTP on ${values.host} (--insecure-http); only do this behind a TLS-terminating proxy\n`,
    );
  }
  process.umask(0o077); // the database, its WAL and the key files: owner only
  const quiet = values.quiet;
  const running = await startServer({
    host: values.host,
    port,
    dataDir: values['data-dir'],
    database: databaseUrl(values.database),
    postgres: {
      ...(poolSize !== undefined ? { poolSize } : {}),
      ...(acquireTimeoutMs !== undefined ? { acquireTimeoutMs } : {}),
      ...(statementTimeoutMs !== undefined ? { statementTimeoutMs } : {}),
    },
    rateLimit,
    insecureHttp: values['insecure-http'],
    provider: values.provider,
    ...(threads !== undefined ? { cryptoThreads: Number(threads) } : {}),
    ...(queue !== undefined ? { cryptoQueue: Number(queue) } : {}),
    ...(deadline !== undefined ? { cryptoDeadlineMs: Math.max(1, Number(deadline)) } : {}),
    ...(maxKeyVersions !== undefined ? { maxKeyVersions: Number(maxKeyVersions) } : {}),
    inFlight,
    ...(values['body-idle-timeout-ms'] !== undefined ? { bodyIdleMs: Number(values['body-idle-timeout-ms']) } : {}),
    ...(playgroundDir ? { playgroundDir } : {}),
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    allowKeyExport: values['allow-key-export'],
    ...(values['tls-cert'] && values['tls-key'] ? { tls: { certFile: values['tls-cert'], keyFile: values['tls-key'] } } : {}),
    log: (line) => {
      if (!quiet) process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    },
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: shutting down\n`);
    running.close().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Only now, with the handlers in place, tell the world: a SIGTERM sent on seeing this line is graceful.
  process.stdout.write(`listening on ${running.url}\n`);
  if (values.dev) await printDevKey(running.store, values['data-dir'], running.url, playgroundDir !== undefined);

  return await new Promise<number>(() => {}); // runs until a signal
}

/** The playground `vite build` put in packages/server/dist/playground, found from src/ or dist/. */
function builtPlayground(): string | undefined {
  for (const relative of ['./playground', '../dist/playground']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

/** `--database`, else QPHER_DATABASE_URL, else none (SQLite). */
function databaseUrl(flag: string | undefined): string | undefined {
  const value = flag ?? process.env[DATABASE_URL_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/** `serve --dev`: a `dev` tenant key made on first run, kept in DIR/dev-api-key (0600). */
async function printDevKey(store: ServerStore, dataDir: string, url: string, playground: boolean): Promise<void> {
  const path = join(dataDir, DEV_KEY_FILE);
  let key = await readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
  if (key === undefined || !(await authenticate(store, key))) {
    key = await createKey(store, 'dev', [...DEFAULT_SCOPES]);
    const handle = await open(path, 'w', 0o600);
    await handle.writeFile(`${key}\n`);
    await handle.close();
  }
  process.stdout.write(
    `\nQpher dev server: ${url}  (OpenAPI: ${url}/api/v1/openapi.json)\n` +
      // The fragment never reaches the server; the page reads the key from it and clears it at once.
      (playground ? `Playground: ${url}/\n  with the remote backend and the dev key filled in: ${url}/#api-key=${key}\n` : '') +
      `Dev API key (tenant "dev", saved in ${path}):\n  ${key}\n\nTry:\n` +
      `  curl -s -X POST ${url}/api/v1/kms/keys/generate -H "X-API-Key: ${key}" -H "Content-Type: application/json" -d '{"algorithm": "Kyber768"}'\n\n`,
  );
}

async function createKey(store: ServerStore, tenant: string, scopes: ReturnType<typeof parseScopes>): Promise<string> {
  return (await store.issueApiKey(tenant, scopes)).key;
}

/** The store (DIR/qpher.db or `--database`), unlocked with the master key and checked to be sealed. */
async function openUnlocked(dataDir: string, database: string | undefined): Promise<ServerStore> {
  const store = await openStore({ dataDir, database });
  try {
    await unlockStore(store, dataDir, process.env, (line) => {
      if (line.startsWith('integrity')) process.stderr.write(`qpher: ${line}\n`);
    });
    await assertSealed(store, dataDir);
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * `qpher migrate`: seals rows written before integrity MACs (schema 2). Each key row's wrapped
 * seed must unwrap under the master key with its own tenant, algorithm and public key as
 * associated data, which proves those fields (a swapped public key or a seed moved from another
 * row fails); its version, status and dates cannot be proven and are sealed as they are. Legacy
 * API keys (plain SHA-256) are sealed as they are and upgraded to HMAC digests on first use.
 * Nothing is sealed if any key row fails.
 */
async function migrate(args: string[]): Promise<number> {
  const { values } = parse(args, { 'data-dir': { type: 'string', default: './.qpher' }, database: { type: 'string' } });
  process.umask(0o077);
  const store = await openStore({ dataDir: values['data-dir'], database: databaseUrl(values.database) });
  try {
    const wrapper = await unlockStore(store, values['data-dir'], process.env, () => {});
    const legacy = await store.legacyRows();
    const failed: string[] = [];
    for (const { tenant, algorithm, key } of legacy.keys) {
      try {
        (await wrapper.unwrap(key.wrapped_seed, seedBinding(tenant, algorithm, key.public_key))).fill(0);
      } catch {
        failed.push(`${tenant}/${algorithm}/v${key.key_version}`);
      }
    }
    if (failed.length > 0) {
      process.stderr.write(
        `qpher: ${failed.length} key row(s) do not match their wrapped seed (changed outside qpher?): ${failed.join(', ')}. ` +
          'Nothing was sealed; restore these rows from a backup or delete them, then run migrate again.\n',
      );
      return 1;
    }
    const sealed = await store.sealLegacyRows(legacy.keys);
    process.stdout.write(
      `sealed ${sealed.keys} key row(s) and ${sealed.apiKeys} API key(s); legacy API keys switch to HMAC digests on their next use\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

async function apiKey(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const options = {
    'data-dir': { type: 'string', default: './.qpher' },
    database: { type: 'string' },
    tenant: { type: 'string' },
    scopes: { type: 'string' },
    json: { type: 'boolean', default: false },
  } as const;
  const { values, positionals } = parse(rest, options, true);
  process.umask(0o077);
  if (sub === 'create') {
    if (values.tenant === undefined) throw new UsageError('api-key create needs --tenant NAME');
    let scopes: ReturnType<typeof parseScopes>;
    try {
      assertTenantName(values.tenant);
      scopes = parseScopes(values.scopes);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const store = await openUnlocked(values['data-dir'], databaseUrl(values.database));
    try {
      process.stdout.write(`${await createKey(store, values.tenant, scopes)}\n`);
    } finally {
      await store.close();
    }
    return 0;
  }
  if (sub === 'list') {
    const store = await openUnlocked(values['data-dir'], databaseUrl(values.database));
    try {
      const keys = await store.listApiKeys();
      if (values.json) process.stdout.write(`${JSON.stringify(keys)}\n`);
      else {
        process.stdout.write('ID                    TENANT            CREATED                   REVOKED                   SCOPES\n');
        for (const k of keys) {
          process.stdout.write(
            `${k.id.padEnd(22)}${k.tenant.padEnd(18)}${k.created_at.padEnd(26)}${(k.revoked_at ?? '-').padEnd(26)}${k.scopes.join(',')}\n`,
          );
        }
      }
    } finally {
      await store.close();
    }
    return 0;
  }
  if (sub === 'revoke') {
    const [id] = positionals;
    if (id === undefined || positionals.length !== 1) throw new UsageError('api-key revoke takes exactly one key id');
    const store = await openUnlocked(values['data-dir'], databaseUrl(values.database));
    try {
      if (!(await store.revokeApiKey(id))) {
        process.stderr.write(`no active API key with id ${id}\n`);
        return 1;
      }
      process.stdout.write(`revoked ${id}\n`);
    } finally {
      await store.close();
    }
    return 0;
  }
  throw new UsageError(`unknown api-key command "${sub ?? ''}"; use create, list or revoke`);
}

async function storeBackupCommand(command: 'backup' | 'restore', args: string[]): Promise<number> {
  const { values } = parse(args, { 'data-dir': { type: 'string', default: './.qpher' }, out: { type: 'string' }, in: { type: 'string' } });
  process.umask(0o077);
  const dataDir = values['data-dir'];
  if (command === 'backup') {
    if (values.out === undefined || values.in !== undefined) throw new UsageError('backup needs --out FILE (and no --in)');
    await backupStore(dataDir, values.out);
    process.stdout.write(`backed up ${join(dataDir, 'qpher.db')} to ${values.out} (the master key is not in it: keep it separately)\n`);
    return 0;
  }
  if (values.in === undefined || values.out !== undefined) throw new UsageError('restore needs --in FILE (and no --out)');
  const kept = await restoreStore(dataDir, values.in, process.env);
  process.stdout.write(`restored ${values.in} into ${dataDir}${kept ? `; the replaced store is kept as ${kept}` : ''}\n`);
  return 0;
}

async function masterKeyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'rotate') throw new UsageError(`unknown master-key command "${sub ?? ''}"; use rotate`);
  const { values } = parse(rest, { 'data-dir': { type: 'string', default: './.qpher' }, database: { type: 'string' } });
  process.umask(0o077);
  const report = await rotateMasterKey({
    dataDir: values['data-dir'],
    database: databaseUrl(values.database),
    env: process.env,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `rotated ${report.keys} seed${report.keys === 1 ? '' : 's'} from master key ${report.oldId} to ${report.newId} in ${Math.round(report.ms)} ms; ` +
      (report.newKeyAt === NEW_MASTER_KEY_ENV
        ? `start the server with ${MASTER_KEY_ENV} set to the value of ${NEW_MASTER_KEY_ENV} (the old key no longer opens the store)\n`
        : `the new key is in ${report.newKeyAt}\n`),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`qpher: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof StartupError) {
      process.stderr.write(`qpher: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`qpher: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
