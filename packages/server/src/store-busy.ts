/**
 * The store's one temporary failure: SQLite's write lock held by another process past the busy
 * timeout, or PostgreSQL unreachable, restarting, out of pooled connections or past a statement
 * timeout. It is a ServiceUnavailableError (ERR_SERVICE_001, 503, retryable), so the engine answers
 * it like any other outage, and the app maps it to 503 without knowing either database's codes.
 * @module
 */
import { ServiceUnavailableError } from 'qpher/host';

export class StoreBusyError extends ServiceUnavailableError {
  constructor(message = 'Key store is busy; retry the request') {
    super(message);
  }
}
