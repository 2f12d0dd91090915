/**
 * `qpher backup` while a real server serves writes (concurrent rotates), and `qpher restore`:
 * refused while the store is open, refused for a foreign or non-store file, and a restored data
 * directory serves the same API keys and decrypts what the original encrypted.
 */
import { copyFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { b64, call, createApiKey, freshDirs, runCli, startServer } from '../../../test/support/server.js';

const newDir = freshDirs();

describe('qpher backup / restore', () => {
  it('copies a serving store consistently; restores only a stopped store, only its own kind under the same master key', async () => {
    const [dir, restoredDir] = await Promise.all([newDir(), newDir()]);
    const server = await startServer(dir);
    const key = await createApiKey(dir, 'acme');
    await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } });
    const sealed = await call(server.url, 'POST', '/api/v1/kem/encrypt', { key, body: { plaintext: b64('before'), key_version: 1 } });
    expect(sealed.status).toBe(200);

    // Writes while the backup runs: a bounded burst of rotates.
    const file = join(dir, 'store.bak');
    const rotates = Array.from({ length: 8 }, () =>
      call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Kyber768' } }),
    );
    const backup = await runCli(['backup', '--out', file, '--data-dir', dir]);
    expect((await Promise.all(rotates)).map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const busy = await runCli(['restore', '--in', file, '--data-dir', dir]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('is in use');
    await server.stop();

    // Another data directory: no master key yet -> refused; another master key -> refused.
    const noKey = await runCli(['restore', '--in', file, '--data-dir', restoredDir]);
    expect(noKey.stderr).toContain('No master key');
    const foreign = await runCli(['restore', '--in', file, '--data-dir', restoredDir], {
      QPHER_MASTER_KEY: b64(new Uint8Array(32).fill(9)),
    });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('was made under another master key');
    await writeFile(join(restoredDir, 'junk'), 'not a database at all, just text that is long enough to have a header');
    await copyFile(join(dir, 'master.key'), join(restoredDir, 'master.key'));
    const junk = await runCli(['restore', '--in', join(restoredDir, 'junk'), '--data-dir', restoredDir]);
    expect(junk.stderr).toContain('is not a Qpher store backup');

    const restored = await runCli(['restore', '--in', file, '--data-dir', restoredDir]);
    expect(restored.stderr).toBe('');
    const again = await startServer(restoredDir);
    const opened = await call(again.url, 'POST', '/api/v1/kem/decrypt', {
      key,
      body: { ciphertext: sealed.body.data.ciphertext, key_version: 1 },
    });
    expect(opened.body.data?.plaintext).toBe(b64('before'));
    const list = await call(again.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key });
    const versions = list.body.data.keys.map((k: { key_version: number }) => k.key_version);
    // One committed state: consecutive versions from 1, exactly one active (the highest).
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    expect(
      list.body.data.keys.filter((k: { status: string }) => k.status === 'active').map((k: { key_version: number }) => k.key_version),
    ).toEqual([versions.length]);
    await again.stop();

    // Restoring over an existing, stopped store keeps the replaced one beside it.
    const over = await runCli(['restore', '--in', file, '--data-dir', restoredDir]);
    expect(over.stdout).toContain('the replaced store is kept as');
  }, 180_000);
});
