/** Engine behaviour that the contract suite cannot see from outside: secrecy, atomicity, failures. */
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, test, vi } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { ephemeralSeedWrapper, type SeedWrapper } from '../../src/engine/seed-wrapper.js';
import { bytesToBase64 } from '../../src/encoding.js';
import {
  ForbiddenError,
  KeyVersionNotFoundError,
  LocalBackend,
  MemoryKeyStore,
  Qpher,
  QpherError,
  ServiceUnavailableError,
  unwrap,
  type KeyStore,
} from '../../src/index.js';

const caller = { tenant: 't1' };
const id = '00000000-0000-4000-8000-000000000000';

/** A wrapper that remembers every seed it wraps, so tests can search for them elsewhere. */
async function recordingWrapper(): Promise<{ wrapper: SeedWrapper; seeds: Uint8Array[] }> {
  const inner = await ephemeralSeedWrapper();
  const seeds: Uint8Array[] = [];
  return {
    seeds,
    wrapper: {
      wrap: (seed, binding) => {
        seeds.push(seed.slice());
        return inner.wrap(seed, binding);
      },
      unwrap: (wrapped, binding) => inner.unwrap(wrapped, binding),
    },
  };
}

describe('engine', () => {
  test('private seeds never appear in any envelope or in the store', async () => {
    const store = new MemoryKeyStore();
    const { wrapper, seeds } = await recordingWrapper();
    const engine = await Engine.create({ store, wrapper });
    const seen: string[] = [];
    const run = async (op: string, req: unknown) => {
      const envelope = await engine.execute(caller, op, req, id);
      seen.push(JSON.stringify(envelope));
      return envelope;
    };
    await run('kms.generate', { algorithm: 'Kyber768' });
    await run('kms.rotate', { algorithm: 'Kyber768' });
    await run('kms.generate', { algorithm: 'Dilithium3' });
    await run('kem.encrypt', { plaintext: 'aGk=', key_version: 2, mode: 'deterministic', salt: 'c2FsdA==' });
    await run('signature.sign', { message: 'aGk=', key_version: 1 });
    await run('kms.list', { algorithm: 'Kyber768' });
    await run('kms.list', { algorithm: 'Dilithium3' });
    await run('kem.decrypt', { ciphertext: 'AAAA', key_version: 9 });
    for (const algorithm of ['Kyber768', 'Dilithium3'] as const) {
      for (const key of (await store.list('t1', algorithm, { after: 0, limit: 1000 })).keys)
        seen.push(JSON.stringify(key), bytesToHex(key.wrapped_seed));
    }
    expect(seeds).toHaveLength(3);
    const haystack = seen.join('\n');
    for (const seed of seeds) {
      expect(haystack).not.toContain(bytesToBase64(seed));
      expect(haystack).not.toContain(bytesToHex(seed));
      expect(haystack).not.toContain(bytesToHex(seed.subarray(0, 16)));
    }
  });

  test('concurrent rotates never mint a version twice or lose one', async () => {
    const engine = await Engine.create();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => engine.execute(caller, 'kms.rotate', { algorithm: 'Dilithium3' }, id)),
    );
    const versions = results.map((e) => unwrap(e as never) as { key_version: number }).map((d) => d.key_version);
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const { keys } = await engine.store.list('t1', 'Dilithium3', { after: 0, limit: 1000 });
    expect(keys.filter((k) => k.status === 'active').map((k) => k.key_version)).toEqual([20]);
  });

  test('tenants never see each other’s keys', async () => {
    const engine = await Engine.create();
    unwrap(await engine.execute({ tenant: 'a' }, 'kms.generate', { algorithm: 'Kyber768' }, id));
    const sealed = unwrap(await engine.execute({ tenant: 'a' }, 'kem.encrypt', { plaintext: 'aGk=', key_version: 1 }, id)) as {
      ciphertext: string;
    };
    expect(await engine.execute({ tenant: 'b' }, 'kms.list', { algorithm: 'Kyber768' }, id)).toMatchObject({ data: { keys: [] } });
    unwrap(await engine.execute({ tenant: 'b' }, 'kms.generate', { algorithm: 'Kyber768' }, id));
    // tenant b's version 1 is another key: a's ciphertext does not open under it
    expect(await engine.execute({ tenant: 'b' }, 'kem.decrypt', { ciphertext: sealed.ciphertext, key_version: 1 }, id)).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Decryption failed' },
    });
  });

  test('a wrapped seed moved to another tenant does not unwrap (the wrap binds tenant and key)', async () => {
    const store = new MemoryKeyStore();
    const onError = vi.fn();
    const engine = await Engine.create({ store, onError });
    unwrap(await engine.execute({ tenant: 'a' }, 'kms.generate', { algorithm: 'Kyber768' }, id));
    const stolen = await store.get('a', 'Kyber768', 1);
    await store.update('b', 'Kyber768', () => ({ put: [stolen!], result: undefined }));
    const envelope = await engine.execute({ tenant: 'b' }, 'kem.encrypt', { plaintext: 'aGk=', key_version: 1 }, id);
    expect(envelope).toMatchObject({
      error: {
        code: 'ERR_CRYPTO_001',
        message: 'Key Kyber768 version 1 cannot be unwrapped: it was stored under another wrapping key, or its stored bytes changed',
      },
    });
    expect(onError).not.toHaveBeenCalled();
  });

  test('an unexpected store failure is ERR_INTERNAL_001 with a fixed message; the error goes to onError only', async () => {
    const secret = 'stack-and-secret-material';
    const fail = async (): Promise<never> => {
      throw new Error(secret);
    };
    const broken: KeyStore = {
      ephemeral: true,
      get: fail,
      active: fail,
      list: fail,
      update: async () => {
        throw new Error(secret);
      },
    };
    const onError = vi.fn();
    const engine = await Engine.create({ store: broken, onError });
    const envelope = await engine.execute(caller, 'kms.list', { algorithm: 'Kyber768' }, id);
    expect(envelope).toEqual({
      error: { code: 'ERR_INTERNAL_001', error_code: 'ERR_INTERNAL_001', message: 'Internal server error' },
      request_id: id,
      timestamp: expect.any(String),
    });
    expect(JSON.stringify(envelope)).not.toContain(secret);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: secret }), 'kms.list');
  });

  test('a store may refuse with a QpherError, which becomes its envelope (e.g. quota exceeded)', async () => {
    const full: KeyStore = {
      ephemeral: true,
      get: async () => undefined,
      active: async () => undefined,
      list: async () => ({ keys: [], total: 0 }),
      update: async () => {
        throw new ServiceUnavailableError('Key store is full: storage quota exceeded');
      },
    };
    const engine = await Engine.create({ store: full });
    expect(await engine.execute(caller, 'kms.generate', { algorithm: 'Kyber768' }, id)).toMatchObject({
      error: { code: 'ERR_SERVICE_001', message: 'Key store is full: storage quota exceeded' },
    });
  });

  test('an unknown operation is ERR_NOT_FOUND_001', async () => {
    const engine = await Engine.create();
    for (const op of ['kms.destroy', '__proto__', 'constructor', '']) {
      expect(await engine.execute(caller, op, {}, id)).toMatchObject({ error: { code: 'ERR_NOT_FOUND_001' } });
    }
  });

  test('limits are configurable', async () => {
    const engine = await Engine.create({ limits: { maxPayloadBytes: 4 } });
    unwrap(await engine.execute(caller, 'kms.generate', { algorithm: 'Kyber768' }, id));
    // 'AAAAAAA=' is 5 bytes, one over; 'AAAAAA==' is exactly 4
    expect(await engine.execute(caller, 'kem.encrypt', { plaintext: 'AAAAAAA=', key_version: 1 }, id)).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: plaintext exceeds the limit of 4 bytes' },
    });
    expect(await engine.execute(caller, 'kem.encrypt', { plaintext: 'AAAAAA==', key_version: 1 }, id)).toHaveProperty('data');
  });
});

