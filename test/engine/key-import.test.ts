/**
 * Import rules (src/engine/key-import.ts, docs/backup.md "Import rules") over real stores and a
 * real SeedWrapper: exact restore into an empty key ring, add-only as retired into a non-empty
 * one, identical versions skipped, conflicts refused whole and named, the two-phase re-check,
 * and a full export → backup → import → decrypt/verify round trip through the engine.
 * @module
 */
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Algorithm, KeyStatus } from '../../src/contract/algorithms.js';
import { decodeBackup, encodeBackup, type BackupKey } from '../../src/crypto/backup.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { bytesToBase64 } from '../../src/encoding.js';
import { Engine } from '../../src/engine/engine.js';
import { describeBackupKeys, readBackupKeys, wipeSeeds } from '../../src/engine/key-export.js';
import { IMPORT_ATTEMPTS, applyImport, importBackupKeys, prepareImport, seedAccess, type SeedAccess } from '../../src/engine/key-import.js';
import { rotate } from '../../src/engine/lifecycle.js';
import { ephemeralSeedWrapper } from '../../src/engine/seed-wrapper.js';
import type { Envelope } from '../../src/contract/envelope.js';
import { ForbiddenError, ValidationError, unwrap } from '../../src/errors.js';
import type { KeyStore, StoredKey } from '../../src/stores/keystore.js';
import { MemoryKeyStore } from '../../src/stores/memory.js';
import { SqliteStore } from '../../packages/server/src/sqlite.js';
import { Integrity } from '../../packages/server/src/integrity.js';
import { backupKey } from '../vectors/generate-backup-v1.js';

const T = 'tenant-a';
const FAST = { memoryKiB: 8, passes: 1, parallelism: 1 };
const at = (day: number) => `2025-01-${String(day).padStart(2, '0')}T00:00:00.000Z`;
const kyber = (version: number, status: KeyStatus, fill: number) =>
  backupKey('Kyber768', version, status, new Uint8Array(64).fill(fill), at(version));
const dilithium = (version: number, status: KeyStatus, fill: number) =>
  backupKey('Dilithium3', version, status, new Uint8Array(32).fill(fill), at(version));

let store: MemoryKeyStore;
let seeds: SeedAccess;

beforeEach(async () => {
  store = new MemoryKeyStore();
  seeds = seedAccess(await ephemeralSeedWrapper(), T, nobleProvider);
});

/** Writes keys into a key ring as the engine would store them (seed wrapped). */
async function put(target: KeyStore, keys: BackupKey[], access = seeds): Promise<void> {
  const algorithm = keys[0]!.algorithm;
  const stored: StoredKey[] = [];
  for (const { seed, algorithm: _, ...rest } of keys)
    stored.push({ ...rest, wrapped_seed: await access.wrap(algorithm, rest.public_key, seed) });
  await target.update(T, algorithm, () => ({ put: stored, result: null }));
}

/** Every stored key of a key ring, ascending. */
async function rows(algorithm: Algorithm, target: KeyStore = store): Promise<StoredKey[]> {
  return (await target.list(T, algorithm, { after: 0, limit: 10_000 })).keys;
}

/** The key ring as (version, status, public key, unwrapped seed), to compare with backup keys. */
async function ring(algorithm: Algorithm, target: KeyStore = store, access = seeds) {
  return readBackupKeys(target, T, [algorithm], access);
}

const info = (algorithm: Algorithm, key_version: number, status: KeyStatus) => ({ algorithm, key_version, status });

describe('into a key ring without that algorithm', () => {
  it('restores every version exactly, statuses included', async () => {
    const backup = [kyber(1, 'archived', 1), kyber(2, 'retired', 2), kyber(4, 'active', 4), dilithium(3, 'retired', 3)];
    const outcome = await importBackupKeys(store, T, backup, seeds);
    expect(outcome).toEqual({
      imported: [
        info('Kyber768', 1, 'archived'),
        info('Kyber768', 2, 'retired'),
        info('Kyber768', 4, 'active'),
        info('Dilithium3', 3, 'retired'),
      ],
      skipped: [],
    });
    expect(await ring('Kyber768')).toEqual(backup.slice(0, 3));
    expect(await ring('Dilithium3')).toEqual(backup.slice(3));
    // Stored wrapped (IV ‖ ciphertext ‖ tag), never raw.
    for (const k of await rows('Kyber768')) {
      expect(k.wrapped_seed.length).toBe(12 + 64 + 16);
      expect(bytesToHex(k.wrapped_seed)).not.toContain(bytesToHex(new Uint8Array(8).fill(k.key_version)));
    }
  });

  it('the next rotate continues after the highest imported version', async () => {
    await importBackupKeys(store, T, [kyber(7, 'active', 7)], seeds);
    const fresh = { public_key: kyber(99, 'active', 99).public_key, created_at: at(9), wrapped_seed: new Uint8Array(40) };
    const { created } = await store.update(T, 'Kyber768', rotate('Kyber768', fresh, 100));
    expect(created.key_version).toBe(8);
    expect((await rows('Kyber768')).map((k) => [k.key_version, k.status])).toEqual([
      [7, 'retired'],
      [8, 'active'],
    ]);
  });
});

