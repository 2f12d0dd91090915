/**
 * Write access to the database file without the master key: inserting an API key, un-archiving a
 * key or swapping a public key by editing qpher.db directly (better-sqlite3) is refused by a real
 * `qpher serve`, with a fixed 500 envelope and a log line naming the row. And the upgrade path:
 * a schema-2 store (SHA-256 API keys, key rows without MACs) is refused until `qpher migrate` has
 * checked and sealed it; then its API key works and is re-stored as an HMAC digest.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { b64, call, createApiKey, expectEnvelope, freshDirs, runCli, StartFailure, startServer } from '../../../test/support/server.js';

const freshDir = freshDirs();
const FIXED = 'Key store integrity check failed: a stored row was changed outside qpher; refusing to use it';

function edit(dir: string, sql: string, ...params: unknown[]): number {
  const db = new Database(join(dir, 'qpher.db'));
  try {
    return db.prepare(sql).run(...params).changes;
  } finally {
    db.close();
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

async function waitFor(output: () => string, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(output()); i++) await new Promise((r) => setTimeout(r, 20));
  expect(output()).toMatch(pattern);
}

// Each test spawns several CLI and server processes (a few seconds each on a busy machine).
const SLOW = { timeout: 120_000 };

describe('a database edited without the master key', () => {
  it('refuses an inserted API key, an un-archived key and a swapped public key', SLOW, async () => {
    const dir = await freshDir();
    const [acme, globex] = [await createApiKey(dir, 'acme'), await createApiKey(dir, 'globex')];
    const server = await startServer(dir);
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
      edit(
        dir,
        "INSERT INTO api_keys (id, digest, tenant, scopes, created_at) VALUES ('key_forged1', ?, 'acme', 'kms:read', '2020-01-01T00:00:00.000Z')",
        sha256(forged),
      );
      expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: forged }), 401, 'ERR_AUTH_001');
      const legacy = `qph_${'L'.repeat(43)}`;
      edit(
        dir,
        "INSERT INTO api_keys (id, hash, tenant, scopes, created_at, mac) VALUES ('key_forged2', ?, 'acme', 'kms:read', '2020-01-01T00:00:00.000Z', ?)",
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
      expect(edit(dir, "UPDATE keys SET status = 'retired' WHERE tenant = 'acme' AND key_version = 1")).toBe(1);
      const unarchived = expectEnvelope(
        await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: acme }),
        500,
        'ERR_INTERNAL_001',
      );
      expect(unarchived.error.message).toBe(FIXED);
      await waitFor(server.output, /integrity check failed: key row acme\/Kyber768\/v1 was changed outside qpher/);
      edit(dir, "UPDATE keys SET status = 'archived' WHERE tenant = 'acme' AND key_version = 1");
      expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: acme }), 200);

      // 3. Swap globex's public key into acme's active row: encrypting would go to another key.
      expect(
        edit(
          dir,
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

/** Turns a schema-3 store back into what schema 2 wrote: no MACs, API keys as plain SHA-256. */
function downgradeToSchema2(dir: string, apiKey: string): void {
  const db = new Database(join(dir, 'qpher.db'));
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

describe('upgrading a schema-2 store', () => {
  it('refuses to serve until qpher migrate seals it; the legacy API key then works and is re-stored as an HMAC', SLOW, async () => {
    const dir = await freshDir();
    const first = await createApiKey(dir, 'acme');
    let server = await startServer(dir);
    expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key: first, body: { algorithm: 'Kyber768' } }), 201);
    await server.stop();
    const legacyKey = `qph_${'k'.repeat(43)}`;
    downgradeToSchema2(dir, legacyKey);

    const refused = await startServer(dir).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StartFailure);
    expect((refused as StartFailure).output).toMatch(/1 key row\(s\) and 1 API key\(s\) written before integrity checks.*qpher migrate/s);
    expect((await runCli(['api-key', 'list', '--data-dir', dir])).stderr).toMatch(/qpher migrate/);

    const migrated = await runCli(['migrate', '--data-dir', dir]);
    expect(migrated.stderr).toBe('');
    expect(migrated.stdout).toMatch(/sealed 1 key row\(s\) and 1 API key\(s\)/);
    expect(migrated.code).toBe(0);

    server = await startServer(dir);
    try {
      expectEnvelope(
        await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: legacyKey, body: { plaintext: b64('hi'), key_version: 1 } }),
        200,
      );
      const db = new Database(join(dir, 'qpher.db'), { readonly: true });
      const row = db.prepare("SELECT digest, hash FROM api_keys WHERE id = 'key_legacy'").get() as {
        digest: Buffer | null;
        hash: Buffer | null;
      };
      db.close();
      expect(row.hash).toBeNull();
      expect(row.digest).not.toBeNull();
      expect(row.digest!.equals(sha256(legacyKey))).toBe(false);
      // still works by its new digest
      expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: legacyKey }), 200);
    } finally {
      await server.stop();
    }
  });

  it('migrate refuses to seal a legacy key row whose public key was swapped', SLOW, async () => {
    const dir = await freshDir();
    const [acme, globex] = [await createApiKey(dir, 'acme'), await createApiKey(dir, 'globex')];
    const server = await startServer(dir);
    for (const key of [acme, globex]) {
      expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
    }
    await server.stop();
    downgradeToSchema2(dir, `qph_${'k'.repeat(43)}`);
    edit(dir, "UPDATE keys SET public_key = (SELECT public_key FROM keys WHERE tenant = 'globex') WHERE tenant = 'acme'");
    const migrated = await runCli(['migrate', '--data-dir', dir]);
    expect(migrated.code).toBe(1);
    expect(migrated.stderr).toMatch(/1 key row\(s\) do not match their wrapped seed.*acme\/Kyber768\/v1.*Nothing was sealed/s);
    expect((await startServer(dir).catch((e: unknown) => e)) as StartFailure).toBeInstanceOf(StartFailure);
  });
});
