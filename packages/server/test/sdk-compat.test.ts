/**
 * The official Go SDK, unchanged, against a real `qpher serve` on 127.0.0.1: every request is the
 * byte sequence qpher-go v0.2.0 sends (go-sdk-wire.ts, go-sdk-calls.ts), and every answer is read
 * the way it reads it (its structs, base64.StdEncoding, `error.error_code`). Each step of the basic
 * API also runs through the facade on an in-process LocalBackend with the same fields, and the two
 * envelopes must match apart from ids, timestamps and random bytes (test/contract/transcript.ts).
 *
 * The newer operations (encapsulate, key wrap, sign-hash) and the hybrid algorithms are a separate
 * table: each check runs as soon as the served OpenAPI document lists its route (or algorithm) and
 * is reported as skipped until then.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Envelope, LocalBackend, Qpher } from '../../../src/index.js';
import { Transcript } from '../../../test/contract/transcript.js';
import { createApiKey, killAll, removeDir, startServer, tempDir, type ServerProcess } from '../../../test/support/server.js';
import { type GoCall, goSdk } from './go-sdk-calls.js';
import { errorLikeGo, type GoError, readLikeGo, sendLikeGo, type WireAnswer } from './go-sdk-wire.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const text = (s: string) => new TextEncoder().encode(s);

let dir: string;
let server: ServerProcess;
let limited: ServerProcess;
let apiKey: string;
let readOnlyKey: string;
let limitedKey: string;
let openapi: { paths: Record<string, unknown>; components: { schemas: { Algorithm: { enum: string[] } } } };
let local: Qpher;
/** Normalised envelopes of every step, per side, compared at the end. */
const remoteSide = new Transcript();
const localSide = new Transcript();

beforeAll(async () => {
  dir = await tempDir('qpher-sdk-compat-');
  const limitedDir = `${dir}/limited`;
  [apiKey, readOnlyKey, limitedKey] = await Promise.all([
    createApiKey(dir, 'gosdk'),
    createApiKey(dir, 'gosdk', 'kms:read'),
    createApiKey(limitedDir, 'gosdk'),
  ]);
  // The suite runs far under the default limit; the second server exists to answer 429.
  // One after the other, one crypto thread each, and patient: the suite is sequential, and two
  // servers starting at once on a busy 2-core machine can take well over 20 s.
  const patient = { timeoutMs: 60_000 };
  server = await startServer(dir, ['--crypto-threads', '1'], {}, patient);
  limited = await startServer(limitedDir, ['--rate-limit', '1:1', '--crypto-threads', '1'], {}, patient);
  openapi = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as typeof openapi;
  local = new Qpher({ backend: new LocalBackend() });
}, 180_000);

afterAll(async () => {
  await local?.close();
  killAll();
  await removeDir(dir);
});

/** Sends a call as the Go SDK and checks what every answer must carry for it. */
async function send(call: GoCall, key = apiKey): Promise<WireAnswer> {
  const answer = await sendLikeGo(server.url, key, call.request);
  expect(answer.headers['content-type']).toBe('application/json');
  return answer;
}

/** A success the SDK can read: returns the values it hands its caller. */
async function ok(call: GoCall): Promise<{ data: Record<string, any>; requestId: string }> {
  const answer = await send(call);
  if (answer.status >= 400) throw new Error(`${call.operation}: ${answer.status} ${answer.text}`);
  const read = readLikeGo(answer.text, call.reads);
  // The SDK sends no X-Request-ID, so the server makes a UUID v4 (src/contract/request-id.ts).
  expect(read.requestId).toMatch(UUID_V4);
  expect(answer.headers['x-request-id']).toBe(read.requestId);
  return read;
}

