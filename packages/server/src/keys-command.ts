/**
 * `qpher keys export|import`: encrypted key backups (docs/backup.md) of one tenant, straight
 * from the store (the data directory's SQLite database, or the PostgreSQL database of
 * `--database`), so they work with or without a running server (SQLite lets a second process read,
 * and write under its busy timeout; PostgreSQL serialises keyring changes with its advisory lock). They run the engine's own `kms.export` and
 * `kms.import` operations, so they apply the same checks and import rules as the HTTP API.
 *
 *   qpher keys export --tenant NAME --out FILE [--algorithm A] [--data-dir D | --database URL]
 *   qpher keys import --tenant NAME --in FILE [--data-dir D | --database URL]
 * @module
 */
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ALGORITHMS, Engine, isAlgorithm, isErrorEnvelope, requestIdFor } from 'qpher/host';
import { assertTenantName } from './auth.js';
import { parse, UsageError } from './cli-args.js';
import { assertSealed, DB_FILE, openStore, unlockStore } from './compose.js';
import { DATABASE_URL_ENV } from './postgres.js';
import { StartupError } from './master-key.js';
import { readPassphrase } from './passphrase.js';

export async function keysCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parse(rest, {
    'data-dir': { type: 'string', default: './.qpher' },
    database: { type: 'string' },
    tenant: { type: 'string' },
    out: { type: 'string' },
    in: { type: 'string' },
    algorithm: { type: 'string' },
  });
  if (sub !== 'export' && sub !== 'import') throw new UsageError(`unknown keys command "${sub ?? ''}"; use export or import`);
  if (values.tenant === undefined) throw new UsageError(`keys ${sub} needs --tenant NAME`);
  try {
    assertTenantName(values.tenant);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.algorithm !== undefined && (sub === 'import' || !isAlgorithm(values.algorithm))) {
    throw new UsageError(sub === 'import' ? 'keys import takes no --algorithm' : `--algorithm must be one of: ${ALGORITHMS.join(', ')}`);
  }
  const where: Where = { dataDir: values['data-dir'], database: databaseUrl(values.database, env) };
  process.umask(0o077);

  if (sub === 'export') {
    const out = values.out;
    if (out === undefined || values.in !== undefined) throw new UsageError('keys export needs --out FILE (and no --in)');
    if (where.database === undefined && !existsSync(join(where.dataDir, DB_FILE))) {
      throw new StartupError(`No Qpher store in ${where.dataDir} (${DB_FILE} is missing)`);
    }
    if (existsSync(out)) throw new StartupError(`${out} exists; refusing to overwrite a file with a backup`);
    const passphrase = await readPassphrase(env, { confirm: true });
    const data = await runOperation(where, env, values.tenant, 'kms.export', {
      passphrase,
      ...(values.algorithm !== undefined ? { algorithm: values.algorithm } : {}),
    });
    const { backup, keys } = data as { backup: string; keys: number };
    // 'wx': never follows into or truncates an existing file; 0600 as the master key.
    const handle = await open(out, 'wx', 0o600);
    try {
      await handle.writeFile(`${backup}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    process.stdout.write(`wrote ${keys} key version${keys === 1 ? '' : 's'} of tenant "${values.tenant}" to ${out}\n`);
    return 0;
  }

  const input = values.in;
  if (input === undefined || values.out !== undefined) throw new UsageError('keys import needs --in FILE (and no --out)');
  const backup = (await readFile(input, 'utf8').catch(() => Promise.reject(new StartupError(`Cannot read ${input}`)))).trim();
  const passphrase = await readPassphrase(env, { confirm: false });
  const { imported, skipped } = (await runOperation(where, env, values.tenant, 'kms.import', { backup, passphrase })) as {
    imported: { algorithm: string; key_version: number; status: string }[];
    skipped: { algorithm: string; key_version: number; status: string }[];
  };
  const list = (keys: typeof imported) => keys.map((k) => `${k.algorithm} v${k.key_version} (${k.status})`).join(', ') || 'none';
  process.stdout.write(`imported into tenant "${values.tenant}": ${list(imported)}\nalready present: ${list(skipped)}\n`);
  return 0;
}

interface Where {
  dataDir: string;
  database: string | undefined;
}

/** `--database`, else QPHER_DATABASE_URL, else none (SQLite in the data directory). */
function databaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const value = flag ?? env[DATABASE_URL_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/** Runs one engine operation over the store, with the server's master key. */
async function runOperation(where: Where, env: NodeJS.ProcessEnv, tenant: string, operation: 'kms.export' | 'kms.import', request: object) {
  const store = await openStore(where);
  try {
    // As `serve`: a shared database's master key is never made up here, and unsealed rows stop it.
    const wrapper = await unlockStore(store, where.dataDir, env, () => {});
    await assertSealed(store, where.dataDir);
    const engine = await Engine.create({ store, wrapper });
    const envelope = await engine.execute({ tenant }, operation, request, requestIdFor(undefined));
    if (isErrorEnvelope(envelope)) throw new StartupError(`${envelope.error.message} (${envelope.error.code})`);
    return envelope.data;
  } finally {
    await store.close();
  }
}
