/**
 * The wire between the main-thread LocalBackend and the engine in its Worker (or, in Node, the
 * same handler called in-process). A discriminated union on `type` with string literals,
 * so the compiler checks both ends.
 *
 * What crosses, and what never does: requests go in as the spec's JSON bodies; only envelopes
 * (the spec's response shapes, built by `successEnvelope`/`errorEnvelope`) come out. No message
 * type carries key material, and there is no operation that exports it. Errors cross as the
 * envelope's `{ code, message }` and are rebuilt by code on the main thread (`unwrap`).
 * @module
 */
import type { Envelope } from '../../contract/envelope.js';
import type { Limits } from '../../contract/schemas.js';

/** First message to a new Worker: which database and tenant its engine serves. */
export interface InitMessage {
  type: 'init';
  /** IndexedDB database name (one per app). */
  dbName: string;
  tenant: string;
  /** Size limits for the engine, when the app changed them. */
  limits?: Partial<Limits>;
}

/** One operation of the REST API, e.g. `kem.encrypt`, with the spec's request body. */
export interface CallMessage {
  type: 'call';
  id: number;
  operation: string;
  request: unknown;
  requestId: string;
}

export type MainToWorker = InitMessage | CallMessage;

/** The answer to one CallMessage: always an envelope, success or error. */
export interface EnvelopeMessage {
  type: 'envelope';
  id: number;
  envelope: Envelope;
}

export type WorkerToMain = EnvelopeMessage;