/** A failure as the SDK's `*qpher.Error`: a real code from the table, never `ERR_UNKNOWN_*`. */
async function fails(call: GoCall, key = apiKey): Promise<GoError> {
  const answer = await send(call, key);
  const error = errorLikeGo(answer.status, answer.text);
  expect(error.code).not.toMatch(/^ERR_UNKNOWN_/);
  expect(error.message).not.toBe(`HTTP ${answer.status}`);
  expect(error.requestId).toMatch(UUID_V4);
  return error;
}

/** The same call with another body (for shapes the Go SDK itself never sends). */
function withBody(call: GoCall, body: string): GoCall {
  return { ...call, request: { ...call.request, body }, facade: JSON.parse(body) };
}

type FacadeCall = (q: Qpher, request: any) => Promise<Envelope>;
const FACADE: Record<string, FacadeCall> = {
  'kem.encrypt': (q, r) => q.kem.encrypt(r),
  'kem.decrypt': (q, r) => q.kem.decrypt(r),
  'signature.sign': (q, r) => q.signature.sign(r),
  'signature.verify': (q, r) => q.signature.verify(r),
  'kms.generate': (q, r) => q.kms.generate(r),
  'kms.rotate': (q, r) => q.kms.rotate(r),
  'kms.active': (q, r) => q.kms.active(r),
  'kms.get': (q, r) => q.kms.get(r),
  'kms.list': (q, r) => q.kms.list(r),
  'kms.retire': (q, r) => q.kms.retire(r),
};

/**
 * One step on both sides: the Go-shaped request to the server and the same fields through the
 * facade on the local backend; both envelopes are recorded for the final comparison. Returns the
 * server's answer.
 */
async function both(label: string, call: GoCall): Promise<WireAnswer> {
  const facade = FACADE[call.operation];
  if (!facade) throw new Error(`no facade method for ${call.operation}`);
  const [answer, envelope] = await Promise.all([send(call), facade(local, call.facade)]);
  remoteSide.record(label, JSON.parse(answer.text));
  localSide.record(label, envelope);
  return answer;
}

describe('qpher-go v0.2.0 requests, byte for byte', () => {
  it('sends the headers and body Go writes, and the server takes them', async () => {
    const call = goSdk.generate({ Algorithm: 'Kyber768' });
    const answer = await both('generate Kyber768', call);
    expect(answer.sent).toBe(
      [
        'POST /api/v1/kms/keys/generate HTTP/1.1',
        `Host: ${new URL(server.url).host}`,
        'User-Agent: qpher-go/0.2.0',
        'Content-Length: 24',
        'Accept: application/json',
        'Content-Type: application/json',
        `X-Api-Key: ${apiKey}`,
        'Accept-Encoding: gzip',
        '',
        '{"algorithm":"Kyber768"}',
      ].join('\r\n'),
    );
    expect(answer.status).toBe(201);
    const { data } = readLikeGo(answer.text, call.reads);
    expect(data).toMatchObject({ key_version: 1, algorithm: 'Kyber768', status: 'active' });
    // SubjectPublicKeyInfo of an ML-KEM-768 key: 22 bytes of DER, then the 1,184-byte key
    expect((data.public_key as Buffer).length).toBe(1206);
    expect(Date.parse(data.created_at as string)).not.toBeNaN();
  });

  it('encodes bodies and query strings as encoding/json and url.Values do', () => {
    const salt = new Uint8Array(32).fill(7);
    expect(goSdk.encrypt({ Plaintext: text('hi'), KeyVersion: 2 }).request.body).toBe(
      '{"plaintext":"aGk=","key_version":2,"mode":"standard"}',
    );
    expect(goSdk.encrypt({ Plaintext: text('hi'), KeyVersion: 2, Mode: 'deterministic', Salt: salt }).request.body).toBe(
      `{"plaintext":"aGk=","key_version":2,"mode":"deterministic","salt":"${Buffer.from(salt).toString('base64')}"}`,
    );
    expect(goSdk.retire({ Algorithm: 'Kyber768', KeyVersion: 1 }).request.body).toBe('{"algorithm":"Kyber768","key_version":1}');
    expect(goSdk.list({ Status: 'active', Algorithm: 'Kyber768' }).request.target).toBe(
      '/api/v1/kms/keys?algorithm=Kyber768&status=active',
    );
    expect(goSdk.list().request.target).toBe('/api/v1/kms/keys');
    expect(goSdk.getKey({ Algorithm: 'Kyber768', KeyVersion: 3 }).request.target).toBe('/api/v1/kms/keys/3?algorithm=Kyber768');
    expect(goSdk.getActive({ Algorithm: '' }).request.target).toBe('/api/v1/kms/keys/active?algorithm=');
  });
});

