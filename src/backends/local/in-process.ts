/**
 * The local backend without a Worker (Node, or any runtime given an explicit store): the same
 * handler as the Worker, called directly. Loaded by a dynamic import, so a browser's main thread
 * never downloads the engine.
 * @module
 */
import { Engine, type EngineOptions } from '../../engine/engine.js';
import { createHandler, type Handler } from './handler.js';

export interface InProcessEngine {
  handle: Handler;
  /** Closes the engine's store (if it started). */
  close(): Promise<void>;
}

export function startInProcess(options: EngineOptions): InProcessEngine {
  let engine: Promise<Engine> | undefined;
  const handle = createHandler(() => (engine = Engine.create(options)));
  return {
    handle,
    async close() {
      const started = await engine?.catch(() => undefined);
      await started?.store.close?.();
    },
  };
}
