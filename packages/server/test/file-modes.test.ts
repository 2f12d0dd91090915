/**
 * `startServer` embedded (not through the CLI, which sets umask 077) keeps the data directory's
 * files owner-only: the database, its WAL and shared-memory files are 0600 even under umask 022,
 * in a directory that already existed, and a database left 0644 by an older version is reset.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/node.js';
import { removeDir, tempDir } from '../../../test/support/server.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await removeDir(dir);
});

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('data directory file modes via startServer', () => {
  it('creates the database, WAL and SHM 0600 under umask 022 in an existing 0755 directory', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const data = join(dir, 'existing');
    await mkdir(data, { mode: 0o755 });
    const previous = process.umask(0o022);
    try {
      const running = await startServer({ host: '127.0.0.1', port: 0, dataDir: data, cryptoThreads: 0 });
      try {
        const response = await fetch(`${running.url}/healthz`);
        expect(response.status).toBe(200);
        for (const file of ['qpher.db', 'qpher.db-wal', 'qpher.db-shm', 'master.key']) {
          expect({ file, mode: (await mode(join(data, file))).toString(8) }).toEqual({ file, mode: '600' });
        }
      } finally {
        await running.close();
      }
    } finally {
      process.umask(previous);
    }
  });

  it('resets a database file left 0644 to 0600', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    await writeFile(join(dir, 'qpher.db'), '', { mode: 0o644 });
    const running = await startServer({ host: '127.0.0.1', port: 0, dataDir: dir, cryptoThreads: 0 });
    try {
      expect((await mode(join(dir, 'qpher.db'))).toString(8)).toBe('600');
      expect((await mode(join(dir, 'qpher.db-wal'))).toString(8)).toBe('600');
    } finally {
      await running.close();
    }
  });
});
