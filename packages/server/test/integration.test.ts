/**
 * A real `qpher serve` process on 127.0.0.1 over a real SQLite file: the spec's cURL workflow,
 * every documented status and code, tenants, scopes, idempotency, hostile inputs, the api-key CLI,
 * graceful shutdown and restart persistence.
 */
import { execFile } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  b64,
  call,
  createApiKey,
  expectEnvelope,
  killAll,
  parseRaw,
  rawHttp,
  removeDir,
  runCli,
  startServer,
  tempDir,
  type ServerProcess,
} from '../../../test/support/server.js';
import { BAD_REQUEST_IDS, hostileCases } from './hostile.js';

const run = promisify(execFile);
let dir: string;
let server: ServerProcess;
let acme: string;
let globex: string;
let acmeRead: string;
let acmeKem: string;

beforeAll(async () => {
  dir = await tempDir();
  [acme, globex, acmeRead, acmeKem] = await Promise.all([
    createApiKey(dir, 'acme'),
    createApiKey(dir, 'globex'),
    createApiKey(dir, 'acme', 'kms:read'),
    createApiKey(dir, 'acme', 'kem:encrypt,kem:decrypt'),
  ]);
  server = await startServer(dir);
});

afterAll(async () => {
  killAll();
  await removeDir(dir);
});

/** Runs one cURL command of the spec, with only the base URL and API key replaced. */
async function curl(args: string[]): Promise<any> {
  const { stdout } = await run('curl', ['-s', ...args]);
  return JSON.parse(stdout);
}

