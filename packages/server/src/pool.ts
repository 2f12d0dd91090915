/**
 * The server's crypto pool: seal/open/sign/verify on worker threads (piscina), one per core by
 * default, so that a 7 ms ML-DSA signature never blocks the event loop that does HTTP, auth and
 * the store. It implements the engine's `CryptoRunner` (src/engine/crypto-runner.ts).
 *
 * Back-pressure, both answered at once rather than by growing latency:
 * - queue full (`maxQueue` tasks waiting beyond the running ones), or a wait that would likely
 *   run past the deadline: ERR_SERVICE_001 (503), and the app adds `Retry-After`. The likely
 *   wait comes from the answers seen so far (`#taskMs`), so a machine slowed by other work
 *   refuses at once instead of queueing tasks that would time out;
 * - a task not finished `deadlineMs` after it was submitted: ERR_TIMEOUT_001 (504) at the
 *   deadline. The task itself still runs when its turn comes and its result is dropped: aborting
 *   would make piscina terminate a thread mid-task, and restarting one costs far more than a
 *   signature. The queue bound caps that wasted work (queue × task time / threads).
 * Memory is bounded by the queue bound and by each thread's key cache (`cacheEntries`).
 * @module
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Algorithm, CiphertextMode } from 'qpher/host';
import type { ProviderChoice } from 'qpher/host';
import type { CryptoRunner, EncapsulateResult, HashArgs, KeyRef, PublicKeyRef, WrapKeyArgs } from 'qpher/host';
import { GatewayTimeoutError, ServiceUnavailableError } from 'qpher/host';
import type { CryptoTask } from './crypto-worker.js';

export interface PoolOptions {
  /** Worker threads. Default: one per core (`os.availableParallelism()`). */
  threads?: number;
  /** Provider for every thread (resolved once, here, so all threads agree). Default `auto`. */
  provider?: ProviderChoice;
  /** Tasks allowed to wait for a thread; one more is refused with 503. Default 64 per thread (64 clients per core never see a 503). */
  maxQueue?: number;
  /** Per task, from submission. Default 5000 ms. */
  deadlineMs?: number;
  /** Expanded keys each thread keeps. Default 256. */
  cacheEntries?: number;
}

const DEFAULT_QUEUE_PER_THREAD = 64;
const DEFAULT_DEADLINE_MS = 5000;

export class CryptoPool implements CryptoRunner {
  readonly provider: string;
  readonly threads: number;
  readonly maxQueue: number;
  readonly deadlineMs: number;
  readonly #pool: Piscina<CryptoTask, unknown>;
  /** Answers given since start, for /readyz and the overload test. */
  readonly stats = { completed: 0, busy: 0, timedOut: 0 };
  /** One task's recent time on a thread, in ms (a moving average; 0 until the first answer). */
  #taskMs = 0;

  private constructor(
    pool: Piscina<CryptoTask, unknown>,
    provider: string,
    options: Required<Omit<PoolOptions, 'provider' | 'cacheEntries'>>,
  ) {
    this.#pool = pool;
    this.provider = provider;
    this.threads = options.threads;
    this.maxQueue = options.maxQueue;
    this.deadlineMs = options.deadlineMs;
  }

  /** Starts every thread and waits until each has loaded its provider (a bad choice fails here). */
  static async start(options: PoolOptions = {}): Promise<CryptoPool> {
    const threads = Math.max(1, options.threads ?? availableParallelism());
    const maxQueue = options.maxQueue ?? threads * DEFAULT_QUEUE_PER_THREAD;
    const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const pool = new Piscina<CryptoTask, unknown>({
      filename: workerFilename(),
      minThreads: threads,
      maxThreads: threads,
      maxQueue,
      idleTimeout: 2 ** 31 - 1,
      workerData: { provider: options.provider ?? 'auto', cacheEntries: options.cacheEntries ?? 256 },
    });
    try {
      const answers = (await Promise.all(Array.from({ length: threads }, () => pool.run({ op: 'info' })))) as Array<{ provider: string }>;
      const names = new Set(answers.map((a) => a.provider));
      if (names.size !== 1) throw new Error(`crypto threads disagree on the provider: ${[...names].join(', ')}`);
      return new CryptoPool(pool, answers[0]!.provider, { threads, maxQueue, deadlineMs });
    } catch (error) {
      await pool.destroy();
      throw error;
    }
  }

  /** Tasks waiting for a thread right now. */
  get queued(): number {
    return this.#pool.queueSize;
  }

  /**
   * Sends the public key only (never the seed), like verify; open and sign send the seed. Every
   * task names the key's algorithm, so a thread runs the right primitive (`algorithm` of the ref).
   */
  seal(
    key: PublicKeyRef,
    args: { keyVersion: number; plaintext: Uint8Array; aad: Uint8Array; mode: CiphertextMode; encapRandomness?: Uint8Array },
  ) {
    return this.#run({ op: 'seal', ...keyOf(key), ...args }) as Promise<Uint8Array>;
  }

  open(key: KeyRef, args: { ciphertext: Uint8Array; aad: Uint8Array }) {
    return this.#run({ op: 'open', ...keyOf(key), seed: key.seed, ...args }) as Promise<Uint8Array>;
  }

