/**
 * The local backend: the engine on this machine, no server.
 *
 * - In a browser (a `Worker` constructor and `indexedDB` are present), the engine runs in a
 *   dedicated module Worker with its keyrings in IndexedDB. This module is only the main-thread
 *   proxy: it imports no crypto, no zod and no engine, posts `{ type: 'call', id, operation,
 *   request, requestId }` and resolves with the `{ type: 'envelope', id, envelope }` it gets back.
 * - Elsewhere (Node), or when given an explicit `store`, `wrapper` or `provider` (objects that
 *   cannot cross to a Worker), the same handler runs in-process, loaded by a dynamic import.
 *
 * Every call settles with an envelope: a Worker that fails to load or crashes (`error`), or a
 * message that cannot be read (`messageerror`), resolves every pending call with
 * ERR_SERVICE_001 / ERR_INTERNAL_001, and the next call starts a fresh Worker. After `close()`
 * calls resolve with ERR_SERVICE_001. The choice of runtime never silently falls back: if the
 * Worker cannot run, calls say so rather than move keys onto the main thread.
 * @module
 */
import { errorEnvelope, type Envelope } from '../../contract/envelope.js';
import type { OperationName } from '../../contract/operations.js';
import { requestIdFor } from '../../contract/request-id.js';
import type { EngineOptions } from '../../engine/engine.js';
import type { Backend, CallOptions } from '../backend.js';
import { assertStoreCanKeepKeys } from '../keeps-keys.js';
import type { InProcessEngine } from './in-process.js';
import type { CallMessage, InitMessage, MainToWorker, WorkerToMain } from './protocol.js';

export interface LocalBackendOptions extends EngineOptions {
  /** Keyrings are namespaced by tenant. Default `"local"`. */
  tenant?: string;
  /** The IndexedDB database (one per app) the Worker keeps keyrings in. Default `"qpher"`. */
  dbName?: string;
  /** Start the Worker (or in-process engine) now instead of on the first call. Default false. */
  eager?: boolean;
  /**
   * Ask the browser for persistent storage (`navigator.storage.persist()`) when the Worker
   * starts, so keys are not evicted under storage pressure. Default true; `info()` reports the answer.
   */
  persist?: boolean;
  /** Makes the Worker. Default: this package's `worker.js` as a module Worker. */
  worker?: () => Worker;
  /**
   * The provider the Worker runs, as `info()` reports it: `wasm` when `worker` makes a Worker
   * that loads liboqs (docs/performance.md). Default `noble`, which the default Worker runs.
   */
  workerProvider?: 'noble' | 'wasm';
}

export interface LocalBackendInfo {
  runtime: 'worker' | 'in-process';
  /** The answer of `navigator.storage.persist()`; `undefined` where there is no such API (Node). */
  persisted: boolean | undefined;
  /** The primitive provider: `native` in-process on Node 24+ unless one was given (`custom`). */
  provider: 'noble' | 'native' | 'wasm' | 'custom';
  store: 'indexeddb' | 'memory' | 'custom';
}

interface Transport {
  send(message: CallMessage): Promise<Envelope>;
  close(): Promise<void>;
}

let workerSupport: boolean | undefined;

/** Can this runtime host the Worker engine? Decided once from the features it needs. */
function supportsWorker(): boolean {
  workerSupport ??= typeof globalThis.Worker === 'function' && typeof globalThis.indexedDB?.open === 'function';
  return workerSupport;
}

export class LocalBackend implements Backend {
  readonly #options: LocalBackendOptions;
  readonly #init: InitMessage;
  readonly #runtime: LocalBackendInfo['runtime'];
  #transport: Transport | undefined;
  #persisted: Promise<boolean | undefined> | undefined;
  #closed = false;

