/**
 * The browser bench page: two LocalBackends, each with its own module Worker and IndexedDB
 * database: the library's default Worker (noble) and a Worker that runs the wasm provider
 * (wasm-worker.ts). `window.__bench.measure(subject, operation, ms)` runs calls back to back for
 * `ms` milliseconds inside the page and returns ops/s, so Playwright's per-call overhead is not in
 * the figure; bench/browser.ts interleaves the subjects round by round.
 */
import { LocalBackend, unwrap } from '../../src/index.js';

const kib = crypto.getRandomValues(new Uint8Array(1024));
let binary = '';
for (const byte of kib) binary += String.fromCharCode(byte);
const message = btoa(binary);

const backends = {
  noble: new LocalBackend({ dbName: `bench-noble-${Date.now()}`, persist: false }),
  wasm: new LocalBackend({
    dbName: `bench-wasm-${Date.now()}`,
    persist: false,
    workerProvider: 'wasm',
    worker: () => new Worker(new URL('./wasm-worker.ts', import.meta.url), { type: 'module', name: 'qpher-wasm' }),
  }),
};
type Subject = keyof typeof backends;

const call = async (subject: Subject, operation: string, request: unknown) =>
  unwrap(await backends[subject].call(operation as never, request, { requestId: crypto.randomUUID() })) as Record<string, unknown>;

const OPERATIONS: Record<string, [string, unknown]> = {
  'encrypt 1 KiB': ['kem.encrypt', { plaintext: message, key_version: 1 }],
  'sign 1 KiB': ['signature.sign', { message, key_version: 1 }],
};

async function setup(): Promise<Record<Subject, string>> {
  const info = {} as Record<Subject, string>;
  for (const subject of Object.keys(backends) as Subject[]) {
    await call(subject, 'kms.generate', { algorithm: 'Kyber768' });
    await call(subject, 'kms.generate', { algorithm: 'Dilithium3' });
    for (const [operation, request] of Object.values(OPERATIONS)) await call(subject, operation, request);
    info[subject] = (await backends[subject].info()).provider;
  }
  return info;
}

async function measure(subject: Subject, name: string, ms: number): Promise<number> {
  const [operation, request] = OPERATIONS[name]!;
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await call(subject, operation, request);
    count++;
  }
  return (count * 1000) / (performance.now() - start);
}

(window as unknown as { __bench: unknown }).__bench = { measure, ready: setup() };
document.getElementById('status')!.textContent = 'ready';
