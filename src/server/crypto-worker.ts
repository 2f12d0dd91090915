/**
 * One thread of the server's crypto pool (see pool.ts): seal, open, sign and verify with the
 * provider the pool chose, and a bounded LRU of expanded keys per (tenant, algorithm, version,
 * public key) id. Keys arrive as seeds with their id; a hit skips the key expansion and reuses
 * the provider's per-key state (noble's prepared ML-KEM matrix, OpenSSL key objects), which are
 * cached per Uint8Array, so each id keeps one stable array.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { openCiphertext, sealCiphertext, type CiphertextMode } from '../crypto/format.js';
import type { KeyPair } from '../crypto/primitives.js';
import { selectProvider, type ProviderChoice } from '../crypto/select-provider.js';

export type CryptoTask =
  | { op: 'info' }
  | {
      op: 'seal';
      id: string;
      seed: Uint8Array;
      publicKey: Uint8Array;
      keyVersion: number;
      plaintext: Uint8Array;
      aad: Uint8Array;
      mode: CiphertextMode;
      encapRandomness?: Uint8Array;
    }
  | { op: 'open'; id: string; seed: Uint8Array; publicKey: Uint8Array; ciphertext: Uint8Array; aad: Uint8Array }
  | { op: 'sign'; id: string; seed: Uint8Array; publicKey: Uint8Array; message: Uint8Array; context?: Uint8Array }
  | { op: 'verify'; id: string; publicKey: Uint8Array; signature: Uint8Array; message: Uint8Array; context?: Uint8Array };

const options = (workerData ?? {}) as { provider?: ProviderChoice; cacheEntries?: number };
const provider = await selectProvider(options.provider ?? 'auto');
const cacheEntries = options.cacheEntries ?? 256;

interface Entry {
  publicKey: Uint8Array;
  secretKey?: Uint8Array;
}
const cache = new Map<string, Entry>();

function entry(id: string, publicKey: Uint8Array): Entry {
  let found = cache.get(id);
  if (found) {
    cache.delete(id); // Map order is the LRU order
  } else {
    found = { publicKey };
    if (cache.size >= cacheEntries) {
      const oldest = cache.keys().next().value!;
      cache.get(oldest)?.secretKey?.fill(0);
      cache.delete(oldest);
    }
  }
  cache.set(id, found);
  return found;
}

function secretKey(found: Entry, seed: Uint8Array, kind: 'kem' | 'dsa'): Uint8Array {
  found.secretKey ??= (kind === 'kem' ? provider.mlKem768.keygen(seed) : provider.mlDsa65.keygen(seed)).secretKey;
  seed.fill(0);
  return found.secretKey;
}

export default async function run(task: CryptoTask): Promise<unknown> {
  switch (task.op) {
    case 'info':
      return { provider: provider.name };
    case 'seal': {
      const { publicKey } = entry(task.id, task.publicKey);
      task.seed.fill(0);
      return sealCiphertext({
        publicKey,
        keyVersion: task.keyVersion,
        plaintext: task.plaintext,
        aad: task.aad,
        mode: task.mode,
        provider,
        ...(task.encapRandomness ? { encapRandomness: task.encapRandomness } : {}),
      });
    }
    case 'open': {
      const sk = secretKey(entry(task.id, task.publicKey), task.seed, 'kem');
      return openCiphertext({ secretKey: sk, ciphertext: task.ciphertext, aad: task.aad, provider });
    }
    case 'sign': {
      const sk = secretKey(entry(task.id, task.publicKey), task.seed, 'dsa');
      return provider.mlDsa65.sign(task.message, sk, task.context ? { context: task.context } : {});
    }
    case 'verify': {
      const { publicKey } = entry(task.id, task.publicKey);
      return provider.mlDsa65.verify(task.signature, task.message, publicKey, task.context ? { context: task.context } : {});
    }
  }
}