  constructor(options: LocalBackendOptions = {}) {
    const { tenant = 'local', dbName = 'qpher' } = options;
    if (typeof tenant !== 'string' || tenant === '') throw new TypeError('"tenant" option must be a non-empty string');
    if (typeof dbName !== 'string' || dbName === '') throw new TypeError('"dbName" option must be a non-empty string');
    if (options.worker !== undefined && typeof options.worker !== 'function') {
      throw new TypeError('"worker" option must be a function that returns a Worker');
    }
    assertStoreCanKeepKeys(options.store, options.wrapper);
    this.#options = options;
    // Plain data crosses to the Worker; functions (`onError`, `now`) stay behind: they apply in-process only.
    this.#init = { type: 'init', dbName, tenant, ...(options.limits ? { limits: { ...options.limits } } : {}) };
    const inProcess = options.store !== undefined || options.wrapper !== undefined || options.provider !== undefined;
    this.#runtime = !inProcess && supportsWorker() ? 'worker' : 'in-process';
    if (options.eager) this.#start();
  }

  async call(operation: OperationName, request: unknown, options: CallOptions & { requestId: string }): Promise<Envelope> {
    const { signal, timeoutMs } = options;
    const requestId = requestIdFor(options.requestId);
    signal?.throwIfAborted();
    if (this.#closed) return errorEnvelope('ERR_SERVICE_001', 'LocalBackend is closed', requestId);
    const answer = this.#start().send({ type: 'call', id: 0, operation, request, requestId });
    if (!signal && timeoutMs === undefined) return answer;

    // The Worker still answers an abandoned call; its late envelope is simply dropped.
    return new Promise<Envelope>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => resolve(errorEnvelope('ERR_TIMEOUT_001', `Local call timed out after ${timeoutMs} ms`, requestId)), timeoutMs);
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      void answer.then(resolve).finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      });
    });
  }

  /** Where the engine runs, whether storage is persistent, and which store and provider it uses. */
  async info(): Promise<LocalBackendInfo> {
    const worker = this.#runtime === 'worker';
    return {
      runtime: this.#runtime,
      persisted: worker ? await this.#askPersistence() : undefined,
      provider: worker ? (this.#options.workerProvider ?? 'noble') : await this.#inProcessProvider(),
      store: worker ? 'indexeddb' : this.#options.store === undefined ? 'memory' : 'custom',
    };
  }

  async #inProcessProvider(): Promise<LocalBackendInfo['provider']> {
    if (this.#options.provider !== undefined) return 'custom';
    const transport = this.#closed ? undefined : this.#start();
    const name = transport instanceof InProcessTransport ? await transport.provider() : undefined;
    return name === 'native' || name === 'wasm' ? name : 'noble';
  }

  /** Ends the Worker (or closes the in-process store). Pending and later calls get ERR_SERVICE_001. */
  async close(): Promise<void> {
    this.#closed = true;
    const transport = this.#transport;
    this.#transport = undefined;
    await transport?.close();
  }

  #start(): Transport {
    if (this.#transport) return this.#transport;
    if (this.#runtime === 'worker') {
      void this.#askPersistence();
      this.#transport = new WorkerTransport(this.#options.worker ?? defaultWorker, this.#init);
    } else {
      this.#transport = new InProcessTransport(this.#options, this.#init);
    }
    return this.#transport;
  }

  /** Asked from the main thread: `navigator.storage.persist()` is not available in Workers. */
  #askPersistence(): Promise<boolean | undefined> {
    this.#persisted ??= askPersistence(this.#options.persist !== false);
    return this.#persisted;
  }
}

/** A literal `new Worker(new URL(...), { type: 'module' })`, so that bundlers (Vite) emit the Worker chunk. */
function defaultWorker(): Worker {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'qpher' });
}

async function askPersistence(ask: boolean): Promise<boolean | undefined> {
  const storage = globalThis.navigator?.storage;
  if (typeof storage?.persisted !== 'function') return undefined;
  try {
    if (await storage.persisted()) return true;
    return ask && typeof storage.persist === 'function' ? await storage.persist() : false;
  } catch {
    return undefined;
  }
}

