/**
 * Key backups against real `qpher serve` processes: export exists only with --allow-key-export
 * and for a key that was given `kms:export` by name; import is always there and takes a backup
 * larger than the general body limit; keys move Node in-process -> server -> Node in-process and
 * the receiving side decrypts and verifies what the other made; `qpher keys export|import`
 * write 0600 files and need a passphrase from the environment when there is no terminal; and
 * all of it on the PostgreSQL store too (`--database`), hybrid algorithms included.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend, Qpher, RemoteBackend } from '../../../src/index.js';
import { BACKUP_OPEN_FAILED, encodeBackup } from '../../../src/crypto/backup.js';
import { unwrap } from '../../../src/errors.js';
import { backupKey } from '../../../test/vectors/generate-backup-v1.js';
import { b64, call, createApiKey, freshDirs, runCli, type ServerProcess, startServer } from '../../../test/support/server.js';
import { type PostgresCluster, startPostgres } from '../../../test/support/postgres.js';

const newDir = freshDirs();
const PASSPHRASE = 'a long passphrase for the backup tests';
const ALL_WITH_EXPORT = 'kem:encrypt,kem:decrypt,signature:sign,signature:verify,kms:read,kms:write,kms:export';

describe('kms.export over HTTP', () => {
  let plain: ServerProcess;
  let plainDir: string;
  let exporting: ServerProcess;
  let exportingDir: string;
  beforeAll(async () => {
    [plainDir, exportingDir] = await Promise.all([newDir(), newDir()]);
    // One after the other: two cold starts at once can outlast the start-up timeout on a loaded machine.
    plain = await startServer(plainDir);
    exporting = await startServer(exportingDir, ['--allow-key-export']);
  });

  it('without --allow-key-export the route does not exist: 404 as any unknown route, even for a key with kms:export', async () => {
    const key = await createApiKey(plainDir, 'a', ALL_WITH_EXPORT);
    const reply = await call(plain.url, 'POST', '/api/v1/kms/keys/export', { key, body: { passphrase: PASSPHRASE } });
    expect(reply.status).toBe(404);
    // Exactly what any other unknown word in that place answers (there, a GET-only alias route matches).
    const unknown = await call(plain.url, 'POST', '/api/v1/kms/keys/unknown', { key, body: {} });
    expect(unknown.status).toBe(404);
    expect(reply.body.error).toEqual({ ...unknown.body.error, message: unknown.body.error.message.replace('unknown', 'export') });
    expect(reply.body.error.code).toBe('ERR_NOT_FOUND_001');
    const doc = await call(plain.url, 'GET', '/api/v1/openapi.json');
    expect(Object.keys(doc.body.paths)).not.toContain('/api/v1/kms/keys/export');
    expect(Object.keys(doc.body.paths)).toContain('/api/v1/kms/keys/import');
  });

  it('with it, a key needs kms:export by name: the default scopes do not include it (403)', async () => {
    const ordinary = await createApiKey(exportingDir, 'b');
    const refused = await call(exporting.url, 'POST', '/api/v1/kms/keys/export', { key: ordinary, body: { passphrase: PASSPHRASE } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('"kms:export"');
    const list = await runCli(['api-key', 'list', '--json', '--data-dir', exportingDir]);
    expect(JSON.parse(list.stdout)[0].scopes).not.toContain('kms:export');

    const admin = await createApiKey(exportingDir, 'b', ALL_WITH_EXPORT);
    const doc = await call(exporting.url, 'GET', '/api/v1/openapi.json');
    expect(Object.keys(doc.body.paths)).toContain('/api/v1/kms/keys/export');
    const q = new Qpher({ backend: new RemoteBackend({ baseUrl: exporting.url, apiKey: admin, retries: 0 }) });
    unwrap(await q.kms.generate({ algorithm: 'Kyber768' }));
    expect(unwrap(await q.kms.exportKeys({ passphrase: PASSPHRASE })).keys).toBe(1);
  });

  it('Node in-process -> server -> Node in-process: each side decrypts and verifies what the other made', async () => {
    const admin = await createApiKey(exportingDir, 'moved', ALL_WITH_EXPORT);
    const server = new Qpher({ backend: new RemoteBackend({ baseUrl: exporting.url, apiKey: admin, retries: 0 }) });
    const node = new Qpher({ backend: new LocalBackend() });
    unwrap(await node.kms.generate({ algorithm: 'Kyber768' }));
    unwrap(await node.kms.generate({ algorithm: 'Dilithium3' }));
    const { ciphertext } = unwrap(await node.kem.encrypt({ plaintext: b64('from node'), key_version: 1 }));
    const { signature } = unwrap(await node.signature.sign({ message: b64('node signed'), key_version: 1 }));
    const backup = unwrap(await node.kms.exportKeys({ passphrase: PASSPHRASE })).backup;

    // A wrong passphrase is one 400 and writes nothing.
    const wrong = await server.kms.importKeys({ backup, passphrase: 'not it' });
    expect(wrong).toMatchObject({ error: { code: 'ERR_INVALID_001', message: BACKUP_OPEN_FAILED } });
    expect(unwrap(await server.kms.list()).total).toBe(0);

    expect(unwrap(await server.kms.importKeys({ backup, passphrase: PASSPHRASE })).imported).toHaveLength(2);
    expect(unwrap(await server.kem.decrypt({ ciphertext, key_version: 1 })).plaintext).toBe(b64('from node'));
    expect(unwrap(await server.signature.verify({ message: b64('node signed'), signature, key_version: 1 })).valid).toBe(true);

    // The reverse: a key the server made, back to a fresh Node engine.
    unwrap(await server.kms.rotate({ algorithm: 'Kyber768' }));
    const fromServer = unwrap(await server.kem.encrypt({ plaintext: b64('from server'), key_version: 2 })).ciphertext;
    const back = unwrap(await server.kms.exportKeys({ passphrase: PASSPHRASE, algorithm: 'Kyber768' }));
    expect(back.keys).toBe(2);
    const node2 = new Qpher({ backend: new LocalBackend() });
    unwrap(await node2.kms.importKeys({ backup: back.backup, passphrase: PASSPHRASE }));
    expect(unwrap(await node2.kem.decrypt({ ciphertext: fromServer, key_version: 2 })).plaintext).toBe(b64('from server'));
    await Promise.all([node.close(), node2.close()]);
  });

  it('import takes a backup above the general 2 MiB body limit', async () => {
    const key = await createApiKey(plainDir, 'big');
    const one = backupKey('Kyber768', 1, 'retired', new Uint8Array(64).fill(7), '2025-01-01T00:00:00.000Z');
    const keys = Array.from({ length: 2000 }, (_, i) => ({ ...one, key_version: i + 1, seed: one.seed.slice() }));
    const backup = await encodeBackup(keys, PASSPHRASE, { kdf: { memoryKiB: 64, passes: 1, parallelism: 1 } });
    expect(backup.length).toBeGreaterThan(2 * 1024 * 1024);
    const reply = await call(plain.url, 'POST', '/api/v1/kms/keys/import', { key, body: { backup, passphrase: PASSPHRASE } });
    expect(reply.status, JSON.stringify(reply.body.error)).toBe(200);
    expect(reply.body.data.imported).toHaveLength(2000);
    const other = await call(plain.url, 'POST', '/api/v1/kms/keys/generate', {
      key,
      body: { algorithm: 'Kyber768', pad: 'x'.repeat(3e6) },
    });
    expect(other.status).toBe(400);
    expect(other.body.error.message).toContain('request body exceeds the limit');
  }, 120_000);
});

describe('qpher keys export | import', () => {
  it('exports a tenant to a 0600 file and imports it into another data directory, which then serves the keys', async () => {
    const [from, to] = await Promise.all([newDir(), newDir()]);
    const server = await startServer(from);
    const key = await createApiKey(from, 'acme');
    const q = new Qpher({ backend: new RemoteBackend({ baseUrl: server.url, apiKey: key, retries: 0 }) });
    unwrap(await q.kms.generate({ algorithm: 'Kyber768' }));
    const { ciphertext } = unwrap(await q.kem.encrypt({ plaintext: b64('kept'), key_version: 1 }));

    const file = join(from, 'acme.qpherbak');
    const env = { QPHER_BACKUP_PASSPHRASE: PASSPHRASE };
    const exported = await runCli(['keys', 'export', '--tenant', 'acme', '--out', file, '--data-dir', from], env);
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toContain(`wrote 1 key version of tenant "acme" to ${file}`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await runCli(['keys', 'export', '--tenant', 'acme', '--out', file, '--data-dir', from], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists; refusing to overwrite');

    const noPassphrase = await runCli(['keys', 'import', '--tenant', 'acme', '--in', file, '--data-dir', to]);
    expect(noPassphrase.code).toBe(1);
    expect(noPassphrase.stderr).toContain('No passphrase: set QPHER_BACKUP_PASSPHRASE');
    const wrong = await runCli(['keys', 'import', '--tenant', 'acme', '--in', file, '--data-dir', to], {
      QPHER_BACKUP_PASSPHRASE: 'wrong',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(BACKUP_OPEN_FAILED);

    const imported = await runCli(['keys', 'import', '--tenant', 'acme', '--in', file, '--data-dir', to], env);
    expect(imported.stdout).toContain('imported into tenant "acme": Kyber768 v1 (active)');
    const restored = await startServer(to);
    const key2 = await createApiKey(to, 'acme');
    const q2 = new Qpher({ backend: new RemoteBackend({ baseUrl: restored.url, apiKey: key2, retries: 0 }) });
    expect(unwrap(await q2.kem.decrypt({ ciphertext, key_version: 1 })).plaintext).toBe(b64('kept'));
    await Promise.all([server.stop(), restored.stop()]);

    await writeFile(join(to, 'garbage'), 'not a backup');
    const garbage = await runCli(['keys', 'import', '--tenant', 'acme', '--in', join(to, 'garbage'), '--data-dir', to], env);
    expect(garbage.stderr).toContain('not a Qpher key backup');
  }, 120_000);
});

describe('key backups on the PostgreSQL store', () => {
  const MASTER_KEY = b64(new Uint8Array(32).fill(0x5c));
  const env = { QPHER_MASTER_KEY: MASTER_KEY, QPHER_BACKUP_PASSPHRASE: PASSPHRASE };
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('HTTP export and import on a server with --database, hybrids included; qpher keys export|import --database', async () => {
    const [sourceUrl, targetUrl] = [await cluster.createDatabase('source'), await cluster.createDatabase('target')];
    const dir = await newDir();
    const server = await startServer(dir, ['--database', sourceUrl, '--allow-key-export'], { QPHER_MASTER_KEY: MASTER_KEY });
    const admin = await createApiKey(dir, 'pg', ALL_WITH_EXPORT, {
      args: ['--database', sourceUrl],
      env: { QPHER_MASTER_KEY: MASTER_KEY },
    });
    const q = new Qpher({ backend: new RemoteBackend({ baseUrl: server.url, apiKey: admin, retries: 0 }) });

    // A Node engine's keys, hybrids among them, imported over HTTP into PostgreSQL.
    const node = new Qpher({ backend: new LocalBackend() });
    unwrap(await node.kms.generate({ algorithm: 'X-Wing' }));
    unwrap(await node.kms.generate({ algorithm: 'Composite-ML-DSA' }));
    const { ciphertext } = unwrap(await node.kem.encrypt({ algorithm: 'X-Wing', plaintext: b64('from node'), key_version: 1 }));
    const message = b64('node signed');
    const { signature } = unwrap(await node.signature.sign({ algorithm: 'Composite-ML-DSA', message, key_version: 1 }));
    const backup = unwrap(await node.kms.exportKeys({ passphrase: PASSPHRASE })).backup;
    expect(unwrap(await q.kms.importKeys({ backup, passphrase: PASSPHRASE })).imported).toEqual([
      { algorithm: 'X-Wing', key_version: 1, status: 'active' },
      { algorithm: 'Composite-ML-DSA', key_version: 1, status: 'active' },
    ]);
    expect(unwrap(await q.kms.importKeys({ backup, passphrase: PASSPHRASE })).skipped).toHaveLength(2);
    expect(unwrap(await q.kem.decrypt({ algorithm: 'X-Wing', ciphertext, key_version: 1 })).plaintext).toBe(b64('from node'));
    expect(unwrap(await q.signature.verify({ algorithm: 'Composite-ML-DSA', message, signature, key_version: 1 })).valid).toBe(true);
    unwrap(await q.kms.generate({ algorithm: 'Kyber768' }));
    const fromServer = unwrap(await q.kem.encrypt({ plaintext: b64('from postgres'), key_version: 1 })).ciphertext;
    expect(unwrap(await q.kms.exportKeys({ passphrase: PASSPHRASE })).keys).toBe(3);

    // The CLI on the database while the server runs: export, then import into another database.
    const file = join(dir, 'pg.qpherbak');
    const exported = await runCli(['keys', 'export', '--tenant', 'pg', '--out', file, '--database', sourceUrl, '--data-dir', dir], env);
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toContain(`wrote 3 key versions of tenant "pg" to ${file}`);
    const emptyDir = await newDir();
    const noKey = await runCli(['keys', 'import', '--tenant', 'pg', '--in', file, '--database', targetUrl, '--data-dir', emptyDir], {
      QPHER_BACKUP_PASSPHRASE: PASSPHRASE,
    });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('No master key');
    const imported = await runCli(['keys', 'import', '--tenant', 'pg', '--in', file, '--database', targetUrl, '--data-dir', emptyDir], env);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toContain('imported into tenant "pg": Kyber768 v1 (active), X-Wing v1 (active), Composite-ML-DSA v1 (active)');
    await server.stop();

    const targetDir = await newDir();
    const target = await startServer(targetDir, ['--database', targetUrl], { QPHER_MASTER_KEY: MASTER_KEY });
    const key2 = await createApiKey(targetDir, 'pg', undefined, { args: ['--database', targetUrl], env: { QPHER_MASTER_KEY: MASTER_KEY } });
    const q2 = new Qpher({ backend: new RemoteBackend({ baseUrl: target.url, apiKey: key2, retries: 0 }) });
    expect(unwrap(await q2.kem.decrypt({ ciphertext: fromServer, key_version: 1 })).plaintext).toBe(b64('from postgres'));
    expect(unwrap(await q2.kem.decrypt({ algorithm: 'X-Wing', ciphertext, key_version: 1 })).plaintext).toBe(b64('from node'));
    await Promise.all([target.stop(), node.close()]);
  }, 240_000);
});
