/**
 * The local backend without a Worker (Node, or any runtime given an explicit store): the same
 * handler as the Worker, called directly. Loaded by a dynamic import, so a browser's main thread
 * never downloads the engine.
 * @module
 */
import { selectProvider } from '../../crypto/select-provider.js';
import { Engine, type EngineOptions } from '../../engine/engine.js';
import { createHandler, type Handler } from './handler.js';

export interface InProcessEngine {
  handle: Handler;
  /** Closes the engine's store (if it started). */
  close(): Promise<void>;
  /** The provider the engine runs (starts it if needed): the given one, else `auto` (native on Node 24+, else noble). */
  provider(): Promise<string>;
}

export function startInProcess(options: EngineOptions): InProcessEngine {
  let engine: Promise<Engine> | undefined;
  const setup = async () => Engine.create({ ...options, provider: options.provider ?? (await selectProvider('auto')) });
  const handle = createHandler(() => (engine = setup()));
  return {
    handle,
    async provider() {
      engine ??= setup();
      return (await engine).providerName;
    },
    async close() {
      const started = await engine?.catch(() => undefined);
      await started?.store.close?.();
    },
  };
}
