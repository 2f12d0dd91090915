/**
 * The Worker path of LocalBackend, in Node: a stand-in Worker runs the real handler over
 * fake-indexeddb, with structured cloning both ways as a real Worker has. What this covers is the
 * proxy's bookkeeping (ids, crashes, unreadable messages, close, restart); real Chromium is the
 * e2e suite's job.
 */
import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../../src/backends/local/index.js';
import { createHandler } from '../../../src/backends/local/handler.js';
import { startIndexedDbEngine } from '../../../src/backends/local/indexeddb-engine.js';
import type { MainToWorker } from '../../../src/backends/local/protocol.js';

type Mode = 'ok' | 'crash-on-call' | 'fail-load' | 'garble';

class StandInWorker extends EventTarget {
  static made: StandInWorker[] = [];
  readonly #handle = createHandler(startIndexedDbEngine);
  readonly received: MainToWorker[] = [];
  terminated = false;
  readonly mode: Mode;
  constructor(mode: Mode) {
    super();
    this.mode = mode;
    StandInWorker.made.push(this);
    if (mode === 'fail-load') setTimeout(() => this.dispatchEvent(new Event('error', { cancelable: true })), 5);
  }
  postMessage(message: MainToWorker): void {
    const data = structuredClone(message);
    this.received.push(data);
    if (this.terminated || this.mode === 'fail-load') return;
    if (this.mode === 'crash-on-call' && data.type === 'call') {
      setTimeout(() => this.dispatchEvent(new Event('error', { cancelable: true })), 5);
      return;
    }
    if (this.mode === 'garble' && data.type === 'call') {
      setTimeout(() => this.dispatchEvent(new MessageEvent('messageerror')), 5);
      return;
    }
    void this.#handle(data).then((reply) => {
      if (reply && !this.terminated) this.dispatchEvent(new MessageEvent('message', { data: structuredClone(reply) }));
    });
  }
  terminate(): void {
    this.terminated = true;
  }
}

beforeAll(() => {
  // Feature probe: a Worker constructor and IndexedDB make LocalBackend pick the Worker runtime.
  (globalThis as { Worker?: unknown }).Worker = StandInWorker;
});

const worker = (mode: Mode) => () => new StandInWorker(mode) as unknown as Worker;
let n = 0;
const dbName = () => `qpher-wt-${++n}`;

describe('LocalBackend over a Worker', () => {
  it('chooses the Worker when the features are there, starts lazily, and answers by id', async () => {
    StandInWorker.made = [];
    const backend = new LocalBackend({ worker: worker('ok'), dbName: dbName(), tenant: 'ten' });
    expect(StandInWorker.made).toHaveLength(0);
    const info = await backend.info();
    expect(info).toMatchObject({ runtime: 'worker', store: 'indexeddb', provider: 'noble' });
    const [a, b] = await Promise.all([
      backend.call('kms.generate', { algorithm: 'Kyber768' }, { requestId: 'a' }),
      backend.call('kms.generate', { algorithm: 'Dilithium3' }, { requestId: 'b' }),
    ]);
    expect(a).toMatchObject({ request_id: 'a', data: { algorithm: 'Kyber768', key_version: 1 } });
    expect(b).toMatchObject({ request_id: 'b', data: { algorithm: 'Dilithium3', key_version: 1 } });
    expect(StandInWorker.made).toHaveLength(1);
    expect(StandInWorker.made[0]!.received[0]).toMatchObject({ type: 'init', tenant: 'ten' });
    await backend.close();
    expect(StandInWorker.made[0]!.terminated).toBe(true);
  });

  it('forwards size limits to the Worker engine', async () => {
    const backend = new LocalBackend({ worker: worker('ok'), dbName: dbName(), limits: { maxPayloadBytes: 4 } });
    const over = await backend.call('kem.encrypt', { plaintext: btoa('12345'), key_version: 1 }, { requestId: 'l' });
    expect(over).toMatchObject({ error: { code: 'ERR_INVALID_001', message: expect.stringContaining('4 bytes') } });
    await backend.close();
  });

  it('starts eagerly when asked', () => {
    StandInWorker.made = [];
    new LocalBackend({ worker: worker('ok'), eager: true, dbName: dbName() });
    expect(StandInWorker.made).toHaveLength(1);
  });

  it('settles every pending call with ERR_SERVICE_001 when the Worker fails to load, and retries later', async () => {
    StandInWorker.made = [];
    const backend = new LocalBackend({ worker: worker('fail-load'), dbName: dbName() });
    const envelopes = await Promise.all(['x', 'y'].map((id) => backend.call('kms.list', { algorithm: 'Kyber768' }, { requestId: id })));
    for (const envelope of envelopes) expect(envelope).toMatchObject({ error: { code: 'ERR_SERVICE_001' } });
    expect(StandInWorker.made[0]!.terminated).toBe(true);
    expect(await backend.call('kms.list', { algorithm: 'Kyber768' }, { requestId: 'z' })).toMatchObject({
      error: { code: 'ERR_SERVICE_001' },
      request_id: 'z',
    });
    expect(StandInWorker.made).toHaveLength(2);
  });

  it('settles calls when the Worker crashes or sends an unreadable message', async () => {
    const crashing = new LocalBackend({ worker: worker('crash-on-call'), dbName: dbName() });
    expect(await crashing.call('kms.list', { algorithm: 'Kyber768' }, { requestId: 'c' })).toMatchObject({
      error: { code: 'ERR_SERVICE_001' },
    });
    const garbling = new LocalBackend({ worker: worker('garble'), dbName: dbName() });
    expect(await garbling.call('kms.list', { algorithm: 'Kyber768' }, { requestId: 'g' })).toMatchObject({
      error: { code: 'ERR_INTERNAL_001', message: 'Internal server error' },
    });
  });

  it('throwing Worker constructor and non-cloneable requests become envelopes', async () => {
    const broken = new LocalBackend({
      worker: () => {
        throw new DOMException('blocked', 'SecurityError');
      },
    });
    expect(await broken.call('kms.list', { algorithm: 'Kyber768' }, { requestId: 's' })).toMatchObject({
      error: { code: 'ERR_SERVICE_001' },
    });
    const backend = new LocalBackend({ worker: worker('ok'), dbName: dbName() });
    expect(await backend.call('kms.list', { algorithm: () => 1 }, { requestId: 'f' })).toMatchObject({
      error: { code: 'ERR_INVALID_001' },
    });
  });

  it('resolves pending calls with ERR_SERVICE_001 on close', async () => {
    const backend = new LocalBackend({ worker: worker('ok'), dbName: dbName() });
    const pending = backend.call('kms.generate', { algorithm: 'Dilithium3' }, { requestId: 'p' });
    await backend.close();
    expect(await pending).toMatchObject({ error: { code: 'ERR_SERVICE_001', message: 'LocalBackend is closed' } });
  });
});
