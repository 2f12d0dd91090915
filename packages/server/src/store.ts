/**
 * The one interface of the server's store, whatever keeps it: SQLite (sqlite.ts, the embedded
 * default, one machine) or PostgreSQL (postgres.ts, shared by many `qpher serve` instances).
 * compose.ts picks one from `--database`. Everything is async, so the app, the CLI and the master
 * key check never depend on which one it is.
 *
 * What a store holds: keyrings (KeyStore, with the idempotency commit handshake documented in
 * src/stores/keystore.ts), API keys (HMAC digests only, every row MAC'd, integrity.ts), idempotency records and the master-key check
 * value. A temporary failure of the store (a lock held too long, the database unreachable, a full
 * connection pool) is always a StoreBusyError (503 ERR_SERVICE_001), never a raw driver error.
 * @module
 */
import type { KeyStore, Scope } from 'qpher/host';
import type { ApiKeyLookup, ApiKeyRecord } from './auth.js';
import type { Integrity, LegacyKeyRow } from './integrity.js';
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

  /**
   * Gives the store the integrity keys derived from the master key (integrity.ts); before this,
   * no key row or API key can be read or written. A row whose MAC fails is refused
   * (IntegrityError) and reported to `onTamper` (which row, never its data).
   */
  attachIntegrity(integrity: Integrity, onTamper?: (row: string) => void): void;
  /** Rows written before integrity MACs existed; the server refuses to serve until they are sealed. */
  legacyRows(): Promise<{ keys: LegacyKeyRow[]; apiKeys: number }>;
  /** Seals the given (checked) legacy key rows and every legacy API-key row with their MACs. */
  sealLegacyRows(checked: readonly LegacyKeyRow[]): Promise<{ keys: number; apiKeys: number }>;

  /** The record of a presented API key, found by its HMAC digest (or a sealed legacy SHA-256). */
  findApiKey(apiKey: string): Promise<ApiKeyRecord | undefined>;
  /** Creates an API key for `tenant`; returns the key (shown once, never stored) and its id. */
  issueApiKey(tenant: string, scopes: readonly Scope[], now?: Date): Promise<{ key: string; id: string }>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Returns false when no unrevoked key has this id. */
  revokeApiKey(id: string, now?: Date): Promise<boolean>;

  reserve(tenant: string, key: string, fingerprint: string, nowMs: number): Promise<Reservation>;
  complete(tenant: string, key: string, owner: string, response: StoredResponse, nowMs: number): Promise<void>;
  release(tenant: string, key: string, owner: string): Promise<void>;
  run<T>(tenant: string, key: string, owner: string, fn: () => Promise<T>): Promise<T>;

  /**
   * Rate limiting shared by every process on this store, when the store can keep it (PostgreSQL);
   * `undefined` means each process keeps its own buckets in memory (SQLite).
   */
  sharedRateLimiter?(limit: RateLimit): RateLimiter;

  /** Readiness: the store answers a query now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
