/**
 * `qpher/local`: the facade and the local backend. In a browser this pulls in only the
 * main-thread proxy; the engine, its crypto and zod live in the Worker chunk the bundler emits
 * for `new Worker(new URL('./worker.js', import.meta.url))`. In Node the engine is loaded by a
 * dynamic import on first use.
 * @module
 */
export { LocalBackend, type LocalBackendOptions, type LocalBackendInfo } from './backends/local/index.js';
export { IndexedDbKeyStore } from './stores/indexeddb.js';
export { MemoryKeyStore } from './stores/memory.js';
export type { KeyStore, StoredKey, KeyringChange, KeyringView, KeyPage, KeyPageQuery } from './stores/keystore.js';
export type { SeedWrapper } from './engine/seed-wrapper.js';
export * from './common.js';
