/**
 * `Idempotency-Key` for the mutating KMS calls (generate, rotate, retire, archive), so that an
 * automatic retry never rotates twice.
 *
 * - Scope: per tenant. Records live 24 h (stored with the keys, in the server's SQLite or PostgreSQL store).
 * - The first request with a key *reserves* it, runs, and stores its status and data (or error).
 *   A repeat with the same operation and body gets that status and data back with its own
 *   `request_id` and `Idempotent-Replayed: true`, and changes nothing.
 * - The same key with another operation or body: 400 ERR_INVALID_001.
 * - A repeat while the first is still running waits for it (bounded). A reservation whose
 *   process died is taken over after `PENDING_TTL_MS` and the request runs again, unless the store
 *   saw its keyring change commit (`run` marks the reservation in the same transaction): then
 *   the outcome is `unknown`, and the request is not run twice.
 * - 5xx outcomes are not stored: the reservation is released so that a retry runs again.
 * - Each reservation has a random owner token. Taking over a stalled reservation gives it a new
 *   owner; the stalled request, should it wake up, can then neither commit its keyring change
 *   (the store checks the owner inside the keyring transaction and rolls it back:
 *   ReservationLostError, 503) nor complete or release the new owner's record. So one key never
 *   changes the keyring twice, however long a handler stalls (Node's request timeout bounds
 *   receiving a request, not running its handler).
 * @module
 */

import { ServiceUnavailableError } from 'qpher/host';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const PENDING_TTL_MS = 60_000;
/** Idempotency records a tenant may hold in a store; past it, its oldest answered record makes room. */
export const DEFAULT_MAX_IDEMPOTENCY_RECORDS_PER_TENANT = 10_000;
/**
 * Expired records are deleted by a store at most this many at a time, through its time index, so
 * that a sweep never holds a lock (or the event loop) for long however many records expired...
 */
export const IDEMPOTENCY_SWEEP_BATCH = 200;
/** ...one sweep per this many reservations of a process. */
export const IDEMPOTENCY_SWEEP_EVERY = 50;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface StoredResponse {
  status: number;
  data?: unknown;
  error?: { code: string; message: string };
}

export type Reservation =
  /** `owner`: this reservation's token, for `run`, `complete` and `release`. */
  | { state: 'acquired'; owner: string }
  | { state: 'replay'; response: StoredResponse }
  | { state: 'mismatch' }
  | { state: 'pending' }
  /** The first request's change was committed but its process died before storing the response. */
  | { state: 'unknown' };

export interface IdempotencyStore {
  /** Atomically: reserve (tenant, key) for this fingerprint, or report what already holds it. */
  reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation> | Reservation;
  /** Stores the response, if `owner` still holds the reservation. */
  complete(tenant: string, key: string, owner: string, response: StoredResponse, nowMs: number): Promise<void> | void;
  /** Drops the reservation, if `owner` still holds it and nothing was committed. */
  release(tenant: string, key: string, owner: string): Promise<void> | void;
  /**
   * Runs the request that holds the reservation. A store that keeps keyrings too marks the
   * reservation as committed inside the keyring transaction, so that a crash between the commit and
   * `complete` cannot make a retry run the change twice; and if `owner` no longer holds the
   * reservation (it was taken over), it throws ReservationLostError there, rolling the change back.
   */
  run?<T>(tenant: string, key: string, owner: string, fn: () => Promise<T>): Promise<T>;
}

/** A random reservation owner token. */
export function newOwnerToken(): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The request's Idempotency-Key reservation was taken over while it ran; its change is rolled back. */
export class ReservationLostError extends ServiceUnavailableError {
  override name = 'ReservationLostError';
  constructor() {
    super(
      'This request ran past its Idempotency-Key reservation, which another request with the same key took over; ' +
        'its change was rolled back. Retry with the same key to get the outcome',
    );
  }
}

/** Printable ASCII without spaces, 1-255 characters (a UUID is the usual choice). */
export function isValidIdempotencyKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * What "the same request" means: the operation plus the body. A flat JSON object (what every
 * mutating call takes) is canonicalised by sorting its keys, so a retry that re-serialises the
 * body in another order still matches; anything else is compared by its exact text.
 */
export async function requestFingerprint(operation: string, body: unknown, rawText: string): Promise<string> {
  const canonical = isFlatObject(body)
    ? JSON.stringify(
        Object.keys(body)
          .sort()
          .map((k) => [k, body[k]]),
      )
    : `raw:${rawText}`;
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${operation}\n${canonical}`));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function isFlatObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === null || typeof v !== 'object');
}

interface MemoryRecord {
  owner: string;
  fingerprint: string;
  createdMs: number;
  response: StoredResponse | undefined;
}

/** An in-memory IdempotencyStore, for the in-process app and tests. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #records = new Map<string, MemoryRecord>();

  reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Reservation {
    const id = JSON.stringify([tenant, key]);
    if (this.#records.size >= 10_000) {
      for (const [k, r] of this.#records) if (isExpired(r, nowMs)) this.#records.delete(k);
    }
    const existing = this.#records.get(id);
    if (existing && !isExpired(existing, nowMs)) {
      if (existing.fingerprint !== fingerprint) return { state: 'mismatch' };
      return existing.response ? { state: 'replay', response: existing.response } : { state: 'pending' };
    }
    const owner = newOwnerToken();
    this.#records.set(id, { owner, fingerprint, createdMs: nowMs, response: undefined });
    return { state: 'acquired', owner };
  }

  complete(tenant: string, key: string, owner: string, response: StoredResponse, nowMs: number): void {
    const record = this.#records.get(JSON.stringify([tenant, key]));
    if (record?.owner === owner) Object.assign(record, { response, createdMs: nowMs });
  }

  release(tenant: string, key: string, owner: string): void {
    const id = JSON.stringify([tenant, key]);
    if (this.#records.get(id)?.owner === owner) this.#records.delete(id);
  }
}

function isExpired(record: MemoryRecord, nowMs: number): boolean {
  return nowMs - record.createdMs >= (record.response ? IDEMPOTENCY_TTL_MS : PENDING_TTL_MS);
}
