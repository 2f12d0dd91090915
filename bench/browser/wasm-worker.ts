/**
 * A LocalBackend Worker that runs the wasm provider (liboqs): the library's handler and
 * IndexedDB engine, with the provider built from the two Emscripten modules of
 * @oqs/liboqs-js. They are imported by path: the package's exports map does not expose its
 * dist files, and its own loader builds its import path at run time, which bundlers cannot
 * follow. Vite makes each a lazy chunk (~60 KB, WebAssembly inlined). docs/performance.md shows
 * the same pattern for apps.
 */
import { createHandler, serveWorker, type WorkerScope } from '../../src/backends/local/handler.js';
import { startIndexedDbEngine } from '../../src/backends/local/indexeddb-engine.js';
import { wasmProvider, type OqsModule } from '../../src/crypto/providers/wasm.js';

type Factory = { default: () => Promise<OqsModule> };
const factories = {
  // @ts-expect-error: untyped Emscripten module
  mlKem768: () => import('../../node_modules/@oqs/liboqs-js/dist/ml-kem-768.min.js').then((m: Factory) => m.default()),
  // @ts-expect-error: untyped Emscripten module
  mlDsa65: () => import('../../node_modules/@oqs/liboqs-js/dist/ml-dsa-65.min.js').then((m: Factory) => m.default()),
};

serveWorker(
  self as unknown as WorkerScope,
  createHandler(async (init) => startIndexedDbEngine(init, { provider: await wasmProvider(factories) })),
);
