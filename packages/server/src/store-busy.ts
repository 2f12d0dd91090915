/**
 * The store's one temporary failure: another process has held SQLite's write lock past the busy
 * timeout. It is a ServiceUnavailableError (ERR_SERVICE_001, 503, retryable), so the engine
 * answers it like any other outage, and the app maps it to 503 without knowing SQLite's codes.
 * @module
 */
import { ServiceUnavailableError } from 'qpher/host';

export class StoreBusyError extends ServiceUnavailableError {
  constructor() {
    super('Key store is busy; retry the request');
  }
}
