/**
 * Key history must not slow a tenant down: the engine's encrypt 1 KiB on each of the server's
 * stores (the same engine and stores `qpher serve` composes, crypto on this thread) for a tenant
 * whose Kyber768 keyring holds 5,000 versions against one whose keyring holds 1. Every operation
 * reads one row by version (src/stores/keystore.ts) and checks that row's MAC, so the two should
 * cost the same.
 *
 * SQLite in a fresh data directory; PostgreSQL in a throwaway cluster (test/support/postgres.ts),
 * skipped with a note when its server binaries are not installed. Interleaved rounds
 * (bench/measure.ts); medians of the rounds, and the latency ratio as the median of the ratios of
 * adjacent rounds (a shared machine's noise hits both sides of a pair alike).
 * `node --conditions=qpher-source --import tsx bench/keyring.ts` runs it alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../src/engine/engine.js';
import type { StoredKey } from '../src/stores/keystore.js';
import { randomBytes } from 'node:crypto';
import { Integrity } from '../packages/server/src/integrity.js';
import { PostgresStore } from '../packages/server/src/postgres.js';
import { SqliteStore } from '../packages/server/src/sqlite.js';
import type { ServerStore } from '../packages/server/src/store.js';
import { postgresBinDir, startPostgres } from '../test/support/postgres.js';
import { compare, formatRate, median } from './measure.js';

export const HISTORY = 5000;
const ROUNDS = 15;
const ROUND_MS = 200;

export type KeyringStore = ServerStore['kind'];

export interface KeyringRow {
  store: KeyringStore;
  operation: string;
  versions: number;
  opsPerSec: number;
  /** Median per-call latency over the rounds, ms. */
  medianMs: number;
  rounds: number[];
}

export interface KeyringResult {
  rows: KeyringRow[];
  /** Per store: latency with HISTORY versions over latency with 1, the median of adjacent rounds' ratios. */
  ratios: Partial<Record<KeyringStore, number>>;
  /** Stores not measured, and why. */
  skipped: string[];
}

/** Encrypt 1 KiB for a 1-version and a HISTORY-version keyring on `store`. */
async function benchStore(store: ServerStore): Promise<{ rows: KeyringRow[]; ratio: number }> {
  // As `qpher serve` does: every key row is MACed and checked (packages/server/src/integrity.ts).
  store.attachIntegrity(Integrity.fromMasterKey(randomBytes(32)));
  const engine = await Engine.create({ store });
  const run = async (tenant: string, operation: string, request: unknown) => {
    const envelope = await engine.execute({ tenant }, operation, request, 'bench');
    if ('error' in envelope) throw new Error(`${operation}: ${envelope.error.code} ${envelope.error.message}`);
    return envelope.data as { key_version: number };
  };
  // Years of rotation, as rows: retired and archived versions with wrapped seeds of real size.
  const history: StoredKey[] = Array.from({ length: HISTORY - 1 }, (_, i) => ({
    key_version: i + 1,
    status: i % 2 ? 'retired' : 'archived',
    public_key: 'A'.repeat(1604), // base64 of an ML-KEM-768 SubjectPublicKeyInfo
    created_at: new Date(0).toISOString(),
    wrapped_seed: new Uint8Array(12 + 64 + 16),
  }));
  await store.update('history', 'Kyber768', () => ({ put: history, result: null }));
  const big = await run('history', 'kms.rotate', { algorithm: 'Kyber768' });
  const small = await run('fresh', 'kms.generate', { algorithm: 'Kyber768' });
  const plaintext = Buffer.alloc(1024, 0x61).toString('base64');
  const encrypt = (tenant: string, key_version: number) => () => run(tenant, 'kem.encrypt', { plaintext, key_version });
  const measured = await compare(
    { one: encrypt('fresh', small.key_version), history: encrypt('history', big.key_version) },
    { rounds: ROUNDS, roundMs: ROUND_MS },
  );
  const rows = (['one', 'history'] as const).map((name) => ({
    store: store.kind,
    operation: 'encrypt 1 KiB',
    versions: name === 'one' ? 1 : HISTORY,
    opsPerSec: measured[name]!.opsPerSec,
    medianMs: 1000 / measured[name]!.opsPerSec,
    rounds: measured[name]!.rounds,
  }));
  // ops/s one / ops/s history = latency history / latency one, per adjacent pair of rounds.
  const ratio = median(measured.one!.rounds.map((ops, i) => ops / measured.history!.rounds[i]!));
  return { rows, ratio };
}

export async function benchKeyring({ postgres = true } = {}): Promise<KeyringResult> {
  const result: KeyringResult = { rows: [], ratios: {}, skipped: [] };
  const dir = await mkdtemp(join(tmpdir(), 'qpher-bench-keyring-'));
  try {
    const sqlite = new SqliteStore(join(dir, 'qpher.db'));
    try {
      const { rows, ratio } = await benchStore(sqlite);
      result.rows.push(...rows);
      result.ratios.sqlite = ratio;
    } finally {
      await sqlite.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (!postgres) return result;
  try {
    await postgresBinDir();
  } catch (error) {
    result.skipped.push(`postgres: ${error instanceof Error ? error.message : String(error)}`);
    return result;
  }
  const cluster = await startPostgres();
  try {
    const store = await PostgresStore.open(await cluster.createDatabase('keyring'));
    try {
      const { rows, ratio } = await benchStore(store);
      result.rows.push(...rows);
      result.ratios.postgres = ratio;
    } finally {
      await store.close();
    }
  } finally {
    await cluster.stop();
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { rows, ratios, skipped } = await benchKeyring({ postgres: !process.argv.includes('--sqlite-only') });
  for (const r of rows) {
    console.log(
      `${r.store}: ${r.operation} with ${r.versions} version(s): ${formatRate(r.opsPerSec)} ops/s, median ${r.medianMs.toFixed(2)} ms (rounds ${r.rounds.map((x) => x.toFixed(0)).join(', ')})`,
    );
  }
  for (const [store, ratio] of Object.entries(ratios)) {
    console.log(`${store}: latency with ${HISTORY} versions / with 1 (median of paired rounds): ${ratio.toFixed(3)}×`);
  }
  for (const line of skipped) console.log(`skipped ${line}`);
}