class WorkerTransport implements Transport {
  readonly #make: () => Worker;
  readonly #init: InitMessage;
  readonly #pending = new Map<number, { resolve: (envelope: Envelope) => void; requestId: string }>();
  #worker: Worker | undefined;
  #nextId = 1;

  constructor(make: () => Worker, init: InitMessage) {
    this.#make = make;
    this.#init = init;
    try {
      this.#open();
    } catch {
      // Reported by the first call, which tries again.
    }
  }

  send(message: CallMessage): Promise<Envelope> {
    return new Promise((resolve) => {
      let worker: Worker;
      try {
        worker = this.#worker ?? this.#open();
      } catch {
        resolve(errorEnvelope('ERR_SERVICE_001', 'The local engine Worker could not be started', message.requestId));
        return;
      }
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, requestId: message.requestId });
      try {
        worker.postMessage({ ...message, id } satisfies MainToWorker);
      } catch (error) {
        // DataCloneError: the request holds something that is not plain data (a function, a class instance...).
        this.#pending.delete(id);
        resolve(errorEnvelope('ERR_INVALID_001', `Validation failed: the request is not plain data (${nameOf(error)})`, message.requestId));
      }
    });
  }

  async close(): Promise<void> {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#failAll('ERR_SERVICE_001', 'LocalBackend is closed');
  }

  #open(): Worker {
    const worker = this.#make();
    worker.addEventListener('message', (event: MessageEvent<WorkerToMain>) => {
      const reply = event.data;
      if (reply?.type !== 'envelope') return;
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      pending.resolve(reply.envelope);
    });
    worker.addEventListener('error', (event) => {
      // A failed load (404, syntax error, blocked by CSP) or an uncaught error: start afresh next call.
      event.preventDefault();
      if (this.#worker === worker) {
        worker.terminate();
        this.#worker = undefined;
        this.#failAll('ERR_SERVICE_001', 'The local engine Worker failed (it crashed or could not be loaded)');
      }
    });
    worker.addEventListener('messageerror', () => {
      // Which call the unreadable message answered is unknown: settle them all rather than leave one hanging.
      this.#failAll('ERR_INTERNAL_001', 'Internal server error');
    });
    worker.postMessage(this.#init satisfies MainToWorker);
    this.#worker = worker;
    return worker;
  }

  #failAll(code: 'ERR_SERVICE_001' | 'ERR_INTERNAL_001', message: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { resolve, requestId } of pending) resolve(errorEnvelope(code, message, requestId));
  }
}

class InProcessTransport implements Transport {
  readonly #engine: Promise<InProcessEngine>;

  constructor(options: EngineOptions, init: InitMessage) {
    // A dynamic import, so a browser bundle keeps the engine (and its crypto) out of the main chunk.
    this.#engine = import('./in-process.js').then(({ startInProcess }) => {
      const engine = startInProcess(options);
      void engine.handle(init);
      return engine;
    });
    this.#engine.catch(() => {}); // surfaced per call as ERR_SERVICE_001, not as an unhandled rejection
  }

  async send(message: CallMessage): Promise<Envelope> {
    let engine: InProcessEngine;
    try {
      engine = await this.#engine;
    } catch {
      return errorEnvelope('ERR_SERVICE_001', 'Local engine failed to start', message.requestId);
    }
    const reply = await engine.handle(message);
    return reply?.envelope ?? errorEnvelope('ERR_INTERNAL_001', 'Internal server error', message.requestId);
  }

  async provider(): Promise<string | undefined> {
    const engine = await this.#engine.catch(() => undefined);
    return engine?.provider().catch(() => undefined);
  }

  async close(): Promise<void> {
    const engine = await this.#engine.catch(() => undefined);
    await engine?.close();
  }
}

function nameOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : 'Error';
}