describe('facade', () => {
  test('resolves to envelopes, accepts bytes, and never throws for API errors', async () => {
    const q = new Qpher({ backend: new LocalBackend() });
    await expect(q.kem.encrypt({ plaintext: new Uint8Array([1, 2, 3]), key_version: 1 })).resolves.toMatchObject({
      error: { code: 'ERR_KEM_005' },
    });
    await expect(q.kem.encrypt(undefined as never)).resolves.toMatchObject({ error: { code: 'ERR_INVALID_001' } });
    unwrap(await q.kms.generate({ algorithm: 'Kyber768' }));
    const { ciphertext } = unwrap(await q.kem.encrypt({ plaintext: new Uint8Array([1, 2, 3]), key_version: 1 }));
    expect(unwrap(await q.kem.decrypt({ ciphertext, key_version: 1 }))).toEqual({
      plaintext: 'AQID',
      key_version: 1,
      algorithm: 'Kyber768',
    });
  });

  test('unwrap throws the QpherError subclass with code, status and request id', async () => {
    const q = new Qpher({ backend: new LocalBackend() });
    const requestId = '6f1c2a7e-52b3-4c61-9a0f-1e2d3c4b5a69';
    const error = await q.kms
      .get({ algorithm: 'Kyber768', key_version: 3 }, { requestId })
      .then(unwrap)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyVersionNotFoundError);
    expect(error).toBeInstanceOf(QpherError);
    expect(error).toMatchObject({
      code: 'ERR_KEM_005',
      status: 404,
      requestId,
      name: 'KeyVersionNotFoundError',
      message: 'Key version not found',
    });
    unwrap(await q.kms.generate({ algorithm: 'Kyber768' }));
    const forbidden = await q.kms
      .generate({ algorithm: 'Kyber768' })
      .then(unwrap)
      .catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect(forbidden).toMatchObject({ status: 403 });
  });

  test('an aborted signal rejects with its reason, as fetch does', async () => {
    const q = new Qpher({ backend: new LocalBackend() });
    const reason = new Error('user left');
    await expect(q.kms.list({ algorithm: 'Kyber768' }, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  test('a missing backend is a TypeError naming the option', () => {
    expect(() => new Qpher({} as never)).toThrow(TypeError);
    expect(() => new Qpher({} as never)).toThrow(/"backend"/);
  });
});