describe('the spec workflow over HTTP', () => {
  it('runs the full cURL workflow with curl itself (steps 1-5)', async () => {
    const base = server.url;
    const step1 = await curl([
      '-X',
      'POST',
      `${base}/api/v1/kms/keys/generate`,
      '-H',
      `X-API-Key: ${acme}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"algorithm": "Kyber768"}',
    ]);
    expect(step1.data).toMatchObject({ key_version: 1, algorithm: 'Kyber768', status: 'active' });
    const step2 = await curl([
      '-X',
      'POST',
      `${base}/api/v1/kem/encrypt`,
      '-H',
      `X-API-Key: ${acme}`,
      '-H',
      'Content-Type: application/json',
      '-H',
      'X-Request-ID: 550e8400-e29b-41d4-a716-446655440000',
      '-d',
      '{\n"plaintext": "c2Vuc2l0aXZlIGRhdGEgdG8gcHJvdGVjdA==",\n"key_version": 1\n}',
    ]);
    expect(step2.request_id).toBe('550e8400-e29b-41d4-a716-446655440000');
    expect(step2.data.key_version).toBe(1);
    const step3 = await curl([
      '-X',
      'POST',
      `${base}/api/v1/kem/decrypt`,
      '-H',
      `X-API-Key: ${acme}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ ciphertext: step2.data.ciphertext, key_version: 1 }),
    ]);
    expect(step3.data.plaintext).toBe('c2Vuc2l0aXZlIGRhdGEgdG8gcHJvdGVjdA==');
    const gen = await curl([
      '-X',
      'POST',
      `${base}/api/v1/kms/keys/generate`,
      '-H',
      `X-API-Key: ${acme}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"algorithm": "Dilithium3"}',
    ]);
    expect(gen.data.status).toBe('active');
    const step4 = await curl([
      '-X',
      'POST',
      `${base}/api/v1/signature/sign`,
      '-H',
      `X-API-Key: ${acme}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{\n"message": "SW52b2ljZSAjMTIzNA==",\n"key_version": 1\n}',
    ]);
    expect(step4.data.key_version).toBe(1);
    const step5 = await curl([
      '-X',
      'POST',
      `${base}/api/v1/signature/verify`,
      '-H',
      `X-API-Key: ${acme}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ message: 'SW52b2ljZSAjMTIzNA==', signature: step4.data.signature, key_version: 1 }),
    ]);
    expect(step5.data).toEqual({ valid: true, key_version: 1, algorithm: 'Dilithium3' });
  });

  it('lists, gets, rotates, retires and archives with the documented statuses', async () => {
    const k = { key: acme };
    const list = expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', k), 200);
    expect(list.data.keys.map((x: any) => x.key_version)).toEqual([1]);
    const active = expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys/active?algorithm=Kyber768', k), 200);
    expect(active.data).toEqual(list.data.keys[0]);
    expect(expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys/Kyber768/1', k), 200).data).toEqual(active.data);

    const refused = await call(server.url, 'POST', '/api/v1/kms/keys/generate', { ...k, body: { algorithm: 'Kyber768' } });
    expect(expectEnvelope(refused, 403, 'ERR_FORBIDDEN_001').error.message).toMatch(/rotate/);

    const rotated = expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { ...k, body: { algorithm: 'Kyber768' } }),
      200,
    );
    expect(rotated.data).toMatchObject({ key_version: 2, status: 'active', algorithm: 'Kyber768' });
    expect(expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys/Kyber768/1', k), 200).data.status).toBe('retired');

    const ct = expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kem/encrypt', { ...k, body: { plaintext: b64('v2'), key_version: 2 } }),
      200,
    ).data.ciphertext;
    const retired = expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/retire', { ...k, body: { algorithm: 'Kyber768', key_version: 2 } }),
      200,
    );
    const { old_key_version: _, ...v2 } = rotated.data;
    expect(retired.data).toEqual({ ...v2, status: 'retired' });
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kem/encrypt', { ...k, body: { plaintext: b64('x'), key_version: 2 } }),
      403,
      'ERR_FORBIDDEN_001',
    );
    expect(
      expectEnvelope(await call(server.url, 'POST', '/api/v1/kem/decrypt', { ...k, body: { ciphertext: ct, key_version: 2 } }), 200).data
        .plaintext,
    ).toBe(b64('v2'));
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys/active?algorithm=Kyber768', k), 404, 'ERR_NOT_FOUND_001');

    const archived = expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/archive', { ...k, body: { algorithm: 'Kyber768', key_version: 2 } }),
      200,
    );
    expect(archived.data.status).toBe('archived');
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kem/decrypt', { ...k, body: { ciphertext: ct, key_version: 2 } }),
      403,
      'ERR_FORBIDDEN_001',
    );
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/retire', { ...k, body: { algorithm: 'Kyber768', key_version: 2 } }),
      403,
      'ERR_FORBIDDEN_001',
    );
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys/Kyber768/77', k), 404, 'ERR_KEM_005');
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kem/encrypt', { ...k, body: { plaintext: b64('x'), key_version: 77 } }),
      404,
      'ERR_KEM_005',
    );
    expect(
      expectEnvelope(await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { ...k, body: { algorithm: 'Kyber768' } }), 200).data
        .key_version,
    ).toBe(3);
  });

  it('answers the spec error examples (401, 400) with the spec messages', async () => {
    const auth = await call(server.url, 'POST', '/api/v1/kem/encrypt', {
      key: 'invalid_key',
      body: { plaintext: 'dGVzdA==', key_version: 1 },
    });
    expect(expectEnvelope(auth, 401, 'ERR_AUTH_001').error.message).toBe('Invalid or missing API key');
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768'), 401, 'ERR_AUTH_001');
    const invalid = await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: acme, body: { plaintext: 'dGVzdA==' } });
    expect(expectEnvelope(invalid, 400, 'ERR_INVALID_001').error.message).toBe('Validation failed: key_version is required');
    expectEnvelope(await call(server.url, 'GET', '/api/v1/nothing-here'), 404, 'ERR_NOT_FOUND_001');
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys/RSA/1', { key: acme }), 400, 'ERR_INVALID_001');
  });
});

describe('tenants and scopes', () => {
  it('never shows one tenant the keys of another', async () => {
    expect(expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: globex }), 200).data.keys).toEqual(
      [],
    );
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys/Kyber768/1', { key: globex }), 404, 'ERR_KEM_005');
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/signature/sign', { key: globex, body: { message: 'eA==', key_version: 1 } }),
      404,
      'ERR_KEM_005',
    );
    const own = expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/generate', { key: globex, body: { algorithm: 'Kyber768' } }),
      201,
    );
    expect(own.data.key_version).toBe(1); // versions are per tenant
  });

  it('enforces scopes with 403 ERR_FORBIDDEN_001', async () => {
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Dilithium3', { key: acmeRead }), 200);
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key: acmeRead, body: { algorithm: 'Kyber768' } }),
      403,
      'ERR_FORBIDDEN_001',
    );
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/signature/sign', { key: acmeKem, body: { message: 'eA==', key_version: 1 } }),
      403,
      'ERR_FORBIDDEN_001',
    );
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: acmeKem }), 403, 'ERR_FORBIDDEN_001');
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: acmeKem, body: { plaintext: 'eA==', key_version: 3 } }),
      200,
    );
  });
});

describe('idempotency over HTTP', () => {
  it('replays a rotate, refuses another body, and survives a restart of the store', async () => {
    const headers = { 'Idempotency-Key': crypto.randomUUID() };
    const first = expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key: globex, body: { algorithm: 'Kyber768' }, headers }),
      200,
    );
    const again = await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key: globex, body: { algorithm: 'Kyber768' }, headers });
    expect(expectEnvelope(again, 200).data).toEqual(first.data);
    expect(again.body.request_id).not.toBe(first.request_id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key: globex, body: { algorithm: 'Dilithium3' }, headers }),
      400,
      'ERR_INVALID_001',
    );
    // Another tenant using the same key is a different request.
    expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kms/keys/rotate', { key: acme, body: { algorithm: 'Dilithium3' }, headers }),
      200,
    );
    const keys = expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: globex }), 200).data.keys;
    expect(keys.at(-1).key_version).toBe(first.data.key_version);
  });
});

describe('hostile inputs', () => {
  it('answers each with the right envelope and stays healthy', async () => {
    for (const c of hostileCases()) {
      const headers: Record<string, string> = { 'X-API-Key': acme, ...c.headers };
      const response = await fetch(server.url + c.path, {
        method: c.method,
        headers,
        ...(c.body !== undefined ? { body: c.body as BodyInit } : {}),
      });
      const reply = { status: response.status, headers: response.headers, body: JSON.parse(await response.text()) };
      const body = expectEnvelope(reply, c.status, c.code);
      if (c.message) expect(body.error.message, c.name).toMatch(c.message);
    }
    for (const id of BAD_REQUEST_IDS) {
      const reply = await call(server.url, 'GET', '/healthz', { headers: { 'X-Request-ID': id } });
      expect(expectEnvelope(reply, 200).request_id).not.toBe(id);
    }
    expectEnvelope(await call(server.url, 'GET', '/healthz'), 200);
  });

  it('answers what the HTTP parser refuses (header injection, huge headers) with an envelope', async () => {
    const injected = parseRaw(
      await rawHttp(
        server.port,
        'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: 550e8400-e29b-41d4-a716-446655440000\rX-Injected: 1\r\n\r\n',
      ),
    );
    expectEnvelope(injected, 400, 'ERR_INVALID_001');
    const huge = parseRaw(await rawHttp(server.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: ${'a'.repeat(70_000)}\r\n\r\n`));
    expectEnvelope(huge, 400, 'ERR_INVALID_001');
    const garbage = parseRaw(await rawHttp(server.port, '\u0000\u0001 GARBAGE \r\n\r\n'));
    expectEnvelope(garbage, 400, 'ERR_INVALID_001');
    const chunked = parseRaw(
      await rawHttp(
        server.port,
        `POST /api/v1/kem/encrypt HTTP/1.1\r\nHost: x\r\nX-API-Key: ${acme}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
          `5\r\n{"pla\r\n0\r\n\r\n`,
      ),
    );
    expectEnvelope(chunked, 400, 'ERR_INVALID_001');
    expectEnvelope(await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: acme, body: { plaintext: 'eA==', key_version: 3 } }), 200);
    expect(server.output()).not.toContain(acme);
  });
});