describe('into a non-empty key ring', () => {
  it('adds only missing versions, as retired (archived stays archived), skips identical ones, keeps the active key', async () => {
    await put(store, [kyber(1, 'retired', 1), kyber(2, 'active', 2)]);
    const backup = [kyber(1, 'archived', 1), kyber(2, 'active', 2), kyber(3, 'archived', 3), kyber(4, 'retired', 4), kyber(5, 'active', 5)];
    const outcome = await importBackupKeys(store, T, backup, seeds);
    expect(outcome).toEqual({
      imported: [info('Kyber768', 3, 'archived'), info('Kyber768', 4, 'retired'), info('Kyber768', 5, 'retired')],
      skipped: [info('Kyber768', 1, 'retired'), info('Kyber768', 2, 'active')],
    });
    const after = await ring('Kyber768');
    expect(after.map((k) => [k.key_version, k.status])).toEqual([
      [1, 'retired'], // the backup said archived: existing versions are never changed
      [2, 'active'],
      [3, 'archived'],
      [4, 'retired'],
      [5, 'retired'], // the backup's active key does not displace the key ring's
    ]);
    expect(after.map((k) => k.seed)).toEqual(backup.map((k) => k.seed));
  });

  it('a key ring with only retired keys still counts as non-empty: nothing becomes active', async () => {
    await put(store, [dilithium(1, 'retired', 1)]);
    const outcome = await importBackupKeys(store, T, [dilithium(2, 'active', 2)], seeds);
    expect(outcome.imported).toEqual([info('Dilithium3', 2, 'retired')]);
    expect((await rows('Dilithium3')).some((k) => k.status === 'active')).toBe(false);
  });

  it('importing the same backup again changes nothing and skips everything', async () => {
    const backup = [kyber(1, 'retired', 1), kyber(2, 'active', 2), dilithium(1, 'active', 9)];
    await importBackupKeys(store, T, backup, seeds);
    const before = [await rows('Kyber768'), await rows('Dilithium3')];
    const outcome = await importBackupKeys(store, T, backup, seeds);
    expect(outcome.imported).toEqual([]);
    expect(outcome.skipped).toEqual([info('Kyber768', 1, 'retired'), info('Kyber768', 2, 'active'), info('Dilithium3', 1, 'active')]);
    expect([await rows('Kyber768'), await rows('Dilithium3')]).toEqual(before);
  });
});

