/**
 * RemoteBackend against a real HTTP server on 127.0.0.1 that misbehaves on script: retries,
 * Retry-After, resets, hangs, HTML error pages, idempotent rotate, abort and deadlines.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteBackend, type RemoteBackendOptions } from '../../../src/backends/remote/index.js';
import type { Envelope } from '../../../src/contract/envelope.js';
import { Qpher } from '../../../src/qpher.js';
import { closedPortUrl, fail, ok, scriptedServer, send, type ScriptedServer, type Script } from './scripted-server.js';

const API_KEY = 'qph_test_secret_0123456789abcdef';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(script: Script, options: Partial<RemoteBackendOptions> = {}) {
  server = await scriptedServer(script);
  const backend = new RemoteBackend({ baseUrl: server.url, apiKey: API_KEY, baseDelayMs: 5, maxDelayMs: 50, ...options });
  return { backend, requests: server.requests };
}

const encrypt = { plaintext: 'aGVsbG8=', key_version: 1 };
const call = (backend: RemoteBackend, options: Parameters<RemoteBackend['call']>[2] = { requestId: 'req-1' }) =>
  backend.call('kem.encrypt', encrypt, options);

function errorCode(envelope: Envelope): string | undefined {
  return 'error' in envelope ? envelope.error.code : undefined;
}

/** Milliseconds a promise took to settle, and how. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

describe('requests on the wire', () => {
  it('POSTs the JSON body with X-API-Key, Content-Type and X-Request-ID, and returns the envelope as is', async () => {
    const { backend, requests } = await setup((req, res) =>
      send(res, 200, { ...ok(req.headers['x-request-id'], { ciphertext: 'AAAA', key_version: 1 }), extra: 'kept' }),
    );
    const envelope = await call(backend, { requestId: 'rid-42' });
    expect(envelope).toMatchObject({ data: { ciphertext: 'AAAA', key_version: 1 }, request_id: 'rid-42', extra: 'kept' });
    expect(requests).toHaveLength(1);
    const [seen] = requests;
    expect(seen).toMatchObject({ method: 'POST', url: '/api/v1/kem/encrypt' });
    expect(JSON.parse(seen!.body)).toEqual(encrypt);
    expect(seen!.headers['x-api-key']).toBe(API_KEY);
    expect(seen!.headers['content-type']).toBe('application/json');
    expect(seen!.headers['x-request-id']).toBe('rid-42');
    expect(seen!.headers['idempotency-key']).toBeUndefined(); // not a mutating KMS call
  });

  it('maps GET operations to the query string or the path, URL-encoded, with no body or Content-Type', async () => {
    const { backend, requests } = await setup((req, res) => send(res, 200, ok(req.headers['x-request-id'], {})));
    await backend.call('kms.list', { algorithm: 'Kyber768' }, { requestId: 'a' });
    await backend.call('kms.active', { algorithm: 'Dilithium3' }, { requestId: 'b' });
    await backend.call('kms.get', { algorithm: 'Kyber768', key_version: 3 }, { requestId: 'c' });
    await backend.call('kms.get', { algorithm: 'a/b?c', key_version: '1 2' }, { requestId: 'd' });
    await backend.call('kms.list', { algorithm: 'Kyber768', surprise: 1 }, { requestId: 'e' });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/v1/kms/keys?algorithm=Kyber768',
      'GET /api/v1/kms/keys/active?algorithm=Dilithium3',
      'GET /api/v1/kms/keys/Kyber768/3',
      'GET /api/v1/kms/keys/a%2Fb%3Fc/1%202',
      'GET /api/v1/kms/keys?algorithm=Kyber768&surprise=1', // unknown field reaches the server, refused there by name
    ]);
    for (const seen of requests) {
      expect(seen.body).toBe('');
      expect(seen.headers['content-type']).toBeUndefined();
      expect(seen.headers['x-api-key']).toBe(API_KEY);
    }
  });

  it("answers a GET whose path field is missing with the engine's ERR_INVALID_001, without a request", async () => {
    const { backend, requests } = await setup((req, res) => send(res, 200, ok(req.headers['x-request-id'], {})));
    const envelope = await backend.call('kms.get', { algorithm: 'Kyber768' }, { requestId: 'g' });
    expect(envelope).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: key_version is required' },
      request_id: 'g',
    });
    expect(requests).toHaveLength(0);
  });

  it('keeps a path prefix of baseUrl and tolerates a trailing slash', async () => {
    server = await scriptedServer((req, res) => send(res, 200, ok(req.headers['x-request-id'], {})));
    const backend = new RemoteBackend({ baseUrl: `${server.url}/qpher/`, apiKey: API_KEY });
    await backend.call('kms.list', { algorithm: 'Kyber768' }, { requestId: 'p' });
    expect(server.requests[0]!.url).toBe('/qpher/api/v1/kms/keys?algorithm=Kyber768');
  });

  it('works under the Qpher facade (bytes become base64, the request id is sent)', async () => {
    const { backend, requests } = await setup((req, res) =>
      send(res, 200, ok(req.headers['x-request-id'], { ciphertext: 'AAAA', key_version: 1 })),
    );
    const q = new Qpher({ backend });
    const envelope = await q.kem.encrypt({ plaintext: new TextEncoder().encode('hello'), key_version: 1 }, { requestId: 'facade-1' });
    expect(envelope.request_id).toBe('facade-1');
    expect(JSON.parse(requests[0]!.body)).toEqual({ plaintext: 'aGVsbG8=', key_version: 1 });
    await q.kem.encrypt({ plaintext: 'aGVsbG8=', key_version: 1 });
    expect(requests[1]!.headers['x-request-id']).toMatch(UUID);
  });

  it('uses an injected fetch', async () => {
    const urls: string[] = [];
    const backend = new RemoteBackend({
      baseUrl: 'https://qpher.example',
      apiKey: API_KEY,
      fetch: async (input, init) => {
        urls.push(input);
        const id = new Headers(init.headers).get('x-request-id');
        return new Response(JSON.stringify(ok(id ?? undefined, { valid: true })), { status: 200 });
      },
    });
    const envelope = await backend.call('signature.verify', { message: 'AA==', signature: 'AA==', key_version: 1 }, { requestId: 'inj' });
    expect(envelope).toMatchObject({ data: { valid: true }, request_id: 'inj' });
    expect(urls).toEqual(['https://qpher.example/api/v1/signature/verify']);
  });
});

describe('retries', () => {
  it('retries 503 twice then succeeds: 3 attempts, the same X-Request-ID on each', async () => {
    const { backend, requests } = await setup((req, res, i) =>
      i < 2
        ? send(res, 503, fail(req.headers['x-request-id'], 'ERR_SERVICE_001', 'busy'))
        : send(res, 200, ok(req.headers['x-request-id'], { ciphertext: 'AAAA', key_version: 1 })),
    );
    const envelope = await call(backend, { requestId: 'same-every-time' });
    expect(envelope).toMatchObject({ data: { ciphertext: 'AAAA' }, request_id: 'same-every-time' });
    expect(requests).toHaveLength(3);
    expect(requests.map((r) => r.headers['x-request-id'])).toEqual(['same-every-time', 'same-every-time', 'same-every-time']);
  });

  it('returns the last 503 envelope when the retries run out (1 + retries attempts)', async () => {
    const { backend, requests } = await setup(
      (req, res) => send(res, 503, fail(req.headers['x-request-id'], 'ERR_SERVICE_001', 'still busy')),
      { retries: 2 },
    );
    expect(await call(backend)).toMatchObject({ error: { code: 'ERR_SERVICE_001', message: 'still busy' }, request_id: 'req-1' });
    expect(requests).toHaveLength(3);
  });

  it('honours 429 Retry-After: 1 (waits about a second, then succeeds)', async () => {
    const { backend, requests } = await setup((req, res, i) =>
      i === 0
        ? send(res, 429, fail(req.headers['x-request-id'], 'ERR_RATE_001', 'Rate limit exceeded. Retry after 1 seconds.'), {
            'retry-after': '1',
          })
        : send(res, 200, ok(req.headers['x-request-id'], { ciphertext: 'AAAA', key_version: 1 })),
    );
    const result = await timed(call(backend));
    expect(result.value).toMatchObject({ data: { ciphertext: 'AAAA' } });
    expect(requests).toHaveLength(2);
    const gap = requests[1]!.at - requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(1300);
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const { backend, requests } = await setup((req, res, i) =>
      i === 0
        ? send(res, 503, fail(req.headers['x-request-id'], 'ERR_SERVICE_001', 'later'), {
            'retry-after': new Date(Date.now() + 2000).toUTCString(),
          })
        : send(res, 200, ok(req.headers['x-request-id'], {})),
    );
    await call(backend);
    // HTTP dates have one-second resolution: the wait is between 1 and 2 s.
    const gap = requests[1]!.at - requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(2200);
  });

  it('does not wait for a Retry-After beyond the deadline: returns the 429 at once', async () => {
    const { backend, requests } = await setup(
      (req, res) => send(res, 429, fail(req.headers['x-request-id'], 'ERR_RATE_001', 'slow down'), { 'retry-after': '10' }),
      {
        timeoutMs: 2000,
      },
    );
    const result = await timed(call(backend));
    expect(errorCode(result.value!)).toBe('ERR_RATE_001');
    expect(result.ms).toBeLessThan(500);
    expect(requests).toHaveLength(1);
  });

  it('retries after a connection reset', async () => {
    const { backend, requests } = await setup((req, res, i) =>
      i === 0 ? res.socket?.destroy() : send(res, 200, ok(req.headers['x-request-id'], { ciphertext: 'AAAA', key_version: 1 })),
    );
    expect(await call(backend)).toMatchObject({ data: { ciphertext: 'AAAA' }, request_id: 'req-1' });
    expect(requests).toHaveLength(2);
  });

  it('retries a body cut off mid-way', async () => {
    const { backend, requests } = await setup((req, res, i) => {
      if (i > 0) return send(res, 200, ok(req.headers['x-request-id'], {}));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"data":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    expect(await call(backend)).toMatchObject({ data: {}, request_id: 'req-1' });
    expect(requests).toHaveLength(2);
  });

  it('synthesises ERR_SERVICE_001 with its request id when the server cannot be reached', async () => {
    const backend = new RemoteBackend({ baseUrl: await closedPortUrl(), apiKey: API_KEY, retries: 2, baseDelayMs: 5 });
    const envelope = await call(backend, { requestId: 'nobody-home' });
    expect(envelope).toMatchObject({ error: { code: 'ERR_SERVICE_001' }, request_id: 'nobody-home' });
    expect(JSON.stringify(envelope)).not.toContain(API_KEY);
    expect(typeof envelope.timestamp).toBe('string');
  });

  it('retries an HTML 502 page, then answers ERR_BAD_GATEWAY_001 naming the status, never the body', async () => {
    const html = '<html><body><h1>502 Bad Gateway</h1><p>nginx secret-internal-host</p></body></html>';
    const { backend, requests } = await setup(
      (_req, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end(html);
      },
      { retries: 2 },
    );
    const envelope = await call(backend, { requestId: 'html' });
    expect(requests).toHaveLength(3);
    expect(envelope).toMatchObject({ error: { code: 'ERR_BAD_GATEWAY_001' }, request_id: 'html' });
    const message = 'error' in envelope ? envelope.error.message : '';
    expect(message).toContain('502');
    expect(message).not.toContain('nginx');
    expect(message).not.toContain('<');
  });

  it('answers invalid JSON or a non-envelope 200 with ERR_BAD_GATEWAY_001, without retrying', async () => {
    for (const body of ['{"data": ', '[1,2,3]', '{"hello":"world"}', '']) {
      const { backend, requests } = await setup((_req, res) => send(res, 200, body));
      const envelope = await call(backend, { requestId: 'bad-json' });
      expect(envelope).toMatchObject({ error: { code: 'ERR_BAD_GATEWAY_001' }, request_id: 'bad-json' });
      expect('error' in envelope && envelope.error.message).toContain('HTTP 200');
      expect(requests).toHaveLength(1);
      await server!.close();
      server = undefined;
    }
  });

  it.each([
    [400, 'ERR_INVALID_001'],
    [401, 'ERR_AUTH_001'],
    [403, 'ERR_FORBIDDEN_001'],
    [404, 'ERR_KEM_005'],
    [500, 'ERR_INTERNAL_001'],
  ])('does not retry %i', async (status, code) => {
    const { backend, requests } = await setup((req, res) => send(res, status, fail(req.headers['x-request-id'], code, 'no')));
    expect(await call(backend)).toMatchObject({ error: { code, message: 'no' }, request_id: 'req-1' });
    expect(requests).toHaveLength(1);
  });

  it('does not follow redirects (the API key would go along)', async () => {
    const { backend, requests } = await setup((_req, res) => {
      res.writeHead(307, { location: 'http://127.0.0.2:1/steal' });
      res.end();
    });
    const envelope = await call(backend);
    expect(envelope).toMatchObject({ error: { code: 'ERR_BAD_GATEWAY_001' } });
    expect('error' in envelope && envelope.error.message).toContain('307');
    expect(requests).toHaveLength(1);
  });

  it('takes retries per call', async () => {
    const { backend, requests } = await setup((req, res) => send(res, 503, fail(req.headers['x-request-id'], 'ERR_SERVICE_001', 'busy')));
    await backend.call('kem.encrypt', encrypt, { requestId: 'r0', retries: 0 });
    expect(requests).toHaveLength(1);
  });
});

describe('idempotent KMS calls', () => {
  /** A keyring that honours Idempotency-Key like the real server: the stored response is replayed. */
  function kmsServer() {
    const state = { version: 1, made: 0, replayed: 0 };
    const stored = new Map<string, { status: number; data: unknown }>();
    const script: Script = (req, res, i) => {
      const key = req.headers['idempotency-key'] as string | undefined;
      const id = req.headers['x-request-id'];
      if (key !== undefined && stored.has(key)) {
        state.replayed++;
        const first = stored.get(key)!;
        return send(res, first.status, ok(id, first.data), { 'idempotent-replayed': 'true' });
      }
      state.version++;
      state.made++;
      const data = {
        key_version: state.version,
        algorithm: 'Kyber768',
        status: 'active',
        public_key: 'AAAA',
        created_at: new Date().toISOString(),
      };
      if (key !== undefined) stored.set(key, { status: 200, data });
      if (i === 0) return res.socket?.destroy(); // performed, but the response is lost
      send(res, 200, ok(id, data));
    };
    return { state, script };
  }

  it('retries a rotate whose response was lost with the same Idempotency-Key: exactly one new version', async () => {
    const kms = kmsServer();
    const { backend, requests } = await setup(kms.script);
    const envelope = await backend.call('kms.rotate', { algorithm: 'Kyber768' }, { requestId: 'rot-1' });
    expect(envelope).toMatchObject({ data: { key_version: 2, status: 'active' }, request_id: 'rot-1' });
    expect(requests).toHaveLength(2);
    const keys = requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(UUID);
    expect(keys[1]).toBe(keys[0]);
    expect(requests.map((r) => r.headers['x-request-id'])).toEqual(['rot-1', 'rot-1']);
    expect(kms.state).toMatchObject({ version: 2, made: 1, replayed: 1 });
  });

  it('uses a new Idempotency-Key per call, and one on every mutating KMS operation only', async () => {
    const { backend, requests } = await setup((req, res) => send(res, 200, ok(req.headers['x-request-id'], {})));
    await backend.call('kms.generate', { algorithm: 'Kyber768' }, { requestId: '1' });
    await backend.call('kms.rotate', { algorithm: 'Kyber768' }, { requestId: '2' });
    await backend.call('kms.retire', { algorithm: 'Kyber768', key_version: 1 }, { requestId: '3' });
    await backend.call('kms.archive', { algorithm: 'Kyber768', key_version: 1 }, { requestId: '4' });
    await backend.call('kms.list', { algorithm: 'Kyber768' }, { requestId: '5' });
    await backend.call('signature.sign', { message: 'AA==', key_version: 1 }, { requestId: '6' });
    const keys = requests.map((r) => r.headers['idempotency-key']);
    for (const key of keys.slice(0, 4)) expect(key).toMatch(UUID);
    expect(new Set(keys.slice(0, 4)).size).toBe(4);
    expect(keys.slice(4)).toEqual([undefined, undefined]);
  });
});

