/**
 * The local backend's dedicated module Worker: the engine, its crypto and the IndexedDB key
 * store live here, off the page's main thread and out of reach of the page's JavaScript. This
 * file only wires `onmessage` to the shared handler.
 * @module
 */
import { createHandler, serveWorker, type WorkerScope } from './handler.js';
import { startIndexedDbEngine } from './indexeddb-engine.js';

serveWorker(self as unknown as WorkerScope, createHandler(startIndexedDbEngine));
