/** QPHER_MASTER_KEY is read once and removed, so worker threads and child processes never see it. */
import { afterAll, describe, expect, it } from 'vitest';
import { loadMasterKey, MASTER_KEY_ENV } from '../src/master-key.js';
import { embeddedServer } from './embedded.js';
import { removeDir, tempDir } from '../../../test/support/server.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await removeDir(dir);
});

describe('QPHER_MASTER_KEY', () => {
  const key = Buffer.alloc(32, 5).toString('base64');

  it('is removed from the environment it was read from', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = { [MASTER_KEY_ENV]: key, OTHER: 'kept' };
    const loaded = await loadMasterKey(dir, env);
    expect(loaded.origin).toBe(`$${MASTER_KEY_ENV}`);
    expect(Buffer.from(loaded.bytes).toString('base64')).toBe(key);
    expect(env).toEqual({ OTHER: 'kept' });
  });

  it('is gone from process.env once an embedded server has started', async () => {
    process.env[MASTER_KEY_ENV] = key;
    const server = await embeddedServer({ env: undefined as never });
    try {
      expect(process.env[MASTER_KEY_ENV]).toBeUndefined();
      expect(server.lines.some((l) => l.includes(`master key from $${MASTER_KEY_ENV}`))).toBe(true);
    } finally {
      delete process.env[MASTER_KEY_ENV];
      await server.close();
    }
  });
});
