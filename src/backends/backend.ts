/**
 * The Backend interface: what the Qpher facade needs from a place that runs operations. The
 * local backend (engine in-process or in a Worker) and the remote backend (REST over fetch)
 * implement it and return identical envelopes.
 * @module
 */
import type { Envelope } from '../contract/envelope.js';
import type { OperationName } from '../contract/operations.js';

/** Per-call options, the optional second argument of every facade method. */
export interface CallOptions {
  /**
   * Sent as `X-Request-ID` and echoed in `request_id` when it is 1-128 characters of
   * `[A-Za-z0-9._:-]`; otherwise (or when absent) a UUID v4 is made (src/contract/request-id.ts).
   */
  requestId?: string;
  /** Aborting rejects the call with the signal's reason, as `fetch` does. */
  signal?: AbortSignal;
  /** One deadline for the whole call (retries included); when it passes the call resolves to ERR_TIMEOUT_001. */
  timeoutMs?: number;
}

export interface Backend {
  call(operation: OperationName, request: unknown, options: CallOptions & { requestId: string }): Promise<Envelope>;
  close?(): void | Promise<void>;
}
