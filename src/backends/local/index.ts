/**
 * The local backend: the engine running on this machine, with no server. In Node it runs
 * in-process over the given store (memory by default).
 * @module
 */
import type { Envelope } from '../../contract/envelope.js';
import type { OperationName } from '../../contract/operations.js';
import { errorEnvelope } from '../../contract/envelope.js';
import type { Engine, EngineOptions } from '../../engine/engine.js';
import type { Backend, CallOptions } from '../backend.js';

export interface LocalBackendOptions extends EngineOptions {
  /** Keyrings are namespaced by tenant. Default `"local"`. */
  tenant?: string;
}

export class LocalBackend implements Backend {
  readonly #tenant: string;
  readonly #engine: Promise<Engine>;

  constructor(options: LocalBackendOptions = {}) {
    this.#tenant = options.tenant ?? 'local';
    // Imported on first construction so the engine (and its crypto) is a separate chunk in bundles.
    this.#engine = import('../../engine/engine.js').then(({ Engine }) => Engine.create(options));
    this.#engine.catch(() => {}); // surfaced per call as ERR_SERVICE_001, not as an unhandled rejection
  }

  async call(operation: OperationName, request: unknown, options: CallOptions & { requestId: string }): Promise<Envelope> {
    options.signal?.throwIfAborted();
    let engine: Engine;
    try {
      engine = await this.#engine;
    } catch {
      return errorEnvelope('ERR_SERVICE_001', 'Local engine failed to start', options.requestId);
    }
    const envelope = await engine.execute({ tenant: this.#tenant }, operation, request, options.requestId);
    options.signal?.throwIfAborted();
    return envelope;
  }

  async close(): Promise<void> {
    const engine = await this.#engine.catch(() => undefined);
    await engine?.store.close?.();
  }
}
