/**
 * The local backend's dedicated module Worker: the engine, its crypto and the IndexedDB key
 * store live here, off the page's main thread. No message to the page ever carries a seed, but
 * this is no barrier against the page's own script: same-origin script can send the Worker any
 * request, and can open the same IndexedDB and use the non-extractable wrapping key to unwrap
 * the seeds (docs/security.md, "Key material"). This file only wires `onmessage` to the shared
 * handler.
 * @module
 */
import { createHandler, serveWorker, type WorkerScope } from './handler.js';
import { startIndexedDbEngine } from './indexeddb-engine.js';

serveWorker(self as unknown as WorkerScope, createHandler(startIndexedDbEngine));
