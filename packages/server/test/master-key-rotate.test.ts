/**
 * `qpher master-key rotate` against real processes: every seed (rows of the legacy format too) is
 * rewrapped under a new key in one transaction; the server then starts with the new key only
 * (the old one is refused, naming both key ids and no key); a rotation killed with SIGKILL midway
 * leaves the store opening with the old key; one killed between its commit and the rename of
 * master.key.next is finished by the next start. On SQLite (master.key, and QPHER_MASTER_KEY +
 * QPHER_NEW_MASTER_KEY) and on PostgreSQL. Row MACs (integrity.ts) are rewritten under the new
 * key in the same transaction, and API keys made before the rotation keep working after it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesGcmSeedWrapper, Engine, requestIdFor, seedBinding } from 'qpher/host';
import { SqliteStore } from '../src/sqlite.js';
import { Integrity } from '../src/integrity.js';
import { isVersion1, masterKeyId, masterKeyWrapperOf, toHex } from '../src/master-key-wrapper.js';
import { b64, call, createApiKey, expectEnvelope, freshDirs, runCli, StartFailure, startServer } from '../../../test/support/server.js';
import { REPO_ROOT, SOURCE_CLI } from '../../../test/support/serve.js';
import { type PostgresCluster, startPostgres } from '../../../test/support/postgres.js';

const newDir = freshDirs();
const BULK = 6000;
const CREATED = '2026-01-01T00:00:00.000Z';

const readKey = async (dir: string) => (await readFile(join(dir, 'master.key'), 'utf8')).trim();
const idOf = async (base64: string) => toHex(await masterKeyId(Buffer.from(base64, 'base64')));

/** Keys made over HTTP, with a ciphertext and a signature made under them. */
async function populate(url: string, apiKey: string) {
  const results: { kem: Record<string, string>; signature: string; message: string } = { kem: {}, signature: '', message: b64('signed') };
  for (const algorithm of ['Kyber768', 'X-Wing'] as const) {
    await expect0(call(url, 'POST', '/api/v1/kms/keys/generate', { key: apiKey, body: { algorithm } }), 201);
    const sealed = await expect0(
      call(url, 'POST', '/api/v1/kem/encrypt', { key: apiKey, body: { algorithm, plaintext: b64(`secret ${algorithm}`), key_version: 1 } }),
      200,
    );
    results.kem[algorithm] = sealed.data.ciphertext;
  }
  await expect0(call(url, 'POST', '/api/v1/kms/keys/generate', { key: apiKey, body: { algorithm: 'Composite-ML-DSA' } }), 201);
  const signed = await expect0(
    call(url, 'POST', '/api/v1/signature/sign', {
      key: apiKey,
      body: { algorithm: 'Composite-ML-DSA', message: results.message, key_version: 1 },
    }),
    200,
  );
  results.signature = signed.data.signature;
  return results;
}

async function expect0(reply: ReturnType<typeof call>, status: number) {
  return expectEnvelope(await reply, status);
}

/** What `populate` made still decrypts and verifies. */
async function stillWorks(url: string, apiKey: string, made: Awaited<ReturnType<typeof populate>>) {
  for (const [algorithm, ciphertext] of Object.entries(made.kem)) {
    const opened = await expect0(
      call(url, 'POST', '/api/v1/kem/decrypt', { key: apiKey, body: { algorithm, ciphertext, key_version: 1 } }),
      200,
    );
    expect(opened.data.plaintext).toBe(b64(`secret ${algorithm}`));
  }
  const verified = await expect0(
    call(url, 'POST', '/api/v1/signature/verify', {
      key: apiKey,
      body: { algorithm: 'Composite-ML-DSA', message: made.message, signature: made.signature, key_version: 1 },
    }),
    200,
  );
  expect(verified.data.valid).toBe(true);
}

/** Runs `qpher master-key rotate`, SIGKILLed as soon as it reports its first batch. */
function rotateAndKill(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [...SOURCE_CLI, 'master-key', 'rotate', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, QPHER_MASTER_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (/rewrapped \d+ of \d+ seeds/.test(stdout)) proc.kill('SIGKILL');
    });
    proc.on('exit', (_code, signal) => resolve({ stdout, signal }));
  });
}

