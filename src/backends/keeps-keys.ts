/**
 * The rule that keeps keys from being lost: a store that outlives this process needs a wrapping
 * key that outlives it too. Its own module, free of imports, because the browser's main-thread
 * LocalBackend checks its options with it and must stay small.
 * @module
 */
import type { KeyStore } from '../stores/keystore.js';

/**
 * Why a persistent store needs a wrapping key it keeps: without one, seeds would be wrapped under
 * a key of this process, and every key would be lost with it.
 */
export function assertStoreCanKeepKeys(store: KeyStore | undefined, wrapper: unknown): void {
  if (store === undefined || wrapper !== undefined || store.ephemeral === true || typeof store.wrappingKey === 'function') return;
  throw new TypeError(
    '"wrapper" option is required with this "store": it keeps keys beyond this process, and seeds wrapped under a ' +
      'throwaway key would be lost with it. Pass a SeedWrapper (aesGcmSeedWrapper(key) with a key you keep), or a ' +
      'store that offers wrappingKey() or is ephemeral (MemoryKeyStore).',
  );
}