describe('the basic API, as the Go SDK reads it, and the same through the local facade', () => {
  const hello = text('Hello, Quantum World!');
  let sealed: Buffer;

  it('keys: generate Dilithium3, get-active, get(version) on the alias route', async () => {
    await both('generate Dilithium3', goSdk.generate({ Algorithm: 'Dilithium3' }));
    const active = await ok(goSdk.getActive({ Algorithm: 'Kyber768' }));
    await both('active Kyber768', goSdk.getActive({ Algorithm: 'Kyber768' }));
    const byVersion = await ok(goSdk.getKey({ Algorithm: 'Kyber768', KeyVersion: 1 }));
    await both('get Kyber768 v1', goSdk.getKey({ Algorithm: 'Kyber768', KeyVersion: 1 }));
    expect(byVersion.data).toEqual(active.data);
    expect(byVersion.data).toMatchObject({ key_version: 1, algorithm: 'Kyber768', status: 'active' });
  });

  it('kem: encrypt (mode "standard" by default) and decrypt', async () => {
    const encrypted = await ok(goSdk.encrypt({ Plaintext: hello, KeyVersion: 1 }));
    expect(encrypted.data).toMatchObject({ key_version: 1, algorithm: 'Kyber768' });
    sealed = encrypted.data.ciphertext;
    const decrypted = await ok(goSdk.decrypt({ Ciphertext: sealed, KeyVersion: encrypted.data.key_version }));
    expect(decrypted.data).toMatchObject({ key_version: 1, algorithm: 'Kyber768' });
    expect(Buffer.from(decrypted.data.plaintext).toString()).toBe('Hello, Quantum World!');
    // the facade round trip of the same request, and the answers compared below
    expect((await both('encrypt', goSdk.encrypt({ Plaintext: hello, KeyVersion: 1 }))).status).toBe(200);
  });

  it('kem: deterministic mode with a 32-byte salt (the SDK documents 32 as its minimum)', async () => {
    const Salt = randomBytes(32);
    const one = await ok(goSdk.encrypt({ Plaintext: hello, KeyVersion: 1, Mode: 'deterministic', Salt }));
    const two = await ok(goSdk.encrypt({ Plaintext: hello, KeyVersion: 1, Mode: 'deterministic', Salt }));
    expect(one.data.ciphertext).toEqual(two.data.ciphertext);
    const other = await ok(goSdk.encrypt({ Plaintext: hello, KeyVersion: 1, Mode: 'deterministic', Salt: randomBytes(32) }));
    expect(other.data.ciphertext).not.toEqual(one.data.ciphertext);
    const back = await ok(goSdk.decrypt({ Ciphertext: one.data.ciphertext, KeyVersion: 1 }));
    expect(Buffer.from(back.data.plaintext).toString()).toBe('Hello, Quantum World!');
    await both(
      'deterministic encrypt',
      goSdk.encrypt({ Plaintext: hello, KeyVersion: 1, Mode: 'deterministic', Salt: new Uint8Array(32) }),
    );
  });

  it('kem: salts of 1 to 256 bytes are taken (the salt separates domains, it is not a secret); 257 is a 400', async () => {
    for (const size of [1, 16, 256]) {
      await ok(goSdk.encrypt({ Plaintext: hello, KeyVersion: 1, Mode: 'deterministic', Salt: randomBytes(size) }));
    }
    await both('salt of 257 bytes', goSdk.encrypt({ Plaintext: hello, KeyVersion: 1, Mode: 'deterministic', Salt: new Uint8Array(257) }));
    const error = await fails(goSdk.encrypt({ Plaintext: hello, KeyVersion: 1, Mode: 'deterministic', Salt: new Uint8Array(257) }));
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'ERR_INVALID_001',
      message: 'Validation failed: salt exceeds the limit of 256 bytes',
    });
  });

  it('signatures: sign, verify, and verify of another message answers valid=false', async () => {
    const message = text('Invoice #12345');
    const signed = await ok(goSdk.sign({ Message: message, KeyVersion: 1 }));
    expect(signed.data).toMatchObject({ key_version: 1, algorithm: 'Dilithium3' });
    expect((signed.data.signature as Buffer).length).toBe(3309); // FIPS 204 Table 2, ML-DSA-65
    const good = await ok(goSdk.verify({ Message: message, Signature: signed.data.signature, KeyVersion: 1 }));
    expect(good.data).toEqual({ valid: true, key_version: 1, algorithm: 'Dilithium3' });
    const bad = await ok(goSdk.verify({ Message: text('Invoice #12346'), Signature: signed.data.signature, KeyVersion: 1 }));
    expect(bad.data).toEqual({ valid: false, key_version: 1, algorithm: 'Dilithium3' });
    await both('sign', goSdk.sign({ Message: message, KeyVersion: 1 }));
    await both('verify wrong signature', goSdk.verify({ Message: message, Signature: new Uint8Array(3309), KeyVersion: 1 }));
  });

  it('keys: rotate answers the new key and old_key_version; the retired key still decrypts', async () => {
    const rotated = await both('rotate Kyber768', goSdk.rotate({ Algorithm: 'Kyber768' }));
    expect(rotated.status).toBe(200);
    const { data } = readLikeGo(rotated.text, goSdk.rotate({ Algorithm: 'Kyber768' }).reads);
    expect(data).toMatchObject({ key_version: 2, algorithm: 'Kyber768', old_key_version: 1 });
    expect((data.public_key as Buffer).length).toBe(1206);
    const back = await ok(goSdk.decrypt({ Ciphertext: sealed, KeyVersion: 1 }));
    expect(Buffer.from(back.data.plaintext).toString()).toBe('Hello, Quantum World!');
    await both('encrypt to a retired key', goSdk.encrypt({ Plaintext: hello, KeyVersion: 1 }));
  });

  it('keys: list with no filter, by algorithm, by status, by both (total counts every match)', async () => {
    const all = await ok(goSdk.list());
    expect(all.data.total).toBe(3);
    expect(all.data.keys.map((k: any) => [k.algorithm, k.key_version, k.status])).toEqual([
      ['Kyber768', 1, 'retired'],
      ['Kyber768', 2, 'active'],
      ['Dilithium3', 1, 'active'],
    ]);
    const kyber = await ok(goSdk.list({ Algorithm: 'Kyber768' }));
    expect(kyber.data.total).toBe(2);
    const retired = await ok(goSdk.list({ Status: 'retired' }));
    expect(retired.data.keys.map((k: any) => [k.algorithm, k.key_version])).toEqual([['Kyber768', 1]]);
    const activeKyber = await ok(goSdk.list({ Algorithm: 'Kyber768', Status: 'active' }));
    expect(activeKyber.data).toMatchObject({ total: 1, keys: [{ key_version: 2, status: 'active' }] });
    await both('list', goSdk.list());
    await both('list Kyber768', goSdk.list({ Algorithm: 'Kyber768' }));
    await both('list retired', goSdk.list({ Status: 'retired' }));
    await both('list active Kyber768', goSdk.list({ Algorithm: 'Kyber768', Status: 'active' }));
  });

  it('keys: retire answers the whole record; rotate with no active key answers old_key_version null, which Go reads as 0', async () => {
    const retired = await both('retire Kyber768 v2', goSdk.retire({ Algorithm: 'Kyber768', KeyVersion: 2 }));
    const { data } = readLikeGo(retired.text, goSdk.retire({ Algorithm: 'Kyber768', KeyVersion: 2 }).reads);
    expect(data).toMatchObject({ key_version: 2, algorithm: 'Kyber768', status: 'retired' });
    expect((data.public_key as Buffer).length).toBe(1206);
    const rotated = await both('rotate with none active', goSdk.rotate({ Algorithm: 'Kyber768' }));
    expect(JSON.parse(rotated.text).data.old_key_version).toBeNull();
    expect(readLikeGo(rotated.text, goSdk.rotate({ Algorithm: 'Kyber768' }).reads).data).toMatchObject({
      key_version: 3,
      old_key_version: 0,
    });
  });
});

