/**
 * Reading key rings for a backup (src/crypto/backup.ts): every version of the chosen algorithms,
 * with its seed unwrapped. This and the backup itself are the only places a seed leaves its
 * wrapping; ./key-import.ts is the way back.
 * @module
 */
import type { Algorithm } from '../contract/algorithms.js';
import type { BackupKey } from '../crypto/backup.js';
import type { KeyStore } from '../stores/keystore.js';
import type { ImportedKeyInfo, SeedAccess } from './key-import.js';

/** Keys read per store call: a page, so a long key ring is never held twice in memory. */
const PAGE = 500;

/**
 * The keys of `algorithms` in `tenant`'s key rings, in that order and ascending by version, seeds
 * unwrapped, ready for encodeBackup. The caller wipes the seeds once the backup is encoded (wipeSeeds).
 */
export async function readBackupKeys(
  store: KeyStore,
  tenant: string,
  algorithms: readonly Algorithm[],
  seeds: Pick<SeedAccess, 'unwrap'>,
): Promise<BackupKey[]> {
  const out: BackupKey[] = [];
  try {
    for (const algorithm of algorithms) {
      for (let after = 0; ; ) {
        const { keys } = await store.list(tenant, algorithm, { after, limit: PAGE });
        for (const key of keys) {
          const { key_version, status, created_at, public_key } = key;
          out.push({ algorithm, key_version, status, created_at, public_key, seed: await seeds.unwrap(algorithm, key) });
        }
        if (keys.length < PAGE) break;
        after = keys.at(-1)!.key_version;
      }
    }
    return out;
  } catch (error) {
    wipeSeeds(out);
    throw error;
  }
}

/** What an export reports next to the backup: which versions it holds, without key material. */
export function describeBackupKeys(keys: readonly BackupKey[]): ImportedKeyInfo[] {
  return keys.map(({ algorithm, key_version, status }) => ({ algorithm, key_version, status }));
}

export function wipeSeeds(keys: readonly BackupKey[]): void {
  for (const key of keys) key.seed.fill(0);
}