describe('api-key CLI, shutdown and restart', () => {
  it('lists keys without secrets and revokes at once', async () => {
    const key = await createApiKey(dir, 'temp', 'kms:read');
    expect(key).toMatch(/^qph_[A-Za-z0-9_-]{43}$/);
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key }), 200);
    const listed = await runCli(['api-key', 'list', '--json', '--data-dir', dir]);
    const rows = JSON.parse(listed.stdout) as { id: string; tenant: string; scopes: string[] }[];
    expect(rows.map((r) => r.tenant).sort()).toEqual(['acme', 'acme', 'acme', 'globex', 'temp']);
    expect(listed.stdout).not.toContain(key);
    expect(listed.stdout).not.toContain('hash');
    const temp = rows.find((r) => r.tenant === 'temp')!;
    expect(temp.scopes).toEqual(['kms:read']);
    const revoked = await runCli(['api-key', 'revoke', temp.id, '--data-dir', dir]);
    expect(revoked.code).toBe(0);
    expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key }), 401, 'ERR_AUTH_001');
    expect((await runCli(['api-key', 'revoke', temp.id, '--data-dir', dir])).code).toBe(1);
    const bad = await runCli(['api-key', 'create', '--tenant', 'x', '--scopes', 'kms:admin', '--data-dir', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/unknown scope "kms:admin"/);
    const empty = await runCli(['api-key', 'create', '--tenant', 'x', '--scopes', '', '--data-dir', dir]);
    expect(empty.code).toBe(2);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toMatch(/scope list is empty/);
  });

  it('finishes a request in flight on SIGTERM, exits 0, and keeps everything after a restart', async () => {
    const ct = expectEnvelope(
      await call(server.url, 'POST', '/api/v1/kem/encrypt', { key: acme, body: { plaintext: b64('persist me'), key_version: 3 } }),
      200,
    ).data.ciphertext;
    const body = JSON.stringify({ plaintext: b64('in flight'), key_version: 3 });
    const agent = new Agent({ keepAlive: true });
    const inFlight = new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/api/v1/kem/encrypt`,
        {
          method: 'POST',
          agent,
          headers: { 'X-API-Key': acme, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        const exited = server.stop();
        setTimeout(() => req.end(body.slice(10)), 300);
        exitCode = exited;
      }, 300);
    });
    let exitCode: Promise<number | null> | undefined;
    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(await exitCode).toBe(0);
    agent.destroy();

    server = await startServer(dir);
    const decrypted = await call(server.url, 'POST', '/api/v1/kem/decrypt', { key: acme, body: { ciphertext: ct, key_version: 3 } });
    expect(expectEnvelope(decrypted, 200).data.plaintext).toBe(b64('persist me'));
    const keys = expectEnvelope(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: acme }), 200).data.keys;
    expect(keys.map((x: any) => [x.key_version, x.status])).toEqual([
      [1, 'retired'],
      [2, 'archived'],
      [3, 'active'],
    ]);
    expect(await server.stop()).toBe(0);
  });
});

describe('--max-key-versions', () => {
  it('caps versions per tenant and algorithm with 403 ERR_FORBIDDEN_001 naming the cap, and refuses bad values', async () => {
    for (const bad of ['0', '4294967296']) {
      const refused = await runCli(['serve', `--max-key-versions=${bad}`, '--data-dir', dir, '--port', '0']);
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr).toContain('--max-key-versions must be a whole number from 1 to 4294967295');
    }
    const capDir = await tempDir();
    const capped = await startServer(capDir, ['--max-key-versions', '2']);
    try {
      const key = await createApiKey(capDir, 'small');
      expectEnvelope(await call(capped.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Kyber768' } }), 201);
      expectEnvelope(await call(capped.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Kyber768' } }), 200);
      const full = await call(capped.url, 'POST', '/api/v1/kms/keys/rotate', { key, body: { algorithm: 'Kyber768' } });
      expectEnvelope(full, 403, 'ERR_FORBIDDEN_001');
      expect(full.body.error.message).toBe('Key version limit reached: Kyber768 keyrings hold at most 2 versions, and this one has 2');
      expectEnvelope(await call(capped.url, 'POST', '/api/v1/kms/keys/generate', { key, body: { algorithm: 'Dilithium3' } }), 201);
    } finally {
      await capped.stop();
      await removeDir(capDir);
    }
  }, 120_000);
});
