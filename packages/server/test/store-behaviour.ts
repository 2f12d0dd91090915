/**
 * What every ServerStore (store.ts) must do, whatever keeps it: one-row key reads, paged and
 * counted lists, atomic keyring updates over a small view and their constraints; API keys stored
 * as HMAC digests; every key row and API-key row MACed and checked on read (a row changed straight
 * in the database is refused and reported), legacy rows sealed by
 * `qpher migrate`; idempotency records with owner tokens and the commit handshake of
 * src/stores/keystore.ts, swept in batches and capped per tenant. sqlite.test.ts and
 * postgres.test.ts run it on their store, with raw SQL on its database playing the attacker who
 * can write the database but lacks the master key.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyringView, StoredKey } from 'qpher/host';
import { ServiceUnavailableError } from 'qpher/host';
import {
  IDEMPOTENCY_SWEEP_BATCH,
  IDEMPOTENCY_SWEEP_EVERY,
  IDEMPOTENCY_TTL_MS,
  PENDING_TTL_MS,
  type Reservation,
  ReservationLostError,
} from '../src/idempotency.js';
import { Integrity } from '../src/integrity.js';
import { IntegrityError } from '../src/integrity-error.js';
import type { ServerStore } from '../src/store.js';

export const key = (key_version: number, status: StoredKey['status'] = 'active'): StoredKey => ({
  key_version,
  status,
  public_key: `pk${key_version}`,
  created_at: new Date(0).toISOString(),
  wrapped_seed: new Uint8Array([key_version, 1, 2]),
});

/** A store on a database of its own, and raw SQL on that database (no MACs, no checks). */
export interface OpenedStore<S extends ServerStore = ServerStore> {
  store: S;
  /** One statement with `$1`… placeholders; `changes`: rows inserted, updated or deleted. */
  sql(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; changes: number }>;
  close(): Promise<void>;
}

export type OpenStore = (options?: { maxIdempotencyRecordsPerTenant?: number }) => Promise<OpenedStore>;

export const TEST_INTEGRITY = Integrity.fromMasterKey(new Uint8Array(32).fill(9));

/** The reservation's owner token; fails the test unless it was acquired. */
export function owner(reservation: Reservation): string {
  if (reservation.state !== 'acquired') throw new Error(`expected acquired, got ${reservation.state}`);
  return reservation.owner;
}

const ACQUIRED = { state: 'acquired', owner: expect.stringMatching(/^[0-9a-f]{32}$/) };

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The whole keyring, for assertions only (the engine never reads one). */
const all = async (s: ServerStore, tenant: string, algorithm: 'Kyber768' | 'Dilithium3') =>
  (await s.list(tenant, algorithm, { after: 0, limit: 1000 })).keys;

