/**
 * The PostgreSQL store's schema, as numbered migrations applied in order at start. Each instance
 * runs `migrate` in one transaction under a transaction-scoped advisory lock, so instances
 * starting together apply each migration exactly once, and an instance never sees a half-built
 * schema. A database migrated by a newer qpher (a version this one does not know) is refused.
 *
 * The tables mirror sqlite.ts (same names, same columns, same constraints), plus `rate_buckets`:
 * the token buckets every instance shares (UNLOGGED: not written to the WAL, so a take costs no
 * disk flush; after a database crash the table is empty, i.e. every bucket is full again, which
 * is harmless).
 *
 * Migration 2 is SQLite's schema 3 (integrity.ts): API keys by HMAC digest (`digest`; the plain
 * SHA-256 `hash` of older rows is kept, nullable, until the key is next used), a MAC per key row
 * and API-key row (`mac`; `keys.mac` existed, unused, since 1), and a (tenant, time) index for the
 * per-tenant cap on idempotency records. Rows written before it have no MAC: the server refuses to
 * serve until `qpher migrate` has checked and sealed them. It is not additive for older instances
 * (they cannot read a key stored by digest only, nor write a MAC): stop them before an instance
 * of this version migrates the database.
 * Migration 3 adds `keys_by_status` (sqlite.ts has it too): additive, older instances ignore it.
 * A new migration is appended, never edited.
 * @module
 */
import type { PoolClient } from 'pg';

/** Key of the advisory lock that serialises migrations (one bigint; keyrings use the two-int form). */
const MIGRATION_LOCK = 8_130_497_221;

export const MIGRATIONS: readonly string[] = [
  // 1: everything the SQLite store holds, and shared rate limits.
  `
  CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
  );
  CREATE TABLE keys (
    tenant TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    key_version BIGINT NOT NULL CHECK (key_version BETWEEN 1 AND 4294967295),
    status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'archived')),
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    wrapped_seed BYTEA NOT NULL,
    mac BYTEA,
    PRIMARY KEY (tenant, algorithm, key_version)
  );
  CREATE UNIQUE INDEX one_active_key ON keys (tenant, algorithm) WHERE status = 'active';
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    hash BYTEA NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE TABLE idempotency (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response TEXT,
    updated_ms BIGINT NOT NULL,
    committed BOOLEAN NOT NULL DEFAULT FALSE,
    owner TEXT,
    PRIMARY KEY (tenant, key)
  );
  CREATE INDEX idempotency_updated ON idempotency (updated_ms);
  CREATE UNLOGGED TABLE rate_buckets (
    id TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_ms DOUBLE PRECISION NOT NULL,
    allowed BOOLEAN NOT NULL
  );
  `,
  // 2: integrity MACs and HMAC API-key digests (sqlite.ts schema 3), the tenant/time index.
  `
  ALTER TABLE api_keys ALTER COLUMN hash DROP NOT NULL;
  ALTER TABLE api_keys ADD COLUMN digest BYTEA UNIQUE;
  ALTER TABLE api_keys ADD COLUMN mac BYTEA;
  ALTER TABLE api_keys ADD CONSTRAINT api_keys_digest_or_hash CHECK ((digest IS NULL) <> (hash IS NULL));
  CREATE INDEX idempotency_by_tenant_time ON idempotency (tenant, updated_ms);
  `,
  // 3: kms.list with a status filter reads one page and a count from an index range, not the
  // whole keyring (sqlite.ts has the same index). Partial: the active key has one_active_key, and a
  // lookup by version, which names no status, can then only use the primary key; without the
  // predicate a table not yet analysed may plan it on this index and walk the keyring's entries.
  `
  CREATE INDEX keys_by_status ON keys (tenant, algorithm, status, key_version) WHERE status <> 'active';
  `,
];

/** Brings the schema to the newest version; returns the versions it applied (empty if none). */
export async function migrate(client: PoolClient): Promise<number[]> {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new SchemaTooNewError(current, MIGRATIONS.length);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      applied.push(version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(`the database has schema version ${found}; this qpher understands up to ${known}`);
  }
}
