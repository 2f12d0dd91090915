/**
 * The store under stress with real processes: kill -9 right after an acknowledged rotate, two
 * servers rotating concurrently on one data directory, and the master key (wrong, malformed,
 * file mode, never in the database).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64, call, createApiKey, expectEnvelope, freshDirs, startServer, StartFailure } from '../../../test/support/server.js';

const freshDir = freshDirs();

describe('durability', () => {
  let dir: string;
  let key: string;
  beforeAll(async () => {
    dir = await freshDir();
    key = await createApiKey(dir, 'acme');
  });

  it('loses no acknowledged rotate to kill -9', async () => {
    let server = await startServer(dir);
    expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Dilithium3' } }), 201);
    for (let round = 0; round < 3; round++) {
      const rotated = await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Dilithium3' } });
      const version = expectEnvelope(rotated, 200).data.key_version;
      await server.kill9(); // immediately after the 200: no graceful close, no checkpoint
      server = await startServer(dir);
      const got = await call(server.url, 'GET', `/api/v1/kms/keys/Dilithium3/${version}`, { key });
      expect(expectEnvelope(got, 200).data.status).toBe('active');
      const sig = await call(server.url, 'POST', '/api/v1/signature/sign', {
        key,
        body: { message: b64('after crash'), key_version: version },
      });
      expectEnvelope(sig, 200);
    }
    await server.stop();
  });

  it('keeps every acknowledged rotate when killed at an arbitrary moment under load', async () => {
    let server = await startServer(dir);
    const acknowledged: number[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const reply = await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Dilithium3' } });
          if (reply.status === 200) acknowledged.push(reply.body.data.key_version);
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await new Promise((r) => setTimeout(r, 400 + Math.random() * 400));
    await server.kill9();
    stop = true;
    await Promise.all(workers);
    expect(acknowledged.length).toBeGreaterThan(0);
    server = await startServer(dir);
    // One page of the largest size: a second page would mean more rotates than this test makes.
    const page = expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Dilithium3&limit=1000', { key }), 200).data;
    const keys = page.keys as { key_version: number; status: string }[];
    expect(page.total).toBe(keys.length);
    const versions = keys.map((k) => k.key_version);
    for (const v of acknowledged) expect(versions).toContain(v);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
    expect(keys.at(-1)!.status).toBe('active');
    await server.stop();
  });

  it('gives two processes rotating one keyring concurrently unique, gap-free versions', async () => {
    const [a, b] = await Promise.all([startServer(dir), startServer(dir)]);
    expectEnvelope(await call(a.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
    const perServer = 12;
    const replies = await Promise.all(
      Array.from({ length: perServer * 2 }, (_, i) =>
        call(i % 2 ? b.url : a.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Kyber768' } }),
      ),
    );
    const versions = replies.map((r) => expectEnvelope(r, 200).data.key_version as number);
    expect(new Set(versions).size).toBe(versions.length);
    const keys = expectEnvelope(await call(b.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key }), 200).data.keys as {
      key_version: number;
      status: string;
    }[];
    expect(keys.map((k) => k.key_version)).toEqual(Array.from({ length: perServer * 2 + 1 }, (_, i) => i + 1));
    expect(keys.filter((k) => k.status === 'active').map((k) => k.key_version)).toEqual([Math.max(...versions)]);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });
});

describe('master key', () => {
  const k1 = Buffer.alloc(32, 1).toString('base64');
  const k2 = Buffer.alloc(32, 2).toString('base64');

  it('refuses to start with a wrong or malformed master key, and works again with the right one', async () => {
    const dir = await freshDir();
    const key = await createApiKey(dir, 'acme', undefined, { env: { QPHER_MASTER_KEY: k1 } });
    let server = await startServer(dir, [], { QPHER_MASTER_KEY: k1 });
    expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
    await server.stop();

    const wrong = await startServer(dir, [], { QPHER_MASTER_KEY: k2 }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(StartFailure);
    expect((wrong as StartFailure).code).toBe(1);
    expect((wrong as StartFailure).output).toMatch(/does not match.*Refusing to start/s);
    expect((wrong as StartFailure).output).not.toContain(k2);

    // Without the variable, a new master.key is made, and it is wrong too.
    const fromFile = await startServer(dir).catch((e: unknown) => e);
    expect((fromFile as StartFailure).output).toMatch(/master\.key.*does not match/s);

    const malformed = await startServer(dir, [], { QPHER_MASTER_KEY: 'c2hvcnQ=' }).catch((e: unknown) => e);
    expect((malformed as StartFailure).output).toMatch(/base64 of exactly 32 bytes/);

    server = await startServer(dir, [], { QPHER_MASTER_KEY: k1 });
    expectEnvelope(await call(server.url, 'POST', '/api/v1/kem/encrypt', { key, body: { plaintext: b64('ok'), key_version: 1 } }), 200);
    await server.stop();
  });

  it('lets two processes starting together on a fresh directory agree on one master key', async () => {
    const dir = await freshDir();
    const key = await createApiKey(dir, 'acme');
    const [a, b] = await Promise.all([startServer(dir), startServer(dir)]);
    expectEnvelope(await call(a.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
    const ct = expectEnvelope(
      await call(b.url, 'POST', '/api/v1/kem/encrypt', { key, body: { plaintext: b64('shared'), key_version: 1 } }),
      200,
    ).data.ciphertext;
    expect(
      expectEnvelope(await call(a.url, 'POST', '/api/v1/kem/decrypt', { key, body: { ciphertext: ct, key_version: 1 } }), 200).data
        .plaintext,
    ).toBe(b64('shared'));
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });

  it('creates master.key with mode 0600 and keeps secrets out of the database', async () => {
    const dir = await freshDir();
    const key = await createApiKey(dir, 'acme');
    const server = await startServer(dir);
    expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
    await server.stop();
    expect((await stat(join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'qpher.db'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const db = await readFile(join(dir, 'qpher.db'));
    const master = (await readFile(join(dir, 'master.key'), 'utf8')).trim();
    expect(db.includes(Buffer.from(key))).toBe(false);
    expect(db.includes(Buffer.from(master, 'base64'))).toBe(false);
  });
});
