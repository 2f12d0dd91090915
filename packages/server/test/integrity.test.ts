/**
 * Write access to the database without the master key: inserting an API key, un-archiving a key
 * or swapping a public key by editing the database directly (better-sqlite3 on qpher.db, or SQL on
 * the shared PostgreSQL database) is refused by a real `qpher serve`, with a fixed 500 envelope
 * and a log line naming the row. And the upgrade path, on both stores: rows without MACs (SHA-256
 * API keys, key rows from before integrity checks) are refused until `qpher migrate` has checked
 * and sealed them; then the legacy API key works and is re-stored as an HMAC digest.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  b64,
  call,
  createApiKey,
  expectEnvelope,
  freshDirs,
  runCli,
  type ServerProcess,
  StartFailure,
  startServer,
} from '../../../test/support/server.js';
import { type PostgresCluster, startPostgres } from '../../../test/support/postgres.js';

const freshDir = freshDirs();
const FIXED = 'Key store integrity check failed: a stored row was changed outside qpher; refusing to use it';
const MASTER_KEY = Buffer.alloc(32, 3).toString('base64');

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

async function waitFor(output: () => string, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(output()); i++) await new Promise((r) => setTimeout(r, 20));
  expect(output()).toMatch(pattern);
}

// Each test spawns several CLI and server processes (a few seconds each on a busy machine).
const SLOW = { timeout: 120_000 };

/** One store of a backend, driven as an operator (CLI, server) and as an attacker (raw SQL). */
interface Deployment {
  createKey(tenant: string): Promise<string>;
  start(): Promise<ServerProcess>;
  /** The CLI with this store's `--data-dir`/`--database` and master key. */
  cli(args: string[]): ReturnType<typeof runCli>;
  /** One statement with `$1`… placeholders straight on the database; returns the rows it changed. */
  edit(sql: string, ...params: unknown[]): Promise<number>;
  /** Turns the store into what qpher wrote before integrity MACs, plus one legacy API key. */
  makeLegacy(apiKey: string): Promise<void>;
  /** `qpher migrate`'s hint, as the refusal to start names it. */
  migrateHint: RegExp;
}

