/**
 * The remote backend: the Backend interface over a Qpher REST server (docs/server.md),
 * with the platform `fetch` only, so it runs in browsers, workers and Node alike.
 *
 * - Returns the server's envelope as is; when none comes back it builds one with the request id
 *   it sent: network failure -> ERR_SERVICE_001, deadline -> ERR_TIMEOUT_001, anything that is not
 *   an envelope (a proxy's HTML page, invalid JSON, a redirect) -> ERR_BAD_GATEWAY_001.
 * - Retries 429/502/503/504 and network failures with full-jitter backoff, honouring
 *   `Retry-After`; mutating KMS calls carry one `Idempotency-Key` on every attempt.
 * - `timeoutMs` is ONE deadline for the whole call, retries and sleeps included. An aborted
 *   `signal` rejects with its reason, as `fetch` does.
 * - The API key lives in a #private field: never in a message, a log or `JSON.stringify`.
 *
 * Must stay free of zod, noble and the engine (bundle budget of `Qpher` + `RemoteBackend`).
 * @module
 */
import { errorEnvelope, type Envelope } from '../../contract/envelope.js';
import { OPERATIONS, type OperationName } from '../../contract/operations.js';
import { requestIdFor } from '../../contract/request-id.js';
import type { Backend, CallOptions } from '../backend.js';
import { checkBaseUrl, readEnvelope, route } from './http.js';
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUSES } from './retry.js';

/** The subset of `fetch` the backend uses; pass your own (a test double, `app.request`, undici). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RemoteBackendOptions {
  /** Server root, e.g. `https://qpher.example.com`. Must be https: unless the host is loopback. */
  baseUrl: string | URL;
  /** Sent as `X-API-Key`. Printable ASCII, e.g. `qph_...`. */
  apiKey: string;
  /** Default: the platform's `globalThis.fetch`, looked up at call time. */
  fetch?: FetchLike;
  /** Attempts after the first one. Default 3. */
  retries?: number;
  /** Backoff base: retry n waits random(0, min(maxDelayMs, baseDelayMs * 2^n)). Default 500. */
  baseDelayMs?: number;
  /** Backoff cap. Default 10 000. */
  maxDelayMs?: number;
  /** One deadline for a whole call, retries included. Default 30 000. */
  timeoutMs?: number;
}

/** Per-call options of the remote backend: the facade's, plus `retries`. */
export interface RemoteCallOptions extends CallOptions {
  retries?: number;
}

interface Outcome {
  envelope: Envelope;
  retry: boolean;
  retryAfterMs?: number | undefined;
}

