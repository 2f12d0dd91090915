/**
 * `Idempotency-Key` for the mutating KMS calls (generate, rotate, retire, archive), so that an
 * automatic retry never rotates twice.
 *
 * - Scope: per tenant. Records live 24 h (stored with the keys in SQLite on the server).
 * - The first request with a key *reserves* it, runs, and stores its status and data (or error).
 *   A repeat with the same operation and body gets that status and data back with its own
 *   `request_id` and `Idempotent-Replayed: true`, and changes nothing.
 * - The same key with another operation or body: 400 ERR_INVALID_001.
 * - A repeat while the first is still running waits for it (bounded). A reservation whose
 *   process died is taken over after `PENDING_TTL_MS` and the request runs again, unless the store
 *   saw its keyring change commit (`run` marks the reservation in the same transaction): then
 *   the outcome is `unknown`, and the request is not run twice.
 * - 5xx outcomes are not stored: the reservation is released so that a retry runs again.
 * @module
 */

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const PENDING_TTL_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface StoredResponse {
  status: number;
  data?: unknown;
  error?: { code: string; message: string };
}

export type Reservation =
  | { state: 'acquired' }
  | { state: 'replay'; response: StoredResponse }
  | { state: 'mismatch' }
  | { state: 'pending' }
  /** The first request's change was committed but its process died before storing the response. */
  | { state: 'unknown' };

export interface IdempotencyStore {
  /** Atomically: reserve (tenant, key) for this fingerprint, or report what already holds it. */
  reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation> | Reservation;
  complete(tenant: string, key: string, response: StoredResponse, nowMs: number): Promise<void> | void;
  release(tenant: string, key: string): Promise<void> | void;
  /**
   * Runs the request that holds the reservation. A store that keeps keyrings too marks the
   * reservation as committed inside the keyring transaction, so that a crash between the commit and
   * `complete` cannot make a retry run the change twice.
   */
  run?<T>(tenant: string, key: string, fn: () => Promise<T>): Promise<T>;
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
    this.#records.set(id, { fingerprint, createdMs: nowMs, response: undefined });
    return { state: 'acquired' };
  }

  complete(tenant: string, key: string, response: StoredResponse, nowMs: number): void {
    const record = this.#records.get(JSON.stringify([tenant, key]));
    if (record) Object.assign(record, { response, createdMs: nowMs });
  }

  release(tenant: string, key: string): void {
    this.#records.delete(JSON.stringify([tenant, key]));
  }
}

function isExpired(record: MemoryRecord, nowMs: number): boolean {
  return nowMs - record.createdMs >= (record.response ? IDEMPOTENCY_TTL_MS : PENDING_TTL_MS);
}