let cluster: PostgresCluster | undefined;
let databases = 0;
beforeAll(async () => {
  cluster = await startPostgres();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

async function sqliteDeployment(): Promise<Deployment> {
  const dir = await freshDir();
  const path = join(dir, 'qpher.db');
  return {
    createKey: (tenant) => createApiKey(dir, tenant),
    start: () => startServer(dir),
    cli: (args) => runCli([...args, '--data-dir', dir]),
    async edit(sql, ...params) {
      // `$n` placeholders become SQLite's `?`, the values in the order they appear.
      const order = [...sql.matchAll(/\$(\d+)/g)].map((m) => params[Number(m[1]) - 1]);
      const db = new Database(path);
      try {
        return db.prepare(sql.replace(/\$\d+/g, '?')).run(...order).changes;
      } finally {
        db.close();
      }
    },
    makeLegacy: async (apiKey) => downgradeToSchema2(path, apiKey),
    migrateHint: /qpher migrate --data-dir /,
  };
}

async function postgresDeployment(): Promise<Deployment> {
  const dir = await freshDir();
  const url = await cluster!.createDatabase(`integrity${++databases}`);
  const env = { QPHER_MASTER_KEY: MASTER_KEY };
  const edit = async (sql: string, ...params: unknown[]) => (await cluster!.query(sql, url, params)).rowCount ?? 0;
  return {
    createKey: (tenant) => createApiKey(dir, tenant, undefined, { args: ['--database', url], env }),
    start: () => startServer(dir, ['--database', url], env),
    cli: (args) => runCli([...args, '--data-dir', dir, '--database', url], env),
    edit,
    // What schema 1 held (migration 2 keeps its columns): no MACs, API keys by plain SHA-256.
    async makeLegacy(apiKey) {
      await edit('UPDATE keys SET mac = NULL');
      await edit(
        "INSERT INTO api_keys (id, hash, tenant, scopes, created_at) VALUES ('key_legacy', $1, 'acme', 'kem:encrypt,kms:read', '2020-01-01T00:00:00.000Z')",
        sha256(apiKey),
      );
    },
    migrateHint: /qpher migrate --database postgres:\/\/qpher@127\.0\.0\.1:\d+\/integrity\d+/,
  };
}

const BACKENDS = [
  ['SQLite', sqliteDeployment],
  ['PostgreSQL', postgresDeployment],
] as const;

describe.each(BACKENDS)('a %s database edited without the master key', (_, deploy) => {
  it('refuses an inserted API key, an un-archived key and a swapped public key', SLOW, async () => {
    const store = await deploy();
    const edit = store.edit;
    const [acme, globex] = [await store.createKey('acme'), await store.createKey('globex')];
    const server = await store.start();
    try {
      for (const key of [acme, globex]) {
        expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
      }
      expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key: acme, body: { algorithm: 'Kyber768' } }), 200);
      expectEnvelope(
        await call(server.url, 'POST', '/api/v1/kms/keys/archive', { key: acme, body: { algorithm: 'Kyber768', key_version: 1 } }),
        200,
      );

      // 1. Mint an API key: a row with the SHA-256 of a key of the attacker's making, as the
      //    digest (what the store held before) and as a legacy hash.
      const forged = `qph_${'F'.repeat(43)}`;
      await edit(
        "INSERT INTO api_keys (id, digest, tenant, scopes, created_at) VALUES ('key_forged1', $1, 'acme', 'kms:read', '2020-01-01T00:00:00.000Z')",
        sha256(forged),
      );
      expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: forged }), 401, 'ERR_AUTH_001');
      const legacy = `qph_${'L'.repeat(43)}`;
      await edit(
        "INSERT INTO api_keys (id, hash, tenant, scopes, created_at, mac) VALUES ('key_forged2', $1, 'acme', 'kms:read', '2020-01-01T00:00:00.000Z', $2)",
        sha256(legacy),
        Buffer.alloc(32, 1),
      );
      const minted = expectEnvelope(
        await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: legacy }),
        500,
        'ERR_INTERNAL_001',
      );
      expect(minted.error.message).toBe(FIXED);
      await waitFor(server.output, /integrity check failed: api key row key_forged2 was changed outside qpher/);

      // 2. Un-archive version 1: its row no longer matches its MAC.
      expect(await edit("UPDATE keys SET status = 'retired' WHERE tenant = 'acme' AND key_version = 1")).toBe(1);
      const unarchived = expectEnvelope(
        await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: acme }),
        500,
        'ERR_INTERNAL_001',
      );
      expect(unarchived.error.message).toBe(FIXED);
      await waitFor(server.output, /integrity check failed: key row acme\/Kyber768\/v1 was changed outside qpher/);
      await edit("UPDATE keys SET status = 'archived' WHERE tenant = 'acme' AND key_version = 1");
      expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: acme }), 200);

      // 3. Swap globex's public key into acme's active row: encrypting would go to another key.
      expect(
        await edit(
          "UPDATE keys SET public_key = (SELECT public_key FROM keys WHERE tenant = 'globex') WHERE tenant = 'acme' AND key_version = 2",
        ),
      ).toBe(1);
      const swapped = expectEnvelope(
        await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: acme, body: { plaintext: b64('secret'), key_version: 2 } }),
        500,
        'ERR_INTERNAL_001',
      );
      expect(swapped.error.message).toBe(FIXED);
      // Never key material in the answer or the log.
      const publicKey = (await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: globex })).body.data.keys[0]
        .public_key;
      expect(JSON.stringify(swapped)).not.toContain(publicKey.slice(0, 40));
      expect(server.output()).not.toContain(publicKey.slice(0, 40));

      // globex is untouched.
      expectEnvelope(
        await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: globex, body: { plaintext: b64('ok'), key_version: 1 } }),
        200,
      );
    } finally {
      await server.stop();
    }
  });
});