describe('deadlines and abort', () => {
  it('resolves to ERR_TIMEOUT_001 at the deadline when the response never comes', async () => {
    const { backend, requests } = await setup(() => {}, { timeoutMs: 400 });
    const result = await timed(call(backend, { requestId: 'hang' }));
    expect(result.value).toMatchObject({ error: { code: 'ERR_TIMEOUT_001' }, request_id: 'hang' });
    expect(result.ms).toBeGreaterThanOrEqual(395);
    expect(result.ms).toBeLessThan(500);
    expect(requests).toHaveLength(1);
  });

  it('counts one deadline across retries and backoff (per-call timeoutMs)', async () => {
    const { backend, requests } = await setup((req, res) => send(res, 503, fail(req.headers['x-request-id'], 'ERR_SERVICE_001', 'busy')), {
      retries: 100,
      baseDelayMs: 20,
      maxDelayMs: 20,
    });
    const result = await timed(call(backend, { requestId: 't', timeoutMs: 300 }));
    // Each attempt is answered: the call ends with the last 503 or the timeout, by 300 ms + a bit.
    expect(['ERR_SERVICE_001', 'ERR_TIMEOUT_001']).toContain(errorCode(result.value!));
    expect(result.ms).toBeLessThan(400);
    expect(requests.length).toBeGreaterThan(3);
  });

  it('times out a body that stalls after the headers', async () => {
    const { backend } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":');
    });
    const result = await timed(call(backend, { requestId: 'stall', timeoutMs: 300 }));
    expect(result.value).toMatchObject({ error: { code: 'ERR_TIMEOUT_001' }, request_id: 'stall' });
    expect(result.ms).toBeLessThan(400);
  });

  it('times out even with a fetch that ignores its signal', async () => {
    const backend = new RemoteBackend({
      baseUrl: 'https://qpher.example',
      apiKey: API_KEY,
      fetch: () => new Promise(() => {}),
      timeoutMs: 200,
    });
    const result = await timed(call(backend));
    expect(errorCode(result.value!)).toBe('ERR_TIMEOUT_001');
    expect(result.ms).toBeLessThan(300);
    const aborted = await timed(call(backend, { requestId: 'x', signal: AbortSignal.timeout(50) }));
    expect((aborted.error as DOMException).name).toBe('TimeoutError');
    expect(aborted.ms).toBeLessThan(150);
  });

  it('rejects at once with the reason of an already aborted signal, sending nothing', async () => {
    const { backend, requests } = await setup((req, res) => send(res, 200, ok(req.headers['x-request-id'], {})));
    const reason = new Error('user cancelled');
    await expect(call(backend, { requestId: 'a', signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(requests).toHaveLength(0);
  });

  it('rejects with the reason within 100 ms when aborted during the request', async () => {
    const { backend, requests } = await setup(() => {});
    const controller = new AbortController();
    const reason = new Error('navigated away');
    const pending = timed(call(backend, { requestId: 'a', signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const abortedAt = performance.now();
    controller.abort(reason);
    const result = await pending;
    expect(result.error).toBe(reason);
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(requests).toHaveLength(1);
  });

  it('rejects with the reason within 100 ms when aborted during a backoff sleep', async () => {
    const controller = new AbortController();
    const reason = new Error('give up');
    let abortedAt = 0;
    const { backend, requests } = await setup((req, res) => {
      send(res, 503, fail(req.headers['x-request-id'], 'ERR_SERVICE_001', 'busy'), { 'retry-after': '5' });
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort(reason);
      }, 100);
    });
    const result = await timed(call(backend, { requestId: 'a', signal: controller.signal }));
    expect(result.error).toBe(reason);
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(requests).toHaveLength(1);
  });

  it('rejects with a DOMException AbortError when aborted without a reason, as fetch does', async () => {
    const { backend } = await setup(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await timed(call(backend, { requestId: 'a', signal: controller.signal }));
    expect((result.error as DOMException).name).toBe('AbortError');
  });
});

describe('tolerant reader', () => {
  it('fills error.code from error.error_code (and the reverse)', async () => {
    const { backend } = await setup((req, res) =>
      send(res, 401, {
        error: { error_code: 'ERR_AUTH_001', message: 'Invalid or missing API key' },
        request_id: req.headers['x-request-id'],
        timestamp: new Date().toISOString(),
      }),
    );
    const envelope = await call(backend, { requestId: 'legacy' });
    expect(envelope).toEqual({
      error: { code: 'ERR_AUTH_001', error_code: 'ERR_AUTH_001', message: 'Invalid or missing API key' },
      request_id: 'legacy',
      timestamp: expect.any(String),
    });
  });

  it('fills a missing message, request_id or timestamp', async () => {
    const { backend } = await setup((_req, res) => send(res, 404, { error: { code: 'ERR_KEM_005' } }));
    const envelope = await call(backend, { requestId: 'sparse' });
    expect(envelope).toEqual({
      error: { code: 'ERR_KEM_005', error_code: 'ERR_KEM_005', message: 'Key version not found' },
      request_id: 'sparse',
      timestamp: expect.any(String),
    });
  });
});

describe('construction and secrecy', () => {
  it('refuses a non-HTTPS baseUrl unless the host is loopback', () => {
    for (const baseUrl of ['http://example.com', 'http://10.0.0.1:8080', 'http://[::2]', 'ftp://127.0.0.1', 'ws://localhost']) {
      expect(() => new RemoteBackend({ baseUrl, apiKey: API_KEY }), baseUrl).toThrow(TypeError);
    }
    expect(() => new RemoteBackend({ baseUrl: 'http://example.com', apiKey: API_KEY })).toThrow(/https:.*loopback/);
    for (const baseUrl of [
      'https://example.com',
      'http://127.0.0.1:8080',
      'http://127.1.2.3',
      'http://localhost:3000',
      'http://[::1]:9000',
      new URL('https://x.example/api'),
    ]) {
      expect(() => new RemoteBackend({ baseUrl, apiKey: API_KEY }), String(baseUrl)).not.toThrow();
    }
  });

  it('validates options with TypeError/RangeError naming the option', () => {
    const base = { baseUrl: 'https://example.com', apiKey: API_KEY };
    expect(() => new RemoteBackend(undefined as never)).toThrow(TypeError);
    expect(() => new RemoteBackend({ ...base, baseUrl: 'not a url' })).toThrow(/"baseUrl"/);
    expect(() => new RemoteBackend({ ...base, baseUrl: 42 as never })).toThrow(/"baseUrl"/);
    expect(() => new RemoteBackend({ ...base, baseUrl: `https://user:${API_KEY}@example.com` })).toThrow(/credentials/);
    expect(() => new RemoteBackend({ ...base, apiKey: '' })).toThrow(/"apiKey"/);
    expect(() => new RemoteBackend({ ...base, apiKey: undefined as never })).toThrow(TypeError);
    expect(() => new RemoteBackend({ ...base, apiKey: `${API_KEY}\n` })).toThrow(/"apiKey"/);
    expect(() => new RemoteBackend({ ...base, fetch: 'fetch' as never })).toThrow(/"fetch"/);
    expect(() => new RemoteBackend({ ...base, retries: -1 })).toThrow(RangeError);
    expect(() => new RemoteBackend({ ...base, retries: 1.5 })).toThrow(/"retries"/);
    expect(() => new RemoteBackend({ ...base, retries: '3' as never })).toThrow(TypeError);
    expect(() => new RemoteBackend({ ...base, baseDelayMs: -5 })).toThrow(/"baseDelayMs"/);
    expect(() => new RemoteBackend({ ...base, maxDelayMs: Number.NaN })).toThrow(/"maxDelayMs"/);
    expect(() => new RemoteBackend({ ...base, timeoutMs: 0 })).toThrow(/"timeoutMs"/);
    expect(() => new RemoteBackend({ ...base, timeoutMs: 2 ** 31 })).toThrow(RangeError);
  });

  it('validates per-call options', async () => {
    const backend = new RemoteBackend({ baseUrl: 'https://example.com', apiKey: API_KEY, fetch: async () => new Response('{}') });
    await expect(backend.call('kem.encrypt', encrypt, { requestId: 'x', timeoutMs: -1 })).rejects.toThrow(/"timeoutMs"/);
    await expect(backend.call('kem.encrypt', encrypt, { requestId: 'x', retries: -1 })).rejects.toThrow(/"retries"/);
    // a request id outside the rule is replaced, not refused (src/contract/request-id.ts)
    const replaced = await backend.call('kem.encrypt', encrypt, { requestId: 'bad\nid', retries: 0, timeoutMs: 2000 });
    expect(replaced.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await expect(backend.call('kem.nope' as never, encrypt, { requestId: 'x' })).rejects.toThrow(TypeError);
  });

  it('keeps the API key out of JSON.stringify, inspect, errors and envelopes', async () => {
    const backend = new RemoteBackend({ baseUrl: 'http://127.0.0.1:1/', apiKey: API_KEY, retries: 0 });
    expect(JSON.stringify(backend)).toBe('{"baseUrl":"http://127.0.0.1:1"}');
    expect(JSON.stringify({ backend })).not.toContain(API_KEY);
    expect(inspect(backend, { showHidden: true, depth: 5 })).not.toContain(API_KEY);
    expect(Object.values(backend).join(' ')).not.toContain(API_KEY);
    const messages: string[] = [];
    for (const options of [{ apiKey: `${API_KEY} ` }, { apiKey: `${API_KEY}é` }, { baseUrl: `https://u:${API_KEY}@x.example` }]) {
      try {
        new RemoteBackend({ baseUrl: 'https://example.com', apiKey: API_KEY, ...options });
      } catch (error) {
        messages.push(String(error), (error as Error).stack ?? '');
      }
    }
    expect(messages).toHaveLength(6);
    for (const message of messages) expect(message).not.toContain('0123456789abcdef');
    const envelope = await call(backend);
    expect(errorCode(envelope)).toBe('ERR_SERVICE_001');
    expect(JSON.stringify(envelope)).not.toContain(API_KEY);
  });
});