  sign(key: KeyRef, message: Uint8Array, context?: Uint8Array) {
    return this.#run({
      op: 'sign',
      ...keyOf(key),
      seed: key.seed,
      message,
      ...(context ? { context } : {}),
    }) as Promise<Uint8Array>;
  }

  verify(key: PublicKeyRef, signature: Uint8Array, message: Uint8Array, context?: Uint8Array) {
    return this.#run({
      op: 'verify',
      ...keyOf(key),
      signature,
      message,
      ...(context ? { context } : {}),
    }) as Promise<boolean>;
  }

  /** Raw KEM and key wrap: encapsulate and wrapKey send the public key only, the other two the seed. */
  encapsulate(key: PublicKeyRef) {
    return this.#run({ op: 'encapsulate', ...publicPart(key) }) as Promise<EncapsulateResult>;
  }

  decapsulate(key: KeyRef, kemCiphertext: Uint8Array) {
    return this.#run({ op: 'decapsulate', ...publicPart(key), seed: key.seed, kemCiphertext }) as Promise<Uint8Array>;
  }

  wrapKey(key: PublicKeyRef, args: WrapKeyArgs) {
    return this.#run({
      op: 'wrapKey',
      ...publicPart(key),
      keyVersion: args.keyVersion,
      symmetricKey: args.symmetricKey,
    }) as Promise<Uint8Array>;
  }

  unwrapKey(key: KeyRef, wrappedKey: Uint8Array) {
    return this.#run({ op: 'unwrapKey', ...publicPart(key), seed: key.seed, wrappedKey }) as Promise<Uint8Array>;
  }

  signHash(key: KeyRef, args: HashArgs) {
    return this.#run({ op: 'signHash', ...publicPart(key), seed: key.seed, ...args }) as Promise<Uint8Array>;
  }

  verifyHash(key: PublicKeyRef, signature: Uint8Array, args: HashArgs) {
    return this.#run({ op: 'verifyHash', ...publicPart(key), signature, ...args }) as Promise<boolean>;
  }

  async #run(task: CryptoTask): Promise<unknown> {
    // Every thread busy and the queue at its bound, or so long a queue that this task would
    // likely miss its deadline: refuse now, before any work is queued.
    const ahead = this.#pool.queueSize;
    if (ahead >= this.maxQueue || this.#likelyLate(ahead)) {
      this.stats.busy++;
      throw new ServiceUnavailableError('Service temporarily unavailable: the server is at capacity, retry shortly');
    }
    const submitted = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new GatewayTimeoutError(`Gateway timeout: the operation did not finish within ${this.deadlineMs} ms`)),
        this.deadlineMs,
      );
    });
    try {
      // No AbortSignal: piscina would terminate a thread in the middle of a task and the restart
      // costs more than the few milliseconds the task has left. A late task finishes, unanswered.
      // The seed goes to the thread as a copy that is moved, not cloned: no copy stays behind in
      // this thread, and the engine's cached seed can be wiped on eviction while the task waits.
      const seed = 'seed' in task ? task.seed.slice() : undefined;
      const sent = seed ? { ...task, seed } : task;
      const result = await Promise.race([this.#pool.run(sent, seed ? { transferList: [seed.buffer] } : {}), deadline]);
      this.stats.completed++;
      this.#observe(performance.now() - submitted, ahead);
      return result;
    } catch (error) {
      if (error instanceof GatewayTimeoutError) {
        this.stats.timedOut++;
        this.#observe(this.deadlineMs, ahead); // at least this long: the estimate rises
        throw error;
      }
      if (error instanceof Error && /queue is at limit/i.test(error.message)) {
        this.stats.busy++;
        throw new ServiceUnavailableError('Service temporarily unavailable: the server is at capacity, retry shortly');
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A task with `ahead` tasks queued before it waits about `ahead / threads` task times, then
   * runs for one. It is refused when that comes to more than half the deadline: the estimate is
   * a mean and a loaded machine's times spread. An empty queue always admits, so the estimate
   * keeps learning and a burst of slow answers can never lock the pool out.
   */
  #likelyLate(ahead: number): boolean {
    return ahead > 0 && (ahead / this.threads + 1) * this.#taskMs > this.deadlineMs / 2;
  }

  /** Folds one answer's time from submission (`ahead` tasks were queued before it) into `#taskMs`. */
  #observe(elapsedMs: number, ahead: number): void {
    const taskMs = elapsedMs / (ahead / this.threads + 1);
    this.#taskMs = this.#taskMs === 0 ? taskMs : 0.8 * this.#taskMs + 0.2 * taskMs;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** What every task carries about its key: the cache id, the public key, and the algorithm row when known. */
function publicPart(key: PublicKeyRef): { id: string; publicKey: Uint8Array; algorithm?: PublicKeyRef['algorithm'] } {
  return { id: key.id, publicKey: key.publicKey, ...(key.algorithm ? { algorithm: key.algorithm } : {}) };
}

/** Built code: `crypto-worker.js` next to this file; from source, `crypto-worker.dev.mjs` (registers tsx first). */
function workerFilename(): string {
  return new URL(import.meta.url.endsWith('.ts') ? './crypto-worker.dev.mjs' : './crypto-worker.js', import.meta.url).href;
}

/** What every task carries about its key: cache id, raw public key and (when named) algorithm. */
function keyOf(key: PublicKeyRef): { id: string; publicKey: Uint8Array; algorithm?: Algorithm } {
  return { id: key.id, publicKey: key.publicKey, ...(key.algorithm ? { algorithm: key.algorithm } : {}) };
}
