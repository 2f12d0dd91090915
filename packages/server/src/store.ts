/**
 * The one interface of the server's store, whatever keeps it: SQLite (sqlite.ts, the embedded
 * default, one machine) or PostgreSQL (postgres.ts, shared by many `qpher serve` instances).
 * compose.ts picks one from `--database`. Everything is async, so the app, the CLI and the master
 * key check never depend on which one it is.
 *
 * What a store holds: keyrings (KeyStore, with the idempotency commit handshake documented in
 * src/stores/keystore.ts), API keys (hashes only), idempotency records and the master-key check
 * value. A temporary failure of the store (a lock held too long, the database unreachable, a full
 * connection pool) is always a StoreBusyError (503 ERR_SERVICE_001), never a raw driver error.
 * @module
 */
import type { KeyStore } from 'qpher/host';
import type { ApiKeyLookup, ApiKeyRecord } from './auth.js';
import type { IdempotencyStore, Reservation, StoredResponse } from './idempotency.js';
import type { RateLimit, RateLimiter } from './rate-limit.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface ServerStore extends KeyStore, ApiKeyLookup, IdempotencyStore {
  readonly kind: StoreKind;
  /** Where the data is, for logs and error messages: a file path, or a database URL without its password. */
  readonly location: string;

  getMeta(name: string): Promise<Uint8Array | undefined>;
  /** Stores `value` unless `name` exists; returns the value that is stored afterwards. */
  initMeta(name: string, value: Uint8Array): Promise<Uint8Array>;

  findApiKey(hash: Uint8Array): Promise<ApiKeyRecord | undefined>;
  createApiKey(record: Omit<ApiKeyRecord, 'revoked_at'>): Promise<void>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Returns false when no unrevoked key has this id. */
  revokeApiKey(id: string, now?: Date): Promise<boolean>;

  reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation>;
  complete(tenant: string, key: string, response: StoredResponse, nowMs: number): Promise<void>;
  release(tenant: string, key: string): Promise<void>;
  run<T>(tenant: string, key: string, fn: () => Promise<T>): Promise<T>;

  /**
   * Rate limiting shared by every process on this store, when the store can keep it (PostgreSQL);
   * `undefined` means each process keeps its own buckets in memory (SQLite).
   */
  sharedRateLimiter?(limit: RateLimit): RateLimiter;

  /** Readiness: the store answers a query now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
