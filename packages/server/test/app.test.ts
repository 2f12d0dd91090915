/**
 * The app in-process (`app.request`), over a memory store: fast checks of routing, envelopes,
 * auth, scopes, rate limits, idempotency, body handling and the OpenAPI document.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS, OPERATION_NAMES, SCOPES } from 'qpher/host';
import { ErrorEnvelopeSchema } from 'qpher/host';
import { Engine } from 'qpher/host';
import { createApp } from '../src/app.js';
import { MemoryApiKeys, parseScopes } from '../src/auth.js';
import { findDuplicateKey } from '../src/body.js';
import { parseRateLimit, TokenBuckets } from '../src/rate-limit.js';
import { BAD_REQUEST_IDS, hostileCases } from './hostile.js';
import { b64, expectEnvelope, UUID, type Reply } from '../../../test/support/server.js';

let app: ReturnType<typeof createApp>;
let engine: Engine;
let keys: MemoryApiKeys;
let acme: string;
let other: string;
let readOnly: string;
let logLines: string[];

async function send(
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  target = app,
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['X-API-Key'] = options.key;
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    body =
      typeof options.body === 'string' || options.body instanceof Uint8Array ? (options.body as BodyInit) : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await target.request(`http://localhost${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: response.status, headers: response.headers, body: JSON.parse(await response.text()) };
}

beforeAll(async () => {
  engine = await Engine.create();
  keys = new MemoryApiKeys();
  acme = (await keys.create('acme')).key;
  other = (await keys.create('other')).key;
  readOnly = (await keys.create('acme', ['kms:read'])).key;
  logLines = [];
  app = createApp({ engine, apiKeys: keys, rateLimit: false, log: (l) => logLines.push(l) });
  expectEnvelope(await send('POST', '/api/v1/kms/keys/generate', { key: acme, body: { algorithm: 'Kyber768' } }), 201);
  expectEnvelope(await send('POST', '/api/v1/kms/keys/generate', { key: acme, body: { algorithm: 'Dilithium3' } }), 201);
});

describe('envelope and headers', () => {
  it('echoes an X-Request-ID of 1-128 [A-Za-z0-9._:-] and makes a UUID otherwise', async () => {
    for (const id of ['550e8400-e29b-41d4-a716-446655440000', 'trace:web-01.checkout_42', 'z'.repeat(128)]) {
      const echoed = await send('GET', '/healthz', { headers: { 'X-Request-ID': id } });
      expect(expectEnvelope(echoed, 200).request_id).toBe(id);
      expect(echoed.headers.get('x-request-id')).toBe(id);
    }
    for (const bad of BAD_REQUEST_IDS) {
      const reply = await send('GET', '/healthz', { headers: { 'X-Request-ID': bad } });
      expect(expectEnvelope(reply, 200).request_id).not.toBe(bad);
      expect(reply.body.request_id).toMatch(UUID);
    }
  });

  it('answers every hostile input with the right envelope', async () => {
    for (const c of hostileCases()) {
      const reply = await send(c.method, c.path, {
        key: acme,
        ...(c.headers ? { headers: c.headers } : {}),
        ...(c.body !== undefined ? { body: c.body } : {}),
      });
      const body = expectEnvelope(reply, c.status, c.code);
      if (c.message) expect(body.error.message, c.name).toMatch(c.message);
      expect(ErrorEnvelopeSchema.safeParse(body).success, c.name).toBe(true);
    }
    expectEnvelope(await send('GET', '/healthz'), 200);
  });

  it('gives an oversized plaintext the same message as the in-process engine', async () => {
    const request = { plaintext: Buffer.alloc(1_048_577).toString('base64'), key_version: 1 };
    const local = await engine.execute({ tenant: 'x' }, 'kem.encrypt', request, crypto.randomUUID());
    const reply = await send('POST', '/api/v1/kem/encrypt', { key: acme, body: request });
    expect(reply.body.error).toEqual((local as { error: unknown }).error);
    const exact = await send('POST', '/api/v1/kem/encrypt', {
      key: acme,
      body: { plaintext: Buffer.alloc(1_048_576).toString('base64'), key_version: 1 },
    });
    expectEnvelope(exact, 200);
  });

  it('logs one line per request without keys or bodies', async () => {
    logLines.length = 0;
    await send('POST', '/api/v1/kem/encrypt', { key: acme, body: { plaintext: b64('secret-plaintext'), key_version: 1 } });
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatch(/^POST \/api\/v1\/kem\/encrypt 200 [\d.]+ms [0-9a-f-]{36}$/);
    expect(logLines.join()).not.toContain(acme);
    expect(logLines.join()).not.toContain(b64('secret-plaintext'));
  });
});

describe('auth, scopes, tenants', () => {
  it('401 for missing, malformed, unknown and revoked keys', async () => {
    const { key, record } = await keys.create('temp');
    for (const k of [undefined, 'invalid_key', `qph_${'A'.repeat(43)}`, 'qph_short', `${key}x`]) {
      const reply = await send('POST', '/api/v1/kem/encrypt', {
        ...(k ? { key: k } : {}),
        body: { plaintext: 'dGVzdA==', key_version: 1 },
      });
      expect(expectEnvelope(reply, 401, 'ERR_AUTH_001').error.message).toBe('Invalid or missing API key');
    }
    expectEnvelope(await send('GET', '/api/v1/kms/keys?algorithm=Kyber768', { key }), 200);
    keys.revoke(record.id);
    expectEnvelope(await send('GET', '/api/v1/kms/keys?algorithm=Kyber768', { key }), 401, 'ERR_AUTH_001');
  });

  it('403 outside the key scopes, for every operation', async () => {
    const body: Record<string, unknown> = { algorithm: 'Kyber768', key_version: 1 };
    for (const name of OPERATION_NAMES) {
      const op = OPERATIONS[name];
      if (op.scope === 'kms:read') continue;
      const reply = await send(op.method, op.path, { key: readOnly, body });
      expect(expectEnvelope(reply, 403, 'ERR_FORBIDDEN_001').error.message).toContain(op.scope);
    }
    expectEnvelope(await send('GET', '/api/v1/kms/keys/active?algorithm=Kyber768', { key: readOnly }), 200);
  });

  it('keeps tenants apart', async () => {
    expectEnvelope(await send('GET', '/api/v1/kms/keys/active?algorithm=Kyber768', { key: other }), 404, 'ERR_NOT_FOUND_001');
    expect(expectEnvelope(await send('GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: other }), 200).data.keys).toEqual([]);
    expectEnvelope(
      await send('POST', '/api/v1/kem/encrypt', { key: other, body: { plaintext: 'dGVzdA==', key_version: 1 } }),
      404,
      'ERR_KEM_005',
    );
  });

  it('parses scopes', () => {
    expect(parseScopes(undefined)).toEqual([...SCOPES]);
    expect(parseScopes('kms:read, kem:encrypt')).toEqual(['kms:read', 'kem:encrypt']);
    expect(() => parseScopes('kms:admin')).toThrow(/unknown scope "kms:admin"/);
    // An unset shell variable (`--scopes "$SCOPES"`) must not mint an all-scopes key.
    for (const empty of ['', ' ', ',', ' , ,']) expect(() => parseScopes(empty)).toThrow(/scope list is empty/);
  });
});

describe('rate limits', () => {
  it('429 with Retry-After and the spec message once the bucket is empty', async () => {
    const limited = createApp({ engine, apiKeys: keys, rateLimit: { rps: 0.5, burst: 2 } });
    const path = '/api/v1/kms/keys?algorithm=Kyber768';
    expectEnvelope(await send('GET', path, { key: acme }, limited), 200);
    expectEnvelope(await send('GET', path, { key: acme }, limited), 200);
    const reply = await send('GET', path, { key: acme }, limited);
    expect(expectEnvelope(reply, 429, 'ERR_RATE_001').error.message).toBe('Rate limit exceeded. Retry after 2 seconds.');
    expect(reply.headers.get('retry-after')).toBe('2');
    expectEnvelope(await send('GET', path, { key: other }, limited), 200); // per API key
  });

  it('refills the bucket over time', () => {
    let t = 0;
    const buckets = new TokenBuckets({ rps: 10, burst: 2 }, () => t);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    t += 100;
    expect(buckets.take('a').allowed).toBe(true);
    expect(parseRateLimit('50')).toEqual({ rps: 50, burst: 100 });
    expect(parseRateLimit('5:7')).toEqual({ rps: 5, burst: 7 });
    expect(() => parseRateLimit('0')).toThrow(TypeError);
    expect(() => parseRateLimit('fast')).toThrow(/RPS\[:BURST\]/);
  });
});

describe('idempotency', () => {
  it('replays the first response with this request id, and refuses another body', async () => {
    const headers = { 'Idempotency-Key': crypto.randomUUID() };
    const first = await send('POST', '/api/v1/kms/keys/rotate', { key: acme, body: { algorithm: 'Kyber768' }, headers });
    const data = expectEnvelope(first, 200).data;
    const again = await send('POST', '/api/v1/kms/keys/rotate', {
      key: acme,
      body: '{ "algorithm" : "Kyber768" }',
      headers: { ...headers, 'X-Request-ID': '11111111-2222-4333-8444-555555555555' },
    });
    expect(expectEnvelope(again, 200).data).toEqual(data);
    expect(again.body.request_id).toBe('11111111-2222-4333-8444-555555555555');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const list = expectEnvelope(await send('GET', '/api/v1/kms/keys?algorithm=Kyber768', { key: acme }), 200).data.keys;
    expect(list.at(-1).key_version).toBe(data.key_version); // rotated once
    const mismatch = await send('POST', '/api/v1/kms/keys/rotate', { key: acme, body: { algorithm: 'Dilithium3' }, headers });
    expect(expectEnvelope(mismatch, 400, 'ERR_INVALID_001').error.message).toMatch(/different request/);
    const otherOp = await send('POST', '/api/v1/kms/keys/generate', { key: acme, body: { algorithm: 'Kyber768' }, headers });
    expectEnvelope(otherOp, 400, 'ERR_INVALID_001');
  });

  it('replays errors too, is scoped per tenant, and rejects malformed keys', async () => {
    const headers = { 'Idempotency-Key': `gen-${crypto.randomUUID()}` };
    const first = await send('POST', '/api/v1/kms/keys/generate', { key: acme, body: { algorithm: 'Kyber768' }, headers });
    expectEnvelope(first, 403, 'ERR_FORBIDDEN_001');
    const again = await send('POST', '/api/v1/kms/keys/generate', { key: acme, body: { algorithm: 'Kyber768' }, headers });
    expectEnvelope(again, 403, 'ERR_FORBIDDEN_001');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const otherTenant = await send('POST', '/api/v1/kms/keys/generate', { key: other, body: { algorithm: 'Kyber768' }, headers });
    expectEnvelope(otherTenant, 201);
    const bad = await send('POST', '/api/v1/kms/keys/rotate', {
      key: acme,
      body: { algorithm: 'Kyber768' },
      headers: { 'Idempotency-Key': 'has space' },
    });
    expectEnvelope(bad, 400, 'ERR_INVALID_001');
  });

  it('runs concurrent repeats once', async () => {
    const headers = { 'Idempotency-Key': crypto.randomUUID() };
    const replies = await Promise.all(
      Array.from({ length: 5 }, () => send('POST', '/api/v1/kms/keys/rotate', { key: other, body: { algorithm: 'Dilithium3' }, headers })),
    );
    const versions = new Set(replies.map((r) => expectEnvelope(r, 200).data.key_version));
    expect(versions.size).toBe(1);
    expect(replies.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
  });

  it('answers 503 when the first request committed but its response was lost', async () => {
    const unknown = createApp({
      engine,
      apiKeys: keys,
      idempotency: { reserve: () => ({ state: 'unknown' }), complete: () => {}, release: () => {} },
    });
    const reply = await send(
      'POST',
      '/api/v1/kms/keys/rotate',
      { key: acme, body: { algorithm: 'Kyber768' }, headers: { 'Idempotency-Key': 'k' } },
      unknown,
    );
    expect(expectEnvelope(reply, 503, 'ERR_SERVICE_001').error.message).toMatch(/check the keyring/);
  });

  it('finds duplicate keys at any depth and ignores them in arrays and strings', () => {
    expect(findDuplicateKey('{"a":1,"b":{"c":1,"c":2}}')).toBe('c');
    expect(findDuplicateKey('{"a":[{"x":1},{"x":1}],"b":"\\"a\\":","c":"\\\\"}')).toBeUndefined();
    expect(findDuplicateKey('[{"a":1},{"a":2}]')).toBeUndefined();
  });
});

describe('routes', () => {
  it('serves health, readiness and an OpenAPI 3.1 document from the contract', async () => {
    expect(expectEnvelope(await send('GET', '/healthz'), 200).data).toEqual({ status: 'ok' });
    expect(expectEnvelope(await send('GET', '/readyz'), 200).data).toEqual({ status: 'ready' });
    const notReady = createApp({ engine, apiKeys: keys, ready: () => false });
    expectEnvelope(await send('GET', '/readyz', {}, notReady), 503, 'ERR_SERVICE_001');
    const response = await app.request('http://localhost/api/v1/openapi.json');
    expect(response.headers.get('content-type')).toBe('application/json');
    const doc = (await response.json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    for (const name of OPERATION_NAMES) {
      const op = OPERATIONS[name];
      const entry = doc.paths[op.path][op.method.toLowerCase()];
      expect(entry['x-qpher-scope']).toBe(op.scope);
      expect(Object.keys(entry.responses)).toContain(String(op.status));
    }
    const refs: string[] = [];
    JSON.stringify(doc, (k, v) => {
      if (k === '$ref') refs.push(v);
      return v;
    });
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce((node: any, part: string) => node?.[part], doc);
      expect(target, ref).toBeDefined();
    }
    expect(doc.paths['/api/v1/kem/encrypt'].post.requestBody.content['application/json'].schema.required).toEqual([
      'plaintext',
      'key_version',
    ]);
    expect(doc.paths['/api/v1/kms/keys/{algorithm}/{key_version}'].get.parameters.map((p: any) => p.in)).toContain('path');
  });

  it('returns 400 for an unknown algorithm in the path and 404 ERR_KEM_005 for a missing version', async () => {
    expectEnvelope(await send('GET', '/api/v1/kms/keys/RSA2048/1', { key: acme }), 400, 'ERR_INVALID_001');
    expectEnvelope(await send('GET', '/api/v1/kms/keys/Kyber768/abc', { key: acme }), 400, 'ERR_INVALID_001');
    expectEnvelope(await send('GET', '/api/v1/kms/keys/Kyber768/999', { key: acme }), 404, 'ERR_KEM_005');
    expect(expectEnvelope(await send('GET', '/api/v1/kms/keys/Kyber768/1', { key: acme }), 200).data.key_version).toBe(1);
  });

  it('serves static files from a playground handler before the API, keeping their headers', async () => {
    const playground = async (request: Request) =>
      new URL(request.url).pathname === '/'
        ? new Response('<!doctype html>', { headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' } })
        : undefined;
    const withPlayground = createApp({ engine, apiKeys: keys, playground });
    const page = await withPlayground.request('http://localhost/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('x-request-id')).toMatch(UUID);
    expectEnvelope(await send('GET', '/healthz', {}, withPlayground), 200);
    expectEnvelope(await send('GET', '/', {}), 404, 'ERR_NOT_FOUND_001');
  });

  it('answers a wrong method with an Allow header', async () => {
    const reply = await send('GET', '/api/v1/kem/encrypt', { key: acme });
    expectEnvelope(reply, 404, 'ERR_NOT_FOUND_001');
    expect(reply.headers.get('allow')).toBe('POST');
  });
});