/** Turns a schema-3 SQLite store back into what schema 2 wrote: no MACs, API keys as plain SHA-256. */
function downgradeToSchema2(path: string, apiKey: string): void {
  const db = new Database(path);
  try {
    db.exec(`
      ALTER TABLE keys DROP COLUMN mac;
      DROP INDEX idempotency_by_time;
      DROP INDEX idempotency_by_tenant_time;
      ALTER TABLE idempotency DROP COLUMN owner;
      DROP TABLE api_keys;
      CREATE TABLE api_keys (id TEXT PRIMARY KEY, hash BLOB NOT NULL UNIQUE, tenant TEXT NOT NULL, scopes TEXT NOT NULL,
        created_at TEXT NOT NULL, revoked_at TEXT) STRICT;
      PRAGMA user_version = 2;
    `);
    db.prepare("INSERT INTO api_keys VALUES ('key_legacy', ?, 'acme', 'kem:encrypt,kms:read', '2020-01-01T00:00:00.000Z', NULL)").run(
      sha256(apiKey),
    );
  } finally {
    db.close();
  }
}

describe.each(BACKENDS)('upgrading a %s store written before integrity MACs', (_, deploy) => {
  it('refuses to serve until qpher migrate seals it; the legacy API key then works and is re-stored as an HMAC', SLOW, async () => {
    const store = await deploy();
    const first = await store.createKey('acme');
    let server = await store.start();
    expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key: first, body: { algorithm: 'Kyber768' } }), 201);
    await server.stop();
    const legacyKey = `qph_${'k'.repeat(43)}`;
    await store.makeLegacy(legacyKey);

    const refused = await store.start().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StartFailure);
    expect((refused as StartFailure).output).toMatch(/1 key row\(s\) and 1 API key\(s\) written before integrity checks/);
    expect((refused as StartFailure).output).toMatch(store.migrateHint);
    expect((await store.cli(['api-key', 'list'])).stderr).toMatch(/qpher migrate/);

    const migrated = await store.cli(['migrate']);
    expect(migrated.stderr).toBe('');
    expect(migrated.stdout).toMatch(/sealed 1 key row\(s\) and 1 API key\(s\)/);
    expect(migrated.code).toBe(0);

    server = await store.start();
    try {
      expectEnvelope(
        await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: legacyKey, body: { plaintext: b64('hi'), key_version: 1 } }),
        200,
      );
      // Upgraded on first use: the plain SHA-256 is gone, an HMAC digest (not that SHA-256) is stored.
      expect(
        await store.edit(
          "UPDATE api_keys SET scopes = scopes WHERE id = 'key_legacy' AND hash IS NULL AND digest IS NOT NULL AND digest <> $1",
          sha256(legacyKey),
        ),
      ).toBe(1);
      // still works by its new digest
      expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: legacyKey }), 200);
    } finally {
      await server.stop();
    }
  });

  it('migrate refuses to seal a legacy key row whose public key was swapped', SLOW, async () => {
    const store = await deploy();
    const [acme, globex] = [await store.createKey('acme'), await store.createKey('globex')];
    const server = await store.start();
    for (const key of [acme, globex]) {
      expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
    }
    await server.stop();
    await store.makeLegacy(`qph_${'k'.repeat(43)}`);
    await store.edit("UPDATE keys SET public_key = (SELECT public_key FROM keys WHERE tenant = 'globex') WHERE tenant = 'acme'");
    const migrated = await store.cli(['migrate']);
    expect(migrated.code).toBe(1);
    expect(migrated.stderr).toMatch(/1 key row\(s\) do not match their wrapped seed.*acme\/Kyber768\/v1.*Nothing was sealed/s);
    expect((await store.start().catch((e: unknown) => e)) as StartFailure).toBeInstanceOf(StartFailure);
  });
});