describe('refusals import nothing', () => {
  it('a version that exists with a different key refuses the whole import, naming the versions', async () => {
    await put(store, [kyber(2, 'active', 20), kyber(3, 'retired', 30), kyber(4, 'retired', 4)]);
    const before = await rows('Kyber768');
    // Dilithium3 comes second and would import cleanly: it must not be written either.
    const backup = [
      kyber(2, 'active', 2),
      kyber(3, 'retired', 3),
      kyber(4, 'retired', 4),
      kyber(5, 'retired', 5),
      dilithium(1, 'active', 1),
    ];
    const error = await importBackupKeys(store, T, backup, seeds).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toBe(
      'Import refused: Kyber768 versions 2, 3 already exist with a different key; nothing was imported',
    );
    expect(await rows('Kyber768')).toEqual(before);
    expect(await rows('Dilithium3')).toEqual([]);
  });

  it("a version missing below the key ring's highest is refused, naming it: versions are only added above the highest", async () => {
    await importBackupKeys(store, T, [kyber(1, 'retired', 1), kyber(4, 'active', 4)], seeds); // a sparse restore
    const before = await rows('Kyber768');
    await expect(
      importBackupKeys(store, T, [kyber(2, 'retired', 2), kyber(3, 'retired', 3), kyber(5, 'retired', 5)], seeds),
    ).rejects.toThrow(
      "Import refused: Kyber768 versions 2, 3 are missing below the key ring's highest version 4, and versions are only added above it; nothing was imported",
    );
    expect(await rows('Kyber768')).toEqual(before);
  });

  it('the same public key with another seed is a conflict too (identical means public key AND seed)', async () => {
    const real = kyber(1, 'active', 1);
    await put(store, [{ ...real, seed: new Uint8Array(64).fill(0xee) }]); // a damaged row: right public key, wrong seed
    await expect(importBackupKeys(store, T, [real], seeds)).rejects.toThrow(
      'Import refused: Kyber768 version 1 already exists with a different key',
    );
  });

  it('a backup seed that does not generate its public key is refused before anything is written', async () => {
    const liar = { ...dilithium(2, 'retired', 2), seed: new Uint8Array(32).fill(7) };
    const error = await importBackupKeys(store, T, [kyber(1, 'active', 1), liar], seeds).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe('Backup key Dilithium3 version 2 does not match its public key; nothing was imported');
    expect(await rows('Kyber768')).toEqual([]);
  });
});

describe('two phases: prepare outside the transaction, apply (with a re-check) inside', () => {
  it("a concurrent rotate makes apply stale and write nothing; prepared again, the backup's version is added above it", async () => {
    await put(store, [kyber(1, 'active', 1)]);
    const prepared = await prepareImport(store, T, 'Kyber768', [kyber(3, 'active', 3)], seeds);
    const other = kyber(2, 'active', 2);
    await store.update(
      T,
      'Kyber768',
      rotate('Kyber768', { public_key: other.public_key, created_at: other.created_at, wrapped_seed: new Uint8Array(40) }, 100),
    );
    expect(await store.update(T, 'Kyber768', applyImport(prepared))).toEqual({ stale: true });
    expect((await rows('Kyber768')).map((k) => k.key_version)).toEqual([1, 2]);
    expect(await importBackupKeys(store, T, [kyber(3, 'active', 3)], seeds)).toEqual({
      imported: [info('Kyber768', 3, 'retired')],
      skipped: [],
    });
    expect((await rows('Kyber768')).map((k) => [k.key_version, k.status])).toEqual([
      [1, 'retired'],
      [2, 'active'],
      [3, 'retired'],
    ]);
  });

  it('a concurrent write of a version the backup holds makes apply stale and write nothing; the import then refuses it', async () => {
    const prepared = await prepareImport(store, T, 'Kyber768', [kyber(1, 'active', 1)], seeds);
    await put(store, [kyber(1, 'active', 50)]); // another tab generated version 1 meanwhile
    const before = await rows('Kyber768');
    expect(await store.update(T, 'Kyber768', applyImport(prepared))).toEqual({ stale: true });
    expect(await rows('Kyber768')).toEqual(before);
    await expect(importBackupKeys(store, T, [kyber(1, 'active', 1)], seeds)).rejects.toThrow(ForbiddenError);
  });

  it('an identical version is compared by seed, so a re-wrap in between (same seed, other bytes) still skips it', async () => {
    await put(store, [kyber(1, 'active', 1)]);
    const prepared = await prepareImport(store, T, 'Kyber768', [kyber(1, 'active', 1), kyber(2, 'retired', 2)], seeds);
    expect(prepared.skipped).toEqual([info('Kyber768', 1, 'active')]);
    const rewrapped = await seeds.wrap('Kyber768', kyber(1, 'active', 1).public_key, new Uint8Array(64).fill(1));
    await store.update(T, 'Kyber768', (ring) => ({ put: [{ ...ring.target!, wrapped_seed: rewrapped }], result: null }), 1);
    expect(await store.update(T, 'Kyber768', applyImport(prepared))).toEqual({
      stale: false,
      imported: [info('Kyber768', 2, 'retired')],
      skipped: [info('Kyber768', 1, 'active')],
    });
  });

  it('gives up after IMPORT_ATTEMPTS when the key ring changes under every attempt', async () => {
    await put(store, [kyber(1, 'active', 1)]);
    // A store in which another writer rotates just before each update: every prepared import is stale.
    let fill = 100;
    const churning: KeyStore = {
      get: (tenant, algorithm, version) => store.get(tenant, algorithm, version),
      active: (tenant, algorithm) => store.active(tenant, algorithm),
      list: (tenant, algorithm, query) => store.list(tenant, algorithm, query),
      ephemeral: true,
      update: async (tenant, algorithm, change, target) => {
        const fresh = kyber(fill, 'active', fill++);
        await store.update(
          tenant,
          algorithm,
          rotate('Kyber768', { public_key: fresh.public_key, created_at: fresh.created_at, wrapped_seed: new Uint8Array(40) }, 100),
        );
        return store.update(tenant, algorithm, change, target);
      },
    };
    expect(IMPORT_ATTEMPTS).toBe(3);
    await expect(importBackupKeys(churning, T, [kyber(50, 'retired', 50)], seeds)).rejects.toThrow(
      'The Kyber768 key ring kept changing during the import; try again',
    );
    expect(await store.get(T, 'Kyber768', 50)).toBeUndefined();
  });

  it('apply runs inside a real SQLite transaction', async () => {
    const sqlite = new SqliteStore(':memory:');
    sqlite.attachIntegrity(Integrity.fromMasterKey(new Uint8Array(32).fill(5)));
    try {
      await put(sqlite, [dilithium(1, 'active', 1)]);
      const outcome = await importBackupKeys(sqlite, T, [dilithium(1, 'active', 1), dilithium(2, 'active', 2)], seeds);
      expect(outcome).toEqual({ imported: [info('Dilithium3', 2, 'retired')], skipped: [info('Dilithium3', 1, 'active')] });
      expect((await ring('Dilithium3', sqlite)).map((k) => [k.key_version, k.status])).toEqual([
        [1, 'active'],
        [2, 'retired'],
      ]);
    } finally {
      await sqlite.close();
    }
  });
});