describe('errors, as *qpher.Error', () => {
  it('a wrong API key: 401 ERR_AUTH_001, not retried', async () => {
    const error = await fails(goSdk.list(), `qph_${'A'.repeat(43)}`);
    expect(error).toMatchObject({ statusCode: 401, code: 'ERR_AUTH_001', message: 'Invalid or missing API key', retried: false });
  });

  it('a missing key version: 404 ERR_KEM_005 on get, encrypt and decrypt', async () => {
    await both('get missing version', goSdk.getKey({ Algorithm: 'Kyber768', KeyVersion: 99 }));
    await both('encrypt missing version', goSdk.encrypt({ Plaintext: text('x'), KeyVersion: 99 }));
    for (const call of [goSdk.getKey({ Algorithm: 'Kyber768', KeyVersion: 99 }), goSdk.encrypt({ Plaintext: text('x'), KeyVersion: 99 })]) {
      expect(await fails(call)).toMatchObject({ statusCode: 404, code: 'ERR_KEM_005', retried: false });
    }
  });

  it('a key without the scope: 403 ERR_FORBIDDEN_001', async () => {
    const error = await fails(goSdk.rotate({ Algorithm: 'Kyber768' }), readOnlyKey);
    expect(error).toMatchObject({ statusCode: 403, code: 'ERR_FORBIDDEN_001', retried: false });
    expect(error.message).toContain('kms:write');
  });

  it('validation: 400 ERR_INVALID_001 with a message naming the field', async () => {
    const cases: [string, GoCall, string][] = [
      ['zero key version', goSdk.encrypt({ Plaintext: text('x'), KeyVersion: 0 }), 'key_version must be an integer from 1 to 4294967295'],
      ['deterministic without salt', goSdk.encrypt({ Plaintext: text('x'), KeyVersion: 3, Mode: 'deterministic' }), 'salt is required'],
      ['salt in standard mode', goSdk.encrypt({ Plaintext: text('x'), KeyVersion: 3, Salt: new Uint8Array(32) }), 'salt is required'],
      ['unknown mode', goSdk.encrypt({ Plaintext: text('x'), KeyVersion: 3, Mode: 'fast' }), 'mode must be one of'],
      // Go never sends an empty mode (it fills in "standard"); a client that does is told, not defaulted.
      [
        'empty mode',
        withBody(goSdk.encrypt({ Plaintext: text('x'), KeyVersion: 3 }), '{"plaintext":"eA==","key_version":3,"mode":""}'),
        'mode must be one of',
      ],
      ['KEM algorithm on sign', goSdk.sign({ Message: text('x'), KeyVersion: 1, Algorithm: 'Kyber768' }), 'algorithm must be one of'],
      ['get-active without algorithm', goSdk.getActive({ Algorithm: '' }), 'algorithm must be one of'],
      ['generate without algorithm', goSdk.generate({ Algorithm: '' }), 'algorithm must be one of'],
      ['list by unknown status', goSdk.list({ Status: 'deleted' }), 'status must be one of'],
    ];
    for (const [label, call, message] of cases) {
      await both(label, call);
      const error = await fails(call);
      expect(error, label).toMatchObject({ statusCode: 400, code: 'ERR_INVALID_001', retried: false });
      expect(error.message, label).toContain(message);
    }
  });

  it('unknown routes and wrong methods still answer an envelope the SDK reads (no ERR_UNKNOWN_*)', async () => {
    const unknown: GoCall = { ...goSdk.list(), request: { method: 'GET', target: '/api/v1/kem/nothing' } };
    expect(await fails(unknown)).toMatchObject({ statusCode: 404, code: 'ERR_NOT_FOUND_001' });
    const wrongMethod: GoCall = { ...goSdk.list(), request: { method: 'GET', target: '/api/v1/kem/encrypt' } };
    expect(await fails(wrongMethod)).toMatchObject({ statusCode: 404, code: 'ERR_NOT_FOUND_001' });
  });

  it('over the rate limit: 429 ERR_RATE_001 with Retry-After, a status the SDK retries', async () => {
    const call = goSdk.list();
    const answers = await Promise.all([1, 2, 3].map(() => sendLikeGo(limited.url, limitedKey, call.request)));
    const refused = answers.find((a) => a.status === 429);
    expect(refused, 'a burst of 3 over a 1:1 bucket').toBeDefined();
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(errorLikeGo(429, refused!.text)).toMatchObject({ code: 'ERR_RATE_001', retried: true });
  });
});