/** BULK rows of tenant "bulk" wrapped under `keyBase64` (version 1), written straight into SQLite. */
async function bulkRowsSqlite(dir: string, keyBase64: string): Promise<void> {
  const rows = await bulkRows(keyBase64);
  const db = new Database(join(dir, 'qpher.db'));
  const insert = db.prepare(
    `INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed, mac) VALUES ('bulk', 'Kyber768', ?, 'retired', ?, '${CREATED}', ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows) insert.run(r.version, r.publicKey, r.wrapped, r.mac);
  })();
  db.close();
}

/** BULK retired Kyber768 rows of tenant "bulk" (fake public keys: rotation never parses them), sealed with their MACs. */
async function bulkRows(keyBase64: string) {
  const wrapper = await masterKeyWrapperOf(Buffer.from(keyBase64, 'base64'));
  const integrity = Integrity.fromMasterKey(Buffer.from(keyBase64, 'base64'));
  return Promise.all(
    Array.from({ length: BULK }, async (_, i) => {
      const publicKey = `bulk-${i + 1}`;
      const wrapped = await wrapper.wrap(new Uint8Array(64).fill(i & 0xff), seedBinding('bulk', 'Kyber768', publicKey));
      const key = { key_version: i + 1, status: 'retired' as const, public_key: publicKey, created_at: CREATED, wrapped_seed: wrapped };
      return { version: i + 1, publicKey, wrapped, mac: integrity.keyRowMac('bulk', 'Kyber768', key) };
    }),
  );
}

describe('qpher master-key rotate on SQLite', () => {
  it('rewraps every seed, legacy rows too, under a new master.key; the old key no longer starts the server', async () => {
    const dir = await newDir();
    let server = await startServer(dir);
    const apiKey = await createApiKey(dir, 'acme');
    const made = await populate(server.url, apiKey);
    await server.stop();
    const oldKey = await readKey(dir);

    // A key ring as a qpher from before the versioned format wrote it: iv ‖ AES-GCM under the master key itself.
    const aes = await crypto.subtle.importKey('raw', Buffer.from(oldKey, 'base64'), 'AES-GCM', false, ['encrypt', 'decrypt']);
    const legacyStore = new SqliteStore(join(dir, 'qpher.db'));
    legacyStore.attachIntegrity(Integrity.fromMasterKey(Buffer.from(oldKey, 'base64')));
    const engine = await Engine.create({ store: legacyStore, wrapper: aesGcmSeedWrapper(aes) });
    const run = async (operation: 'kms.generate' | 'kem.encrypt', request: object) =>
      ((await engine.execute({ tenant: 'legacy' }, operation, request, requestIdFor(undefined))) as { data: any }).data;
    await run('kms.generate', { algorithm: 'Kyber768' });
    const legacyCiphertext = (await run('kem.encrypt', { plaintext: b64('legacy'), key_version: 1 })).ciphertext as string;
    const legacyRow = (await legacyStore.get('legacy', 'Kyber768', 1))!;
    expect(isVersion1(legacyRow.wrapped_seed)).toBe(false);
    expect(legacyRow.wrapped_seed.length).toBe(12 + 64 + 16);
    await legacyStore.close();

    // The server reads both formats; while it runs, rotation is refused.
    server = await startServer(dir);
    const legacyKey = await createApiKey(dir, 'legacy');
    const decryptLegacy = (url: string) =>
      expect0(call(url, 'POST', '/api/v1/kem/decrypt', { key: legacyKey, body: { ciphertext: legacyCiphertext, key_version: 1 } }), 200);
    expect((await decryptLegacy(server.url)).data.plaintext).toBe(b64('legacy'));
    const busy = await runCli(['master-key', 'rotate', '--data-dir', dir]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('is in use');
    expect(busy.stderr).toContain('Nothing was rotated');
    await server.stop();
    expect(await readKey(dir)).toBe(oldKey);

    const rotated = await runCli(['master-key', 'rotate', '--data-dir', dir]);
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    const newKey = await readKey(dir);
    expect(newKey).not.toBe(oldKey);
    const [oldId, newId] = [await idOf(oldKey), await idOf(newKey)];
    expect(rotated.stdout).toContain(`rotated 4 seeds from master key ${oldId} to ${newId}`);
    expect(rotated.stdout).not.toContain(oldKey);
    expect(rotated.stdout).not.toContain(newKey);
    expect((await stat(join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'master.key.next'))).toBe(false);

    // Every row now says which key wrapped it: version 1 and the new key's id.
    const db = new Database(join(dir, 'qpher.db'), { readonly: true });
    const seeds = db.prepare<[], { wrapped_seed: Buffer }>('SELECT wrapped_seed FROM keys').all();
    db.close();
    expect(seeds).toHaveLength(4);
    for (const { wrapped_seed } of seeds) {
      expect(wrapped_seed[0]).toBe(1);
      expect(toHex(wrapped_seed.subarray(1, 9))).toBe(newId);
    }

    const refused = await startServer(dir, [], { QPHER_MASTER_KEY: oldKey }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StartFailure);
    const output = (refused as StartFailure).output;
    expect(output).toContain(`(id ${oldId}) does not match`);
    expect(output).toContain(`(id ${newId})`);
    expect(output).not.toContain(oldKey);
    expect(output).not.toContain(newKey);

    server = await startServer(dir);
    await stillWorks(server.url, apiKey, made);
    expect((await decryptLegacy(server.url)).data.plaintext).toBe(b64('legacy'));
    await server.stop();
  }, 240_000);

  it('killed midway (SIGKILL) it changes nothing: the old key opens the store; killed after the commit, the next start finishes it', async () => {
    const dir = await newDir();
    let server = await startServer(dir);
    const apiKey = await createApiKey(dir, 'acme');
    const made = await populate(server.url, apiKey);
    await server.stop();
    const oldKey = await readKey(dir);
    await bulkRowsSqlite(dir, oldKey);

    const killed = await rotateAndKill(['--data-dir', dir], {});
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).toMatch(/rewrapped 500 of 6003 seeds/);
    expect(killed.stdout).not.toContain('committed');
    expect(await readKey(dir)).toBe(oldKey);
    expect(existsSync(join(dir, 'master.key.next'))).toBe(true); // the new key, never used: ignored

    server = await startServer(dir);
    await stillWorks(server.url, apiKey, made);
    await server.stop();

    // Again, to the end: the leftover master.key.next is replaced by a fresh key.
    const started = Date.now();
    const rotated = await runCli(['master-key', 'rotate', '--data-dir', dir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/rotated 6003 seeds from master key [0-9a-f]{16} to [0-9a-f]{16} in \d+ ms/);
    console.log(
      `rotation of 6003 seeds (SQLite, process included): ${Date.now() - started} ms; ${rotated.stdout.match(/in (\d+) ms/)![1]} ms in the transaction`,
    );
    const newKey = await readKey(dir);

    // The state a kill between the commit and the rename leaves: the store under the new key,
    // master.key still the old one, the new one in master.key.next.
    await rename(join(dir, 'master.key'), join(dir, 'master.key.next'));
    await writeFile(join(dir, 'master.key'), `${oldKey}\n`, { mode: 0o600 });
    server = await startServer(dir);
    expect(server.output()).toContain('finished an interrupted master-key rotation');
    await stillWorks(server.url, apiKey, made);
    await server.stop();
    expect(await readKey(dir)).toBe(newKey);
    expect(existsSync(join(dir, 'master.key.next'))).toBe(false);
  }, 300_000);

  it('with QPHER_MASTER_KEY the new key comes from QPHER_NEW_MASTER_KEY', async () => {
    const dir = await newDir();
    const k1 = Buffer.alloc(32, 0x11).toString('base64');
    const k2 = Buffer.alloc(32, 0x22).toString('base64');
    const apiKey = await createApiKey(dir, 'acme', undefined, { env: { QPHER_MASTER_KEY: k1 } });
    let server = await startServer(dir, [], { QPHER_MASTER_KEY: k1 });
    const made = await populate(server.url, apiKey);
    await server.stop();

    const missing = await runCli(['master-key', 'rotate', '--data-dir', dir], { QPHER_MASTER_KEY: k1 });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('put the new one in QPHER_NEW_MASTER_KEY');
    const same = await runCli(['master-key', 'rotate', '--data-dir', dir], { QPHER_MASTER_KEY: k1, QPHER_NEW_MASTER_KEY: k1 });
    expect(same.stderr).toContain('is the current master key; nothing was rotated');
    const rotated = await runCli(['master-key', 'rotate', '--data-dir', dir], { QPHER_MASTER_KEY: k1, QPHER_NEW_MASTER_KEY: k2 });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`rotated 3 seeds from master key ${await idOf(k1)} to ${await idOf(k2)}`);
    expect(rotated.stdout).toContain('start the server with QPHER_MASTER_KEY set to the value of QPHER_NEW_MASTER_KEY');
    expect(existsSync(join(dir, 'master.key'))).toBe(false);

    const refused = await startServer(dir, [], { QPHER_MASTER_KEY: k1 }).catch((e: unknown) => e);
    expect((refused as StartFailure).output).toMatch(/does not match.*Refusing to start/s);
    server = await startServer(dir, [], { QPHER_MASTER_KEY: k2 });
    await stillWorks(server.url, apiKey, made);
    await server.stop();
  }, 240_000);
});

describe('qpher master-key rotate on PostgreSQL', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('rotates in one transaction; a SIGKILL midway changes nothing; afterwards only the new key starts an instance', async () => {
    const url = await cluster.createDatabase('rotate');
    const dir = await newDir();
    const k1 = Buffer.alloc(32, 0x31).toString('base64');
    const k2 = Buffer.alloc(32, 0x32).toString('base64');
    const store = { args: ['--database', url], env: { QPHER_MASTER_KEY: k1 } };
    let server = await startServer(dir, store.args, store.env);
    const apiKey = await createApiKey(dir, 'acme', undefined, store);
    const made = await populate(server.url, apiKey);
    await server.stop();

    const rows = await bulkRows(k1);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed, mac)
       SELECT 'bulk', 'Kyber768', v, 'retired', p, '${CREATED}', w, m FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::bytea[]) AS t(v, p, w, m)`,
      [
        rows.map((r) => String(r.version)),
        rows.map((r) => r.publicKey),
        rows.map((r) => Buffer.from(r.wrapped)),
        rows.map((r) => Buffer.from(r.mac)),
      ],
    );
    const snapshot = async () =>
      (await client.query<{ w: Buffer }>('SELECT wrapped_seed AS w FROM keys ORDER BY tenant, algorithm, key_version')).rows.map((r) =>
        r.w.toString('hex'),
      );
    const before = await snapshot();

    const env = { QPHER_MASTER_KEY: k1, QPHER_NEW_MASTER_KEY: k2 };
    const killed = await rotateAndKill(['--database', url, '--data-dir', dir], env);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).toMatch(/rewrapped 500 of 6003 seeds/);
    expect(killed.stdout).not.toContain('committed');
    // The dead client's transaction is rolled back once PostgreSQL notices the closed connection.
    await expect.poll(snapshot, { timeout: 20_000 }).toEqual(before);
    server = await startServer(dir, store.args, store.env);
    await stillWorks(server.url, apiKey, made);
    await server.stop();

    const started = Date.now();
    const rotated = await runCli(['master-key', 'rotate', '--database', url, '--data-dir', dir], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`rotated 6003 seeds from master key ${await idOf(k1)} to ${await idOf(k2)}`);
    console.log(
      `rotation of 6003 seeds (PostgreSQL, process included): ${Date.now() - started} ms; ${rotated.stdout.match(/in (\d+) ms/)![1]} ms in the transaction`,
    );
    const after = await snapshot();
    const newId = await idOf(k2);
    expect(after.every((hex) => hex.startsWith(`01${newId}`))).toBe(true);
    expect(after.every((hex, i) => hex !== before[i])).toBe(true);
    await client.end();

    const refused = await startServer(dir, store.args, store.env).catch((e: unknown) => e);
    expect((refused as StartFailure).output).toContain(`(id ${await idOf(k1)}) does not match`);
    expect((refused as StartFailure).output).not.toContain(k1);
    server = await startServer(dir, store.args, { QPHER_MASTER_KEY: k2 });
    await stillWorks(server.url, apiKey, made);
    await server.stop();
  }, 300_000);
});