describe('export → backup → import → use', () => {
  it('a restored engine decrypts and verifies what the original produced', async () => {
    const caller = { tenant: T };
    const id = '00000000-0000-4000-8000-000000000000';
    const wrapper1 = await ephemeralSeedWrapper();
    const engine1 = await Engine.create({ store, wrapper: wrapper1 });
    const ok = async (engine: Engine, op: string, req: unknown) =>
      unwrap((await engine.execute(caller, op, req, id)) as Envelope<Record<string, unknown>>);
    await ok(engine1, 'kms.generate', { algorithm: 'Kyber768' });
    const old = await ok(engine1, 'kem.encrypt', { plaintext: bytesToBase64(utf8ToBytes('kept')), key_version: 1 });
    await ok(engine1, 'kms.rotate', { algorithm: 'Kyber768' });
    await ok(engine1, 'kms.generate', { algorithm: 'Dilithium3' });
    const message = bytesToBase64(utf8ToBytes('signed'));
    const signed = await ok(engine1, 'signature.sign', { message, key_version: 1 });

    const keys = await readBackupKeys(store, T, ['Kyber768', 'Dilithium3'], seedAccess(wrapper1, T, nobleProvider));
    expect(describeBackupKeys(keys)).toEqual([
      info('Kyber768', 1, 'retired'),
      info('Kyber768', 2, 'active'),
      info('Dilithium3', 1, 'active'),
    ]);
    const backup = await encodeBackup(keys, 'restore me', { kdf: FAST });
    wipeSeeds(keys);
    expect(keys.every((k) => k.seed.every((b) => b === 0))).toBe(true);

    // Another store under another wrapping key: only the backup crosses over.
    const store2 = new MemoryKeyStore();
    const wrapper2 = await ephemeralSeedWrapper();
    const restored = await decodeBackup(backup, 'restore me');
    await importBackupKeys(store2, T, restored, seedAccess(wrapper2, T, nobleProvider));
    wipeSeeds(restored);
    const engine2 = await Engine.create({ store: store2, wrapper: wrapper2 });
    expect(await ok(engine2, 'kem.decrypt', { ciphertext: old.ciphertext, key_version: 1 })).toMatchObject({
      plaintext: bytesToBase64(utf8ToBytes('kept')),
    });
    expect(await ok(engine2, 'signature.verify', { message, signature: signed.signature, key_version: 1 })).toMatchObject({ valid: true });
    expect((await rows('Kyber768', store2)).map((k) => [k.key_version, k.status])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
  });
});
