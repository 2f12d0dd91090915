/**
 * One thread of the server's crypto pool (see pool.ts): the engine's own InlineCryptoRunner (seal, open,
 * sign, verify, with a bounded LRU of expanded keys per key id) with the provider the pool chose.
 * Keys arrive with their id: seal, verify, encapsulate, wrapKey and verifyHash tasks carry the
 * public key only; open, sign, decapsulate, unwrapKey and signHash tasks the seed as well; this
 * thread's copy of a seed is wiped after the task.
 * @module
 */
import { workerData } from 'node:worker_threads';
import type { Algorithm, CiphertextMode, HashArgs } from 'qpher/host';
import { InlineCryptoRunner } from 'qpher/host';
import { selectProvider, type ProviderChoice } from 'qpher/host';

/** Which key a task uses: its cache id, raw public key and algorithm (absent: the operation's default). */
interface TaskKey {
  id: string;
  publicKey: Uint8Array;
  algorithm?: Algorithm;
}

export type CryptoTask =
  | { op: 'info' }
  | (TaskKey & {
      op: 'seal';
      keyVersion: number;
      plaintext: Uint8Array;
      aad: Uint8Array;
      mode: CiphertextMode;
      encapRandomness?: Uint8Array;
    })
  | (TaskKey & { op: 'open'; seed: Uint8Array; ciphertext: Uint8Array; aad: Uint8Array })
  | (TaskKey & { op: 'sign'; seed: Uint8Array; message: Uint8Array; context?: Uint8Array })
  | (TaskKey & { op: 'verify'; signature: Uint8Array; message: Uint8Array; context?: Uint8Array })
  | (TaskKey & { op: 'encapsulate' })
  | (TaskKey & { op: 'decapsulate'; seed: Uint8Array; kemCiphertext: Uint8Array })
  | (TaskKey & { op: 'wrapKey'; keyVersion: number; symmetricKey: Uint8Array })
  | (TaskKey & { op: 'unwrapKey'; seed: Uint8Array; wrappedKey: Uint8Array })
  | (TaskKey & { op: 'signHash'; seed: Uint8Array } & HashArgs)
  | (TaskKey & { op: 'verifyHash'; signature: Uint8Array } & HashArgs);

const options = (workerData ?? {}) as { provider?: ProviderChoice; cacheEntries?: number };
const crypto = new InlineCryptoRunner(await selectProvider(options.provider ?? 'auto'), options.cacheEntries);

/** Runs `fn`, then wipes this thread's copy of the seed (the expanded key stays cached by id). */
async function withSeed<T>(seed: Uint8Array, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    seed.fill(0);
  }
}

export default async function run(task: CryptoTask): Promise<unknown> {
  switch (task.op) {
    case 'info':
      return { provider: crypto.provider };
    case 'seal': {
      const { id, publicKey, algorithm, op: _, ...args } = task;
      return crypto.seal({ id, publicKey, ...(algorithm ? { algorithm } : {}) }, args);
    }
    case 'open':
      return withSeed(task.seed, () => crypto.open(task, { ciphertext: task.ciphertext, aad: task.aad }));
    case 'sign':
      return withSeed(task.seed, () => crypto.sign(task, task.message, task.context));
    case 'verify':
      return crypto.verify(task, task.signature, task.message, task.context);
    case 'encapsulate':
      return crypto.encapsulate(task);
    case 'decapsulate':
      return withSeed(task.seed, () => crypto.decapsulate(task, task.kemCiphertext));
    case 'wrapKey':
      return crypto.wrapKey(task, { keyVersion: task.keyVersion, symmetricKey: task.symmetricKey });
    case 'unwrapKey':
      return withSeed(task.seed, () => crypto.unwrapKey(task, task.wrappedKey));
    case 'signHash':
      return withSeed(task.seed, () => crypto.signHash(task, hashArgsOf(task)));
    case 'verifyHash':
      return crypto.verifyHash(task, task.signature, hashArgsOf(task));
  }
}

function hashArgsOf(task: HashArgs): HashArgs {
  return { hashAlgorithm: task.hashAlgorithm, hash: task.hash, ...(task.context ? { context: task.context } : {}) };
}
