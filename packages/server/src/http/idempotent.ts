/**
 * `Idempotency-Key` on mutating operations (see idempotency.ts for the records and their
 * lifetimes). Without the header the request runs as usual. With it, per (tenant, key):
 * - the first request reserves the key, runs, and stores its answer unless it was a 5xx (a 5xx
 *   releases the key, so a retry runs again);
 * - a repeat with the same request replays the stored answer (`Idempotent-Replayed: true`), with
 *   a different request is refused (400), and while the first is still running waits up to
 *   `waitMs` for it, then answers 503;
 * - a first request interrupted after its change was committed cannot be replayed or re-run
 *   safely: 503, with advice to check the keyring.
 * The run happens inside `store.run` when the store has it: that is how the SQLite store marks
 * the reservation committed in the same transaction as the keyring change (`KeyStore.update`).
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { type ErrorCode, errorEnvelope, type Envelope, isErrorEnvelope, type OperationName, OPERATIONS, successEnvelope } from 'qpher/host';
import { type IdempotencyStore, isValidIdempotencyKey, requestFingerprint, type StoredResponse } from '../idempotency.js';
import { type Env, fail, type Outcome, respond } from './context.js';

export interface IdempotentOptions {
  store: IdempotencyStore;
  /** How long a repeat waits for an in-flight request with the same key. */
  waitMs: number;
  now: () => number;
}

const POLL_MS = 25;

export function idempotent(options: IdempotentOptions): (name: OperationName) => MiddlewareHandler<Env> {
  const { store, waitMs, now } = options;
  return (name) => async (c, next) => {
    const idempotencyKey = OPERATIONS[name].mutates ? c.req.header('idempotency-key') : undefined;
    if (idempotencyKey === undefined) return next();
    if (!isValidIdempotencyKey(idempotencyKey)) {
      return fail(c, 'ERR_INVALID_001', 'Validation failed: Idempotency-Key must be 1-255 printable ASCII characters without spaces');
    }
    const tenant = c.var.apiKey.tenant;
    const fingerprint = await requestFingerprint(name, c.var.request, c.var.rawText);
    const deadline = now() + waitMs;
    let owner: string;
    for (;;) {
      const reservation = await store.reserve(tenant, idempotencyKey, fingerprint, now());
      if (reservation.state === 'replay') {
        const response = respond(c, replayed(reservation.response, c.var.requestId), reservation.response.status);
        response.headers.set('Idempotent-Replayed', 'true');
        return response;
      }
      if (reservation.state === 'mismatch') {
        return fail(c, 'ERR_INVALID_001', 'Validation failed: this Idempotency-Key was already used with a different request');
      }
      if (reservation.state === 'acquired') {
        owner = reservation.owner;
        break;
      }
      if (reservation.state === 'unknown') {
        return fail(
          c,
          'ERR_SERVICE_001',
          'The first request with this Idempotency-Key was interrupted after its change was saved, and its response is lost; ' +
            'check the keyring (GET /api/v1/kms/keys) rather than retrying with this key',
        );
      }
      if (now() >= deadline) {
        const response = fail(c, 'ERR_SERVICE_001', 'A request with this Idempotency-Key is still in progress; retry later');
        response.headers.set('Retry-After', '1');
        return response;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }

    // Hono hands an error thrown further down to onError and resolves `next()` with its response;
    // rethrowing it here lets `store.run` see the failure (and roll back what it must).
    const running = async (): Promise<Outcome> => {
      await next();
      if (c.error) throw c.error;
      return c.var.outcome;
    };
    let stored = false;
    try {
      const { envelope, status } = store.run ? await store.run(tenant, idempotencyKey, owner, running) : await running();
      if (status < 500) {
        const record: StoredResponse = isErrorEnvelope(envelope) ? { status, error: envelope.error } : { status, data: envelope.data };
        await store.complete(tenant, idempotencyKey, owner, record, now());
        stored = true;
      }
    } catch (error) {
      if (error !== c.error) throw error; // onError already answered c.error
    } finally {
      if (!stored) await store.release(tenant, idempotencyKey, owner);
    }
  };
}

function replayed(response: StoredResponse, requestId: string): Envelope {
  if (response.error) return errorEnvelope(response.error.code as ErrorCode, response.error.message, requestId);
  return successEnvelope(response.data, requestId);
}
