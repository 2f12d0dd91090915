/**
 * The engine as the Worker runs it: keyrings in IndexedDB, seeds wrapped with AES-256-GCM under
 * the database's non-extractable wrapping key (created once, shared by every tab of the origin).
 * @module
 */
import { Engine, type EngineOptions } from '../../engine/engine.js';
import { aesGcmSeedWrapper } from '../../engine/seed-wrapper.js';
import { IndexedDbKeyStore } from '../../stores/indexeddb.js';
import type { InitMessage } from './protocol.js';

export async function startIndexedDbEngine(init: InitMessage, options: Omit<EngineOptions, 'store' | 'wrapper'> = {}): Promise<Engine> {
  const store = new IndexedDbKeyStore(init.dbName);
  const wrapper = aesGcmSeedWrapper(await store.wrappingKey());
  return Engine.create({
    onError: (error, operation) => console.error(`[qpher worker] unexpected error in ${operation}:`, error),
    ...(init.limits ? { limits: init.limits } : {}),
    ...options,
    store,
    wrapper,
  });
}