/** Largest delay `setTimeout` honours (2^31 - 1 ms); beyond it timers fire at once. */
const MAX_TIMER_MS = 2_147_483_647;
/** What may go in an HTTP header value without `fetch` throwing (and quoting it in its message). */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export class RemoteBackend implements Backend {
  /** The server root, normalised (no trailing slash). */
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: FetchLike;
  readonly #retries: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;

  constructor(options: RemoteBackendOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('RemoteBackend options must be an object');
    this.baseUrl = checkBaseUrl(options.baseUrl);
    const { apiKey, fetch } = options;
    if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('"apiKey" option must be a non-empty string');
    if (!HEADER_VALUE.test(apiKey)) {
      throw new TypeError('"apiKey" option must be printable ASCII without leading or trailing spaces');
    }
    this.#apiKey = apiKey;
    if (fetch !== undefined && typeof fetch !== 'function') throw new TypeError('"fetch" option must be a function');
    // Called as a plain function: browsers throw "Illegal invocation" when fetch gets another `this`.
    this.#fetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#retries = count('retries', options.retries ?? 3);
    this.#baseDelayMs = delay('baseDelayMs', options.baseDelayMs ?? 500);
    this.#maxDelayMs = delay('maxDelayMs', options.maxDelayMs ?? 10_000);
    this.#timeoutMs = timeout('timeoutMs', options.timeoutMs ?? 30_000);
  }

  async call(operation: OperationName, request: unknown, options: RemoteCallOptions = {}): Promise<Envelope> {
    if (!Object.hasOwn(OPERATIONS, operation)) throw new TypeError(`unknown operation "${String(operation)}"`);
    const { signal } = options;
    signal?.throwIfAborted();
    const requestId = requestIdFor(options.requestId);
    const timeoutMs = options.timeoutMs === undefined ? this.#timeoutMs : timeout('timeoutMs', options.timeoutMs);
    const retries = options.retries === undefined ? this.#retries : count('retries', options.retries);

    const target = route(this.baseUrl, operation, request);
    if ('invalid' in target) return errorEnvelope('ERR_INVALID_001', target.invalid, requestId);
    const { method, mutates } = OPERATIONS[operation];
    const headers: Record<string, string> = { accept: 'application/json', 'x-api-key': this.#apiKey, 'x-request-id': requestId };
    if (target.body !== undefined) headers['content-type'] = 'application/json';
    // One key per call, the same on every attempt: the server replays instead of rotating twice.
    if (mutates) headers['idempotency-key'] = globalThis.crypto.randomUUID();
    const init: RequestInit = { method, headers, body: target.body ?? null, redirect: 'manual' };

    // One controller for the whole call: aborted by the caller's signal (with its reason) or by
    // the deadline (with `expired`), it cancels the fetch, the body read and any backoff sleep.
    const controller = new AbortController();
    const expired = new DOMException(`Deadline of ${timeoutMs} ms passed`, 'TimeoutError');
    const deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => controller.abort(expired), timeoutMs);
    const forward = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    try {
      for (let attempt = 0; ; attempt++) {
        const outcome = await this.#attempt(target.url, { ...init, signal: controller.signal }, requestId);
        if (!outcome.retry || attempt >= retries) return outcome.envelope;
        const wait = outcome.retryAfterMs ?? backoffDelay(attempt, this.#baseDelayMs, this.#maxDelayMs);
        // No time left for another attempt after the wait: the answer we have beats a timeout.
        if (wait >= deadline - Date.now()) return outcome.envelope;
        await sleep(wait, controller.signal);
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      if (controller.signal.reason === expired) {
        return errorEnvelope('ERR_TIMEOUT_001', `No response from the Qpher server within ${timeoutMs} ms`, requestId);
      }
      throw signal?.reason ?? controller.signal.reason;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }

  /** One HTTP exchange. Rejects only when the call's signal aborted; everything else is an Outcome. */
  async #attempt(url: string, init: RequestInit & { signal: AbortSignal }, requestId: string): Promise<Outcome> {
    const { signal } = init;
    const fetch = this.#fetch;
    const unreachable = (): Outcome => ({
      envelope: errorEnvelope('ERR_SERVICE_001', 'Could not reach the Qpher server (network error)', requestId),
      retry: true,
    });
    let response: Response;
    try {
      response = await untilAborted((async () => fetch(url, init))(), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      return unreachable();
    }
    const { status } = response;
    if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
      // Not followed: fetch would carry X-API-Key to wherever the Location points.
      response.body?.cancel().catch(() => {});
      return {
        envelope: errorEnvelope(
          'ERR_BAD_GATEWAY_001',
          `The server answered with a redirect (HTTP ${status}), which is not followed`,
          requestId,
        ),
        retry: false,
      };
    }
    let text: string;
    try {
      text = await untilAborted(response.text(), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      return unreachable(); // the connection broke mid-body
    }
    let envelope: Envelope | undefined;
    try {
      envelope = readEnvelope(JSON.parse(text), requestId);
    } catch {
      // not JSON: a proxy's error page, a truncated body; the body itself is never quoted
    }
    const retry = RETRYABLE_STATUSES.has(status);
    return {
      envelope: envelope ?? errorEnvelope('ERR_BAD_GATEWAY_001', `The server answered HTTP ${status} without a Qpher envelope`, requestId),
      retry,
      retryAfterMs: retry ? parseRetryAfter(response.headers.get('retry-after')) : undefined,
    };
  }

  /** Only the URL: the API key stays out of logs and serialised state. */
  toJSON(): { baseUrl: string } {
    return { baseUrl: this.baseUrl };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RemoteBackend { baseUrl: '${this.baseUrl}' }`;
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

function number(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`"${name}" option must be a number`);
  return value;
}

function count(name: string, value: unknown): number {
  const n = number(name, value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new RangeError(`"${name}" option must be an integer from 0 to 100`);
  return n;
}

function delay(name: string, value: unknown): number {
  const n = number(name, value);
  if (n < 0 || n > MAX_TIMER_MS) throw new RangeError(`"${name}" option must be from 0 to ${MAX_TIMER_MS} ms`);
  return n;
}

function timeout(name: string, value: unknown): number {
  const n = number(name, value);
  if (!(n > 0) || n > MAX_TIMER_MS) throw new RangeError(`"${name}" option must be more than 0 and at most ${MAX_TIMER_MS} ms`);
  return n;
}