/** `open()` gives a fresh store each time; the contract attaches the integrity keys itself. */
export function describeServerStore(name: string, open: OpenStore): void {
  describe(`${name}: the ServerStore contract`, { timeout: 60_000 }, () => {
    let main: OpenedStore;
    const tampered: string[] = [];
    const store = () => main.store;
    const sql = (text: string, params?: unknown[]) => main.sql(text, params);
    /** A fresh store with the integrity keys attached; closed by the caller. */
    const fresh = async (options?: { maxIdempotencyRecordsPerTenant?: number }) => {
      const opened = await open(options);
      opened.store.attachIntegrity(TEST_INTEGRITY, (row) => tampered.push(row));
      return opened;
    };

    beforeAll(async () => {
      main = await fresh();
    }, 60_000);
    afterAll(async () => {
      await main?.close();
    });

    it('refuses to touch keys or API keys before the integrity keys are attached', async () => {
      const bare = await open();
      try {
        await expect(bare.store.get('t', 'Kyber768', 1)).rejects.toThrow(/before attachIntegrity/);
        await expect(bare.store.issueApiKey('t', ['kms:read'])).rejects.toThrow(/before attachIntegrity/);
      } finally {
        await bare.close();
      }
    });

    it('reads back what update wrote, per (tenant, algorithm), one row at a time', async () => {
      await store().update('t', 'Kyber768', () => ({ put: [key(1)], result: null }));
      await store().update('t', 'Kyber768', (ring) => ({ put: [{ ...ring.active!, status: 'retired' }, key(2)], result: null }));
      expect((await all(store(), 't', 'Kyber768')).map((k) => [k.key_version, k.status])).toEqual([
        [1, 'retired'],
        [2, 'active'],
      ]);
      expect((await store().get('t', 'Kyber768', 2))!.wrapped_seed).toEqual(new Uint8Array([2, 1, 2]));
      expect(await store().get('t', 'Kyber768', 1)).toEqual(key(1, 'retired'));
      expect(await store().active('t', 'Kyber768')).toEqual(key(2));
      expect(await store().get('t', 'Kyber768', 3)).toBeUndefined();
      expect(await all(store(), 't', 'Dilithium3')).toEqual([]);
      expect(await all(store(), 'u', 'Kyber768')).toEqual([]);
      expect(await store().active('u', 'Kyber768')).toBeUndefined();
    });

    it('hands change a view of the active key, the highest version and the targeted version only', async () => {
      const views: unknown[] = [];
      const look = (ring: KeyringView) => ({ result: views.push(ring) });
      await store().update('v', 'Dilithium3', (ring) => ({
        put: [key(1, 'archived'), key(2, 'retired'), key(3)],
        result: views.push(ring),
      }));
      await store().update('v', 'Dilithium3', look, 2);
      await store().update('v', 'Dilithium3', look, 3);
      await store().update('v', 'Dilithium3', look, 9);
      await store().update('v', 'Dilithium3', look);
      expect(views).toEqual([
        { active: undefined, maxVersion: 0, target: undefined },
        { active: key(3), maxVersion: 3, target: key(2, 'retired') },
        { active: key(3), maxVersion: 3, target: key(3) },
        { active: key(3), maxVersion: 3, target: undefined },
        { active: key(3), maxVersion: 3, target: undefined },
      ]);
      // Overwriting a version that is not stored is a bug in the rule, not a silent insert.
      await expect(store().update('v', 'Dilithium3', () => ({ put: [key(2, 'archived'), key(0)], result: null }))).rejects.toThrow();
      expect(await store().get('v', 'Dilithium3', 2)).toEqual(key(2, 'retired'));
    });

    it('pages a keyring by version and status, and counts it', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => key(i + 1, i === 29 ? 'active' : i % 3 === 0 ? 'archived' : 'retired'));
      await store().update('p', 'Kyber768', () => ({ put: keys, result: null }));
      expect(await store().list('p', 'Kyber768', { after: 10, limit: 5 })).toEqual({ keys: keys.slice(10, 15), total: 30 });
      const archived = keys.filter((k) => k.status === 'archived');
      expect(await store().list('p', 'Kyber768', { status: 'archived', after: 4, limit: 3 })).toEqual({
        keys: archived.filter((k) => k.key_version > 4).slice(0, 3),
        total: archived.length,
      });
      expect(await store().list('p', 'Kyber768', { status: 'active', after: 0, limit: 0 })).toEqual({ keys: [], total: 1 });
      expect(await store().list('p', 'Kyber768', { status: 'retired', after: 0, limit: 100 })).toEqual({
        keys: keys.filter((k) => k.status === 'retired'),
        total: 19,
      });
      expect(await store().list('p', 'Kyber768', { after: 30, limit: 10 })).toEqual({ keys: [], total: 30 });
      expect(await store().list('p', 'Dilithium3', { after: 0, limit: 10 })).toEqual({ keys: [], total: 0 });
      expect(await store().list('p', 'Dilithium3', { status: 'active', after: 0, limit: 0 })).toEqual({ keys: [], total: 0 });
    });

    it('rolls back when change throws and when a constraint fails', async () => {
      await expect(
        store().update('t', 'Kyber768', () => {
          throw new Error('nope');
        }),
      ).rejects.toThrow('nope');
      // A second active key violates the one-active-key index: nothing of the change is kept.
      await expect(
        store().update('t', 'Kyber768', (ring) => ({
          put: [{ ...ring.active!, public_key: 'changed' }, key(ring.maxVersion + 1)],
          result: null,
        })),
      ).rejects.toThrow(/UNIQUE|unique/);
      expect((await all(store(), 't', 'Kyber768')).map((k) => k.key_version)).toEqual([1, 2]);
      expect((await store().active('t', 'Kyber768'))!.public_key).toBe('pk2');
    });

    it('stores API keys by HMAC digest only, lists and revokes them', async () => {
      const { key: apiKey, id } = await store().issueApiKey('t', ['kms:read']);
      expect(await store().findApiKey(apiKey)).toEqual({
        id,
        tenant: 't',
        scopes: ['kms:read'],
        created_at: expect.any(String),
        revoked_at: null,
      });
      expect(await store().findApiKey(`qph_${'A'.repeat(43)}`)).toBeUndefined();
      const [row] = (await sql('SELECT digest, hash FROM api_keys WHERE id = $1', [id])).rows as { digest: Buffer; hash: Buffer | null }[];
      expect(row!.hash).toBeNull();
      expect(Buffer.from(TEST_INTEGRITY.apiKeyDigest(apiKey)).equals(row!.digest)).toBe(true);
      expect(row!.digest.equals(sha256(apiKey))).toBe(false);
      expect((await store().listApiKeys()).find((r) => r.id === id)).toEqual({
        id,
        tenant: 't',
        scopes: ['kms:read'],
        created_at: expect.any(String),
        revoked_at: null,
      });
      expect(await store().revokeApiKey(id)).toBe(true);
      expect(await store().revokeApiKey(id)).toBe(false);
      expect(await store().revokeApiKey('key_unknown')).toBe(false);
      expect((await store().findApiKey(apiKey))?.revoked_at).not.toBeNull();
    });

    it('refuses a key row changed, swapped or inserted outside the store, on read and inside update, and names it', async () => {
      await store().update('tam', 'Kyber768', () => ({ put: [key(1, 'archived'), key(2)], result: null }));
      tampered.length = 0;
      // Un-archive version 1.
      expect((await sql("UPDATE keys SET status = 'retired' WHERE tenant = 'tam' AND key_version = 1")).changes).toBe(1);
      await expect(store().get('tam', 'Kyber768', 1)).rejects.toBeInstanceOf(IntegrityError);
      await expect(all(store(), 'tam', 'Kyber768')).rejects.toBeInstanceOf(IntegrityError);
      await expect(store().update('tam', 'Kyber768', (ring) => ({ result: ring }), 1)).rejects.toBeInstanceOf(IntegrityError);
      expect(tampered).toEqual(['key row tam/Kyber768/v1', 'key row tam/Kyber768/v1', 'key row tam/Kyber768/v1']);
      // Rows the operation does not read are not checked: the tampered version does not stop the others.
      expect((await store().get('tam', 'Kyber768', 2))?.key_version).toBe(2);
      await sql("UPDATE keys SET status = 'archived' WHERE tenant = 'tam' AND key_version = 1");
      expect(await all(store(), 'tam', 'Kyber768')).toHaveLength(2);
      // Move the row to another tenant (MAC and all): the MAC binds the tenant.
      await sql("UPDATE keys SET tenant = 'thief' WHERE tenant = 'tam' AND key_version = 2");
      await expect(store().active('thief', 'Kyber768')).rejects.toBeInstanceOf(IntegrityError);
      await sql("UPDATE keys SET tenant = 'tam' WHERE tenant = 'thief'");
      // Swap in another public key.
      await sql("UPDATE keys SET public_key = 'pk-attacker' WHERE tenant = 'tam' AND key_version = 2");
      await expect(store().active('tam', 'Kyber768')).rejects.toBeInstanceOf(IntegrityError);
      await expect(store().update('tam', 'Kyber768', (ring) => ({ result: ring }))).rejects.toBeInstanceOf(IntegrityError);
      await sql("UPDATE keys SET public_key = 'pk2' WHERE tenant = 'tam' AND key_version = 2");
      // A row without a MAC, or with a made-up one.
      await sql(
        "INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed, mac) VALUES ('tam', 'Dilithium3', 1, 'active', 'pk', 'then', $1, $2)",
        [Buffer.from([1, 2, 3]), Buffer.alloc(32, 1)],
      );
      await expect(store().list('tam', 'Dilithium3', { status: 'active', after: 0, limit: 1 })).rejects.toBeInstanceOf(IntegrityError);
      expect(tampered.at(-1)).toBe('key row tam/Dilithium3/v1');
      await sql("DELETE FROM keys WHERE tenant = 'tam' AND algorithm = 'Dilithium3'");
      expect(await all(store(), 'tam', 'Kyber768')).toHaveLength(2);
    });

    it('refuses an API-key row changed or minted outside the store, and names it', async () => {
      const { key: apiKey, id } = await store().issueApiKey('mint', ['kms:read']);
      tampered.length = 0;
      // Widen the scopes.
      await sql("UPDATE api_keys SET scopes = 'kms:read,kms:write' WHERE id = $1", [id]);
      await expect(store().findApiKey(apiKey)).rejects.toBeInstanceOf(IntegrityError);
      await expect(store().listApiKeys()).rejects.toBeInstanceOf(IntegrityError);
      await expect(store().revokeApiKey(id)).rejects.toBeInstanceOf(IntegrityError);
      expect(tampered).toEqual([`api key row ${id}`, `api key row ${id}`, `api key row ${id}`]);
      await sql("UPDATE api_keys SET scopes = 'kms:read' WHERE id = $1", [id]);
      expect(await store().findApiKey(apiKey)).toMatchObject({ id, scopes: ['kms:read'] });
      // A key of the attacker's making stored by its SHA-256 (anyone can compute that) is unknown...
      const forged = `qph_${'F'.repeat(43)}`;
      await sql("INSERT INTO api_keys (id, digest, tenant, scopes, created_at) VALUES ('key_forged1', $1, 'mint', 'kms:read', 'then')", [
        sha256(forged),
      ]);
      expect(await store().findApiKey(forged)).toBeUndefined();
      // ...and as a legacy row, without the MAC that only the master key gives, refused.
      const legacy = `qph_${'L'.repeat(43)}`;
      await sql(
        "INSERT INTO api_keys (id, hash, tenant, scopes, created_at, mac) VALUES ('key_forged2', $1, 'mint', 'kms:read', 'then', $2)",
        [sha256(legacy), Buffer.alloc(32, 1)],
      );
      await expect(store().findApiKey(legacy)).rejects.toBeInstanceOf(IntegrityError);
      expect(tampered.at(-1)).toBe('api key row key_forged2');
      await sql("DELETE FROM api_keys WHERE id IN ('key_forged1', 'key_forged2')");
    });

    it('seals legacy rows that were checked and are unchanged; a legacy API key then works and moves to an HMAC digest', async () => {
      const legacy = await fresh();
      try {
        const s = legacy.store;
        const insertKey = (version: number, status: string) =>
          legacy.sql(
            "INSERT INTO keys (tenant, algorithm, key_version, status, public_key, created_at, wrapped_seed) VALUES ('old', 'Kyber768', $1, $2, $3, 'then', $4)",
            [version, status, `pk${version}`, Buffer.from([version])],
          );
        await insertKey(1, 'retired');
        await insertKey(2, 'active');
        const apiKey = `qph_${'k'.repeat(43)}`;
        await legacy.sql(
          "INSERT INTO api_keys (id, hash, tenant, scopes, created_at) VALUES ('key_legacy', $1, 'old', 'kms:read', 'then')",
          [sha256(apiKey)],
        );
        const found = await s.legacyRows();
        expect(found.apiKeys).toBe(1);
        expect(found.keys.map((r) => [r.tenant, r.algorithm, r.key.key_version, r.key.status])).toEqual([
          ['old', 'Kyber768', 1, 'retired'],
          ['old', 'Kyber768', 2, 'active'],
        ]);
        expect(found.keys[1]!.key.wrapped_seed).toEqual(new Uint8Array([2]));
        // Unsealed rows are refused like tampered ones.
        await expect(s.get('old', 'Kyber768', 1)).rejects.toBeInstanceOf(IntegrityError);
        await expect(s.findApiKey(apiKey)).rejects.toBeInstanceOf(IntegrityError);
        // A row changed after it was checked is not sealed.
        await legacy.sql("UPDATE keys SET status = 'archived' WHERE tenant = 'old' AND key_version = 1");
        expect(await s.sealLegacyRows(found.keys)).toEqual({ keys: 1, apiKeys: 1 });
        expect((await s.legacyRows()).keys.map((r) => r.key.key_version)).toEqual([1]);
        await legacy.sql("UPDATE keys SET status = 'retired' WHERE tenant = 'old' AND key_version = 1");
        expect(await s.sealLegacyRows(found.keys.slice(0, 1))).toEqual({ keys: 1, apiKeys: 0 });
        expect(await s.legacyRows()).toEqual({ keys: [], apiKeys: 0 });
        expect((await all(s, 'old', 'Kyber768')).map((k) => k.status)).toEqual(['retired', 'active']);

        const record = { id: 'key_legacy', tenant: 'old', scopes: ['kms:read'], created_at: 'then', revoked_at: null };
        expect(await s.findApiKey(apiKey)).toEqual(record);
        const [row] = (await legacy.sql("SELECT digest, hash FROM api_keys WHERE id = 'key_legacy'")).rows as {
          digest: Buffer | null;
          hash: Buffer | null;
        }[];
        expect(row!.hash).toBeNull();
        expect(Buffer.from(TEST_INTEGRITY.apiKeyDigest(apiKey)).equals(row!.digest!)).toBe(true);
        expect(await s.findApiKey(apiKey)).toEqual(record);
      } finally {
        await legacy.close();
      }
    });

    it('reserves, replays, refuses mismatches and expires idempotency records', async () => {
      const t0 = 1_000_000;
      const first = await store().reserve('t', 'k', 'f1', t0);
      expect(first).toEqual(ACQUIRED);
      expect(await store().reserve('t', 'k', 'f1', t0 + 1)).toEqual({ state: 'pending' });
      expect(await store().reserve('t', 'k', 'f2', t0 + 1)).toEqual({ state: 'mismatch' });
      expect(await store().reserve('u', 'k', 'f2', t0 + 1)).toEqual(ACQUIRED);
      await store().complete('t', 'k', owner(first), { status: 200, data: { a: 1 } }, t0 + 2);
      expect(await store().reserve('t', 'k', 'f1', t0 + 3)).toEqual({ state: 'replay', response: { status: 200, data: { a: 1 } } });
      expect(await store().reserve('t', 'k', 'f1', t0 + 2 + IDEMPOTENCY_TTL_MS)).toEqual(ACQUIRED);
      // A reservation abandoned by a crashed process before any change is taken over after PENDING_TTL_MS.
      expect(await store().reserve('u', 'k', 'f2', t0 + PENDING_TTL_MS)).toEqual({ state: 'pending' });
      expect(await store().reserve('u', 'k', 'f3', t0 + 1 + PENDING_TTL_MS)).toEqual({ state: 'mismatch' });
      const taken = await store().reserve('u', 'k', 'f2', t0 + 1 + PENDING_TTL_MS);
      expect(taken).toEqual(ACQUIRED);
      await store().release('u', 'k', owner(taken));
      expect(await store().reserve('u', 'k', 'f4', t0 + 2 + PENDING_TTL_MS)).toEqual(ACQUIRED);
    });

    it('never runs twice a reservation whose keyring change committed before its process died', async () => {
      const t0 = 5_000_000;
      const rotate = owner(await store().reserve('c', 'rotate-1', 'f', t0));
      await store().run('c', 'rotate-1', rotate, () => store().update('c', 'Kyber768', () => ({ put: [key(1)], result: null })));
      // ...the process dies here, before complete(): the change is saved, the response is not.
      expect(await store().reserve('c', 'rotate-1', 'f', t0 + 1)).toEqual({ state: 'pending' });
      expect(await store().reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });
      await store().release('c', 'rotate-1', rotate); // a committed reservation is kept even on release
      expect(await store().reserve('c', 'rotate-1', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });

      // A change that was refused (rolled back) or wrote nothing does not count.
      const gen = owner(await store().reserve('c', 'gen-1', 'f', t0));
      await expect(
        store().run('c', 'gen-1', gen, () =>
          store().update('c', 'Kyber768', () => {
            throw new Error('refused');
          }),
        ),
      ).rejects.toThrow();
      await store().run('c', 'gen-1', gen, () => store().update('c', 'Kyber768', () => ({ result: null })));
      expect(await store().reserve('c', 'gen-1', 'f', t0 + PENDING_TTL_MS)).toEqual(ACQUIRED);
    });

    it("rolls back the change of a stalled request whose reservation was taken over, and keeps the new owner's record", async () => {
      const t0 = 9_000_000;
      const add = (ring: KeyringView) => ({
        put: [key(ring.maxVersion + 1, ring.maxVersion === 0 ? 'active' : 'retired')],
        result: null,
      });
      const stalled = owner(await store().reserve('s', 'once', 'f', t0));
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const first = store().run('s', 'once', stalled, async () => {
        await woken; // the handler stalls past PENDING_TTL_MS
        return store().update('s', 'Dilithium3', add);
      });
      // A repeat takes the reservation over; the stalled one wakes before the repeat has run:
      // its change is refused and rolled back.
      const repeat = owner(await store().reserve('s', 'once', 'f', t0 + PENDING_TTL_MS + 1));
      expect(repeat).not.toBe(stalled);
      wake();
      await expect(first).rejects.toBeInstanceOf(ReservationLostError);
      expect(await all(store(), 's', 'Dilithium3')).toEqual([]);
      // The repeat runs and commits; the stalled one's complete and release change nothing.
      await store().run('s', 'once', repeat, () => store().update('s', 'Dilithium3', add));
      await store().complete('s', 'once', stalled, { status: 201, data: { key_version: 2 } }, t0 + PENDING_TTL_MS + 2);
      await store().release('s', 'once', stalled);
      expect(await store().reserve('s', 'once', 'f', t0 + PENDING_TTL_MS + 3)).toEqual({ state: 'pending' });
      await store().complete('s', 'once', repeat, { status: 201, data: { key_version: 1 } }, t0 + PENDING_TTL_MS + 4);
      expect((await all(store(), 's', 'Dilithium3')).map((k) => k.key_version)).toEqual([1]);
      expect(await store().reserve('s', 'once', 'f', t0 + PENDING_TTL_MS + 5)).toEqual({
        state: 'replay',
        response: { status: 201, data: { key_version: 1 } },
      });
      // Before it completes, a repeat's own release is refused too once it committed.
      const late = owner(await store().reserve('s', 'late', 'f', t0));
      await store().run('s', 'late', late, () => store().update('s', 'Dilithium3', add));
      await store().release('s', 'late', late);
      expect(await store().reserve('s', 'late', 'f', t0 + PENDING_TTL_MS)).toEqual({ state: 'unknown' });
    });

    it(`sweeps expired idempotency records ${IDEMPOTENCY_SWEEP_BATCH} at a time, once per ${IDEMPOTENCY_SWEEP_EVERY} reservations`, async () => {
      const swept = await fresh();
      try {
        await swept.sql(
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO idempotency (tenant, key, fingerprint, response, updated_ms) SELECT 'old', 'k' || i, 'f', '{}', i FROM n",
        );
        const count = async () => Number((await swept.sql('SELECT count(*) AS n FROM idempotency')).rows[0]!.n);
        const oldest = async () => Number((await swept.sql('SELECT min(updated_ms) AS m FROM idempotency')).rows[0]!.m);
        const now = IDEMPOTENCY_TTL_MS + 2000;
        await swept.store.reserve('t', 'first', 'f', now); // the first reservation sweeps one batch, oldest first
        expect(await count()).toBe(1000 - IDEMPOTENCY_SWEEP_BATCH + 1);
        expect(await oldest()).toBe(IDEMPOTENCY_SWEEP_BATCH + 1);
        for (let i = 1; i < IDEMPOTENCY_SWEEP_EVERY; i++) await swept.store.reserve('t', `n${i}`, 'f', now);
        expect(await count()).toBe(1000 - IDEMPOTENCY_SWEEP_BATCH + IDEMPOTENCY_SWEEP_EVERY);
        await swept.store.reserve('t', 'next', 'f', now);
        expect(await count()).toBe(1000 - 2 * IDEMPOTENCY_SWEEP_BATCH + IDEMPOTENCY_SWEEP_EVERY + 1);
        // Records that have not expired are never swept.
        expect(Number((await swept.sql("SELECT count(*) AS n FROM idempotency WHERE tenant = 't'")).rows[0]!.n)).toBe(
          IDEMPOTENCY_SWEEP_EVERY + 1,
        );
      } finally {
        await swept.close();
      }
    });

    it('caps the idempotency records of a tenant: its oldest answered ones make room, running ones never do', async () => {
      const capped = await fresh({ maxIdempotencyRecordsPerTenant: 3 });
      const s = capped.store;
      try {
        for (let i = 0; i < 3; i++) {
          const reserved = await s.reserve('t', `k${i}`, 'f', 1000 + i);
          await s.complete('t', `k${i}`, owner(reserved), { status: 200, data: i }, 1000 + i);
        }
        await s.reserve('t', 'k3', 'f', 2000); // evicts k0, the oldest
        expect(await s.reserve('t', 'k0', 'f', 2001)).toEqual(ACQUIRED); // k0 forgotten; evicts k1
        expect(await s.reserve('t', 'k2', 'f', 2002)).toEqual({ state: 'replay', response: { status: 200, data: 2 } });
        expect((await s.reserve('other', 'k9', 'f', 2003)).state).toBe('acquired'); // other tenants are unaffected
        // k2 is the only answered record left; once it is gone, three running reservations fill the cap.
        await s.reserve('t', 'k4', 'f', 2004);
        await expect(s.reserve('t', 'k5', 'f', 2005)).rejects.toBeInstanceOf(ServiceUnavailableError);
        expect(Number((await capped.sql("SELECT count(*) AS n FROM idempotency WHERE tenant = 't'")).rows[0]!.n)).toBe(3);
      } finally {
        await capped.close();
      }
    });

    it('serialises concurrent updates of one keyring: unique, gap-free versions, one active key', async () => {
      const append = (ring: KeyringView) => ({
        put: [...(ring.active ? [{ ...ring.active, status: 'retired' as const }] : []), key(ring.maxVersion + 1)],
        result: ring.maxVersion + 1,
      });
      const versions = await Promise.all(Array.from({ length: 20 }, () => store().update('conc', 'Dilithium3', append)));
      expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const keys = await all(store(), 'conc', 'Dilithium3');
      expect(keys.map((k) => k.key_version)).toEqual(versions);
      expect(keys.filter((k) => k.status === 'active').map((k) => k.key_version)).toEqual([20]);
    });

    it('keeps the first value of a meta entry', async () => {
      expect(await store().getMeta('check')).toBeUndefined();
      expect(await store().initMeta('check', new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 2]));
      expect(await store().initMeta('check', new Uint8Array([3]))).toEqual(new Uint8Array([1, 2]));
      expect(await store().getMeta('check')).toEqual(new Uint8Array([1, 2]));
    });

    it('answers ping while open', async () => {
      expect(await store().ping()).toBe(true);
    });
  });
}