describe('the local facade answered as the server did', () => {
  it('same envelopes for every step, apart from ids, timestamps and random bytes', () => {
    expect(remoteSide.entries.length).toBeGreaterThanOrEqual(25);
    expect(localSide.entries).toEqual(remoteSide.entries);
  });
});

/**
 * The SDK's newer operations and hybrid algorithms. Each runs once the served OpenAPI document
 * lists its route (or the algorithm in `components.schemas.Algorithm`), skipped until then.
 */
describe('newer SDK operations (run when the server offers them)', () => {
  const hasRoute = (path: string) => Object.hasOwn(openapi.paths, path);
  const hasAlgorithm = (name: string) => openapi.components.schemas.Algorithm.enum.includes(name);
  const activeVersion = async (Algorithm: string) => {
    const listed = await ok(goSdk.list({ Algorithm, Status: 'active' }));
    if (listed.data.total > 0) return listed.data.keys[0].key_version as number;
    return (await ok(goSdk.generate({ Algorithm }))).data.key_version as number;
  };

  it('encapsulate + decapsulate agree, and EncryptLocal/DecryptLocal (AES-256-GCM, aad = KEM ciphertext) round-trip', async (ctx) => {
    if (!hasRoute('/api/v1/kem/encapsulate') || !hasRoute('/api/v1/kem/decapsulate')) return ctx.skip('no /api/v1/kem/encapsulate yet');
    const KeyVersion = await activeVersion('Kyber768');
    const enc = await ok(goSdk.encapsulate({ KeyVersion }));
    expect(enc.data).toMatchObject({ key_version: KeyVersion, algorithm: 'Kyber768' });
    expect(enc.data.shared_secret.length).toBe(32);
    expect(enc.data.kem_ciphertext.length).toBe(1088); // FIPS 203 Table 3
    const dec = await ok(goSdk.decapsulate({ KEMCiphertext: enc.data.kem_ciphertext, KeyVersion }));
    expect(dec.data.shared_secret).toEqual(enc.data.shared_secret);
    // qpher-go v0.2.0, kem.go EncryptLocal / DecryptLocal
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', enc.data.shared_secret, iv).setAAD(enc.data.kem_ciphertext);
    const sealedLocally = Buffer.concat([cipher.update('local secret'), cipher.final()]);
    const decipher = createDecipheriv('aes-256-gcm', dec.data.shared_secret, iv).setAAD(enc.data.kem_ciphertext);
    decipher.setAuthTag(cipher.getAuthTag());
    expect(Buffer.concat([decipher.update(sealedLocally), decipher.final()]).toString()).toBe('local secret');
  });

  it('key wrap + unwrap of a 32-byte key (KEM-DEM)', async (ctx) => {
    if (!hasRoute('/api/v1/kem/key/wrap') || !hasRoute('/api/v1/kem/key/unwrap')) return ctx.skip('no /api/v1/kem/key/wrap yet');
    const KeyVersion = await activeVersion('Kyber768');
    const SymmetricKey = randomBytes(32);
    const wrapped = await ok(goSdk.wrap({ SymmetricKey, KeyVersion }));
    expect(wrapped.data).toMatchObject({ key_version: KeyVersion, algorithm: 'Kyber768', wrapping_method: 'KEM-DEM' });
    const unwrapped = await ok(goSdk.unwrap({ WrappedKey: wrapped.data.wrapped_key, KeyVersion }));
    expect(unwrapped.data.symmetric_key).toEqual(SymmetricKey);
  });

  it('sign-hash + verify-hash of a SHA-256 digest (detached)', async (ctx) => {
    if (!hasRoute('/api/v1/signature/sign-hash') || !hasRoute('/api/v1/signature/verify-hash'))
      return ctx.skip('no /api/v1/signature/sign-hash yet');
    const KeyVersion = await activeVersion('Dilithium3');
    const Hash = createHash('sha256').update('Invoice #12345').digest();
    const signed = await ok(goSdk.signHash({ Hash, HashAlgorithm: 'SHA-256', KeyVersion }));
    expect(signed.data).toMatchObject({
      key_version: KeyVersion,
      algorithm: 'Dilithium3',
      hash_algorithm: 'SHA-256',
      signature_type: 'detached',
    });
    const good = await ok(goSdk.verifyHash({ Hash, HashAlgorithm: 'SHA-256', Signature: signed.data.signature, KeyVersion }));
    expect(good.data).toMatchObject({ valid: true, hash_algorithm: 'SHA-256' });
    const other = createHash('sha256').update('Invoice #12346').digest();
    const bad = await ok(goSdk.verifyHash({ Hash: other, HashAlgorithm: 'SHA-256', Signature: signed.data.signature, KeyVersion }));
    expect(bad.data.valid).toBe(false);
  });

  it('X-Wing (hybrid KEM): generate, encrypt and decrypt with Algorithm "X-Wing"', async (ctx) => {
    if (!hasAlgorithm('X-Wing')) return ctx.skip('X-Wing is not an algorithm of this server yet');
    const KeyVersion = await activeVersion('X-Wing');
    const sealedHybrid = await ok(goSdk.encrypt({ Plaintext: text('hybrid'), KeyVersion, Algorithm: 'X-Wing' }));
    expect(sealedHybrid.data).toMatchObject({ key_version: KeyVersion, algorithm: 'X-Wing' });
    const back = await ok(goSdk.decrypt({ Ciphertext: sealedHybrid.data.ciphertext, KeyVersion, Algorithm: 'X-Wing' }));
    expect(Buffer.from(back.data.plaintext).toString()).toBe('hybrid');
  });

  it('Composite-ML-DSA (hybrid signature): generate, sign and verify with its Algorithm', async (ctx) => {
    if (!hasAlgorithm('Composite-ML-DSA')) return ctx.skip('Composite-ML-DSA is not an algorithm of this server yet');
    const KeyVersion = await activeVersion('Composite-ML-DSA');
    const signed = await ok(goSdk.sign({ Message: text('hybrid'), KeyVersion, Algorithm: 'Composite-ML-DSA' }));
    expect(signed.data).toMatchObject({ key_version: KeyVersion, algorithm: 'Composite-ML-DSA' });
    const verified = await ok(
      goSdk.verify({ Message: text('hybrid'), Signature: signed.data.signature, KeyVersion, Algorithm: 'Composite-ML-DSA' }),
    );
    expect(verified.data.valid).toBe(true);
  });
});
