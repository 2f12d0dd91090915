import { describe, expect, it } from 'vitest';
import { LocalBackend } from '../../../src/backends/local/index.js';
import { MemoryKeyStore } from '../../../src/stores/memory.js';
import { Qpher } from '../../../src/qpher.js';
import { unwrap } from '../../../src/errors.js';

describe('LocalBackend in Node (in-process)', () => {
  it('runs in-process over a memory store and reports it', async () => {
    const backend = new LocalBackend();
    expect(await backend.info()).toEqual({ runtime: 'in-process', persisted: undefined, provider: 'noble', store: 'memory' });
    expect(await new LocalBackend({ store: new MemoryKeyStore() }).info()).toMatchObject({ store: 'custom' });
  });

  it('runs the whole key lifecycle through the facade', async () => {
    const q = new Qpher({ backend: new LocalBackend({ eager: true }) });
    const kem = unwrap(await q.kms.generate({ algorithm: 'Kyber768' }));
    expect(kem.key_version).toBe(1);
    const { ciphertext } = unwrap(await q.kem.encrypt({ plaintext: new TextEncoder().encode('hello'), key_version: 1 }));
    expect(unwrap(await q.kem.decrypt({ ciphertext, key_version: 1 })).plaintext).toBe(btoa('hello'));
    unwrap(await q.kms.generate({ algorithm: 'Dilithium3' }));
    const { signature } = unwrap(await q.signature.sign({ message: 'aGk=', key_version: 1 }));
    expect(unwrap(await q.signature.verify({ message: 'aGk=', signature, key_version: 1 })).valid).toBe(true);
    expect(unwrap(await q.kms.rotate({ algorithm: 'Dilithium3' })).key_version).toBe(2);
    expect(await q.signature.sign({ message: 'aGk=', key_version: 1 })).toMatchObject({ error: { code: 'ERR_FORBIDDEN_001' } });
    expect(unwrap(await q.kms.retire({ algorithm: 'Dilithium3', key_version: 2 })).status).toBe('retired');
    expect(unwrap(await q.kms.archive({ algorithm: 'Dilithium3', key_version: 1 })).status).toBe('archived');
    await q.close();
  });

  it('answers with envelopes after close, on timeout, and rejects on abort', async () => {
    const backend = new LocalBackend();
    const q = new Qpher({ backend });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(q.kms.list({ algorithm: 'Kyber768' }, { signal: controller.signal })).rejects.toThrow('stop');
    expect(await q.kms.list({ algorithm: 'Kyber768' }, { requestId: 'r1' })).toMatchObject({ data: { keys: [] }, request_id: 'r1' });
    expect(await q.kms.generate({ algorithm: 'Dilithium3' }, { timeoutMs: 0 })).toMatchObject({ error: { code: 'ERR_TIMEOUT_001' } });
    await q.close();
    expect(await q.kms.list({ algorithm: 'Kyber768' }, { requestId: 'r2' })).toMatchObject({
      error: { code: 'ERR_SERVICE_001', message: 'LocalBackend is closed' },
      request_id: 'r2',
    });
  });

  it('rejects bad options with TypeError naming them', () => {
    expect(() => new LocalBackend({ tenant: '' })).toThrow('"tenant"');
    expect(() => new LocalBackend({ dbName: '' })).toThrow('"dbName"');
    expect(() => new LocalBackend({ worker: 1 as never })).toThrow('"worker"');
  });
});

describe('the shared handler', () => {
  it('answers a failed engine start with ERR_SERVICE_001 and retries it on the next call', async () => {
    const { createHandler } = await import('../../../src/backends/local/handler.js');
    const { Engine } = await import('../../../src/engine/engine.js');
    const { ServiceUnavailableError } = await import('../../../src/errors.js');
    let attempts = 0;
    let failFirst!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (failFirst = resolve));
    const handle = createHandler(async () => {
      if (++attempts === 1) {
        await firstAttempt;
        throw new ServiceUnavailableError('Browser storage quota exceeded: could not open the key store');
      }
      return Engine.create();
    });
    const list = (id: number) =>
      handle({ type: 'call', id, operation: 'kms.list', request: { algorithm: 'Kyber768' }, requestId: `r${id}` });
    expect(await list(1)).toMatchObject({ id: 1, envelope: { error: { code: 'ERR_INTERNAL_001' } } }); // no init yet
    await handle({ type: 'init', dbName: 'x', tenant: 't' });
    const waiting = list(2); // waits for the first start, which then fails
    failFirst();
    expect(await waiting).toMatchObject({
      id: 2,
      envelope: { error: { code: 'ERR_SERVICE_001', message: 'Browser storage quota exceeded: could not open the key store' } },
    });
    expect(await list(3)).toMatchObject({ id: 3, envelope: { data: { keys: [] }, request_id: 'r3' } });
    expect(await list(4)).toMatchObject({ envelope: { data: { keys: [] } } });
    expect(attempts).toBe(2);
    expect(await handle({ type: 'call', id: 5, operation: 'kms.destroy', request: {}, requestId: 'r5' })).toMatchObject({
      envelope: { error: { code: 'ERR_NOT_FOUND_001' } },
    });
  });
});

describe('the main-thread proxy stays small', () => {
  it('imports no engine, crypto, zod or store statically (they belong to the Worker chunk)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { dirname, resolve } = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const start = fileURLToPath(new URL('../../../src/backends/local/index.ts', import.meta.url));
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      // Static value imports and re-exports; `import type`, `export type` and `import()` are free.
      for (const [, what, from] of source.matchAll(/^(?:import|export)\s+(?!type\b)([^;]*?)\s+from\s+'([^']+)'/gm)) {
        if (/^\{\s*type\s+[^,]*\}$/.test(what!.trim())) continue;
        if (from!.startsWith('.')) await visit(resolve(dirname(file), from!.replace(/\.js$/, '.ts')));
        else bare.add(from!);
      }
    };
    await visit(start);
    const files = [...seen].map((f) => f.slice(f.indexOf('/src/') + 1)).sort();
    expect(files).toEqual([
      'src/backends/keeps-keys.ts',
      'src/backends/local/index.ts',
      'src/contract/envelope.ts',
      'src/contract/request-id.ts',
    ]);
    expect([...bare]).toEqual([]);
  });
});
