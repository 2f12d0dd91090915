/**
 * A throwaway PostgreSQL cluster for tests and the bench: `initdb` + `pg_ctl` from Debian's
 * packages (/usr/lib/postgresql/<version>/bin; scripts/ensure-postgres.sh installs them), in a
 * fresh temporary directory, listening on a free loopback port and a Unix socket inside that
 * directory, trust authentication for the `qpher` superuser. PostgreSQL refuses to run as root,
 * so as root the cluster runs as `nobody`. `stop()` shuts it down and deletes the directory.
 * No vitest import: bench/ uses it outside a test run.
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const NOBODY = 65534;
const PG_ROOT = '/usr/lib/postgresql';

export interface PostgresCluster {
  /** `postgres://qpher@127.0.0.1:PORT/postgres` */
  adminUrl: string;
  port: number;
  /** A new, empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs one statement as the superuser on `url` (default: the admin database), with `$1`… `params`. */
  query(sql: string, url?: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** `pg_ctl restart -m fast`: every connection is cut, the server is back when this resolves. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast` (without removing anything), and `start()` to bring it back. */
  stopServer(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes the cluster's directory. */
  stop(): Promise<void>;
}

export async function postgresBinDir(): Promise<string> {
  const versions = existsSync(PG_ROOT) ? (await readdir(PG_ROOT)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(PG_ROOT, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(
    `PostgreSQL server binaries are missing (no ${PG_ROOT}/*/bin/initdb). Install them: bash scripts/ensure-postgres.sh ` +
      '(as root; or: sudo apt-get install -y postgresql) and rerun.',
  );
}

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = await postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'qpher-pg-'));
  const asRoot = process.getuid?.() === 0;
  const ids: Pick<SpawnOptions, 'uid' | 'gid'> = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  if (asRoot) {
    await chown(dir, NOBODY, NOBODY);
    await chmod(dir, 0o700);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const run = (command: string, args: string[]) =>
    runAs(join(bin, command), args, { ...ids, cwd: dir, env: { PATH: process.env.PATH ?? '', LANG: 'C' } });
  try {
    await run('initdb', ['-D', data, '-U', 'qpher', '--auth=trust', '--encoding=UTF8', '--no-sync']);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c max_connections=200',
    '-c shared_buffers=32MB',
  ].join(' ');
  const start = () => run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', options, '-w', '-t', '60', 'start']).then(() => {});
  const stopServer = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).then(() => {});
  await start();
  const adminUrl = `postgres://qpher@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const query = async (sql: string, url = adminUrl, params?: unknown[]) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  return {
    adminUrl,
    port,
    query,
    async createDatabase(name) {
      await query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      return `postgres://qpher@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
    restart: () =>
      run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', options, '-m', 'fast', '-w', '-t', '60', 'restart']).then(() => {}),
    stopServer,
    start,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function runAs(command: string, args: string[], options: SpawnOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${out}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
