/**
 * Transport and start-up policy with real processes: HTTPS with TLS 1.3 only and HSTS, plain HTTP
 * refused off loopback, the rate limit flag, and `serve --dev`.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createApiKey, expectEnvelope, freshDirs, startServer, StartFailure } from '../../../test/support/server.js';

const run = promisify(execFile);
const freshDir = freshDirs();

describe('TLS', () => {
  let dir: string;
  let cert: Buffer;
  beforeAll(async () => {
    dir = await freshDir();
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    cert = await readFile(join(dir, 'cert.pem'));
  });

  it('serves HTTPS with TLS 1.3 only and HSTS, and refuses a TLS 1.2 client', async () => {
    const key = await createApiKey(dir, 'acme');
    const server = await startServer(dir, ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const reply = await new Promise<{ status: number; headers: Record<string, unknown>; body: any; protocol: string }>(
      (resolve, reject) => {
        const req = httpsRequest(
          `${server.url}/api/v1/kms/keys/generate`,
          { method: 'POST', ca: cert, headers: { 'X-API-Key': key, 'Content-Type': 'application/json' } },
          (res) => {
            let text = '';
            const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? '';
            res.setEncoding('utf8').on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text), protocol }));
          },
        );
        req.on('error', reject);
        req.end('{"algorithm":"Dilithium3"}');
      },
    );
    expect(reply.protocol).toBe('TLSv1.3');
    expect(reply.status).toBe(201);
    expect(reply.body.data.algorithm).toBe('Dilithium3');
    expect(reply.headers['strict-transport-security']).toMatch(/max-age=\d+/);

    const tls12 = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port, ca: cert, maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' }, () => {
        resolve(`connected with ${socket.getProtocol()}`);
        socket.end();
      });
      socket.on('error', (e) => resolve(`refused: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    expect(tls12).toMatch(/^refused/);
    expect(await server.stop()).toBe(0);
  });

  it('refuses plain HTTP off loopback unless --insecure-http, and says why', async () => {
    const refused = await startServer(dir, ['--host', '0.0.0.0']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StartFailure);
    expect((refused as StartFailure).code).toBe(1);
    expect((refused as StartFailure).output).toMatch(/Refusing to serve plain HTTP on 0\.0\.0\.0.*--tls-cert.*--insecure-http/s);
    const allowed = await startServer(dir, ['--host', '0.0.0.0', '--insecure-http']);
    expect(allowed.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(await allowed.stop()).toBe(0);
  });
});

describe('playground', () => {
  it('serves a built playground at / beside the API, and none with --no-playground', async () => {
    const dir = await freshDir();
    const site = join(dir, 'site');
    await mkdir(join(site, 'assets'), { recursive: true });
    await writeFile(join(site, 'index.html'), '<!doctype html><title>Qpher playground</title>');
    const server = await startServer(dir, ['--playground', site]);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('Qpher playground');
    expectEnvelope(await call(server.url, 'GET', '/assets/missing.js'), 404, 'ERR_NOT_FOUND_001');
    expectEnvelope(await call(server.url, 'GET', '/healthz'), 200);
    await server.stop();
    const without = await startServer(dir, ['--no-playground']);
    expectEnvelope(await call(without.url, 'GET', '/'), 404, 'ERR_NOT_FOUND_001');
    await without.stop();
  });
});

describe('rate limit and dev mode', () => {
  it('--rate-limit RPS:BURST answers 429 ERR_RATE_001 with Retry-After', async () => {
    const dir = await freshDir();
    const key = await createApiKey(dir, 'acme');
    const server = await startServer(dir, ['--rate-limit', '0.5:3']);
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await call(server.url, 'GET', '/api/v1/kms/keys?algorithm=Kyber768', { key }));
    for (const r of replies.slice(0, 3)) expectEnvelope(r, 200);
    const limited = replies[3]!;
    expect(expectEnvelope(limited, 429, 'ERR_RATE_001').error.message).toBe('Rate limit exceeded. Retry after 2 seconds.');
    expect(limited.headers.get('retry-after')).toBe('2');
    expectEnvelope(await call(server.url, 'GET', '/healthz'), 200); // health needs no key and no token
    await server.stop();
  });

  it('serve --dev makes a dev key once, saves it 0600, and prints a working cURL line', async () => {
    const dir = await freshDir();
    const first = await startServer(dir, ['--dev']);
    await new Promise((r) => setTimeout(r, 300));
    const key = /(qph_[A-Za-z0-9_-]{43})/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    expect(first.output()).toContain(`curl -s -X POST ${first.url}/api/v1/kms/keys/generate -H "X-API-Key: ${key}"`);
    expectEnvelope(await call(first.url, 'POST', '/api/v1/kms/keys/generate', { key: key!, body: { algorithm: 'Kyber768' } }), 201);
    await first.stop();
    expect((await stat(join(dir, 'dev-api-key'))).mode & 0o777).toBe(0o600);
    const second = await startServer(dir, ['--dev']);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.output()).toContain(key!);
    await second.stop();
  });
});
