/**
 * Quick comparison of the hybrid algorithms with their pure post-quantum halves, all through
 * `@noble/post-quantum` (and `@noble/curves` for P-256): X-Wing vs ML-KEM-768
 * keygen / encapsulate / decapsulate, composite ML-DSA-65 + ECDSA P-256 vs ML-DSA-65
 * keygen / sign / verify (1 KiB message). Each operation runs in `ROUNDS` interleaved rounds of
 * about `ROUND_MS` each; the median ops/s is printed.
 *
 * Run: `node --import tsx bench/hybrid.ts`.
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { compositeExpandSecretKey, compositeKeygen, compositeSign, compositeVerify } from '../src/crypto/composite-ml-dsa.js';
import { xwingDecapsulate, xwingEncapsulate, xwingExpandSecretKey, xwingKeygen } from '../src/crypto/xwing.js';

const ROUNDS = 5;
const ROUND_MS = 400;

function opsPerSec(fn: () => unknown): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ROUND_MS) {
    fn();
    n++;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));

const message = rand(1024);
const mlKem = ml_kem768.keygen(rand(64));
const mlKemCt = ml_kem768.encapsulate(mlKem.publicKey).cipherText;
const xSeed = rand(32);
const xPk = xwingKeygen(xSeed).publicKey;
const xCt = xwingEncapsulate(xPk).cipherText;
const dsa = ml_dsa65.keygen(rand(32));
const dsaSig = ml_dsa65.sign(message, dsa.secretKey);
const cSeed = rand(32);
const cPk = compositeKeygen(cSeed).publicKey;
const cSig = compositeSign(message, cSeed);
// What the engine's key cache keeps since the hybrids have an expanded form (src/crypto/xwing.ts, composite-ml-dsa.ts).
const xExpanded = xwingExpandSecretKey(xSeed);
const cExpanded = compositeExpandSecretKey(cSeed);

const subjects: Record<string, () => unknown> = {
  'ML-KEM-768 keygen': () => ml_kem768.keygen(rand(64)),
  'X-Wing keygen': () => xwingKeygen(rand(32)),
  'ML-KEM-768 encapsulate': () => ml_kem768.encapsulate(mlKem.publicKey),
  'X-Wing encapsulate': () => xwingEncapsulate(xPk),
  'ML-KEM-768 decapsulate': () => ml_kem768.decapsulate(mlKemCt, mlKem.secretKey),
  'X-Wing decapsulate (from seed)': () => xwingDecapsulate(xCt, xSeed),
  'X-Wing decapsulate (expanded)': () => xwingDecapsulate(xCt, xExpanded),
  'ML-DSA-65 keygen': () => ml_dsa65.keygen(rand(32)),
  'Composite keygen': () => compositeKeygen(rand(32)),
  'ML-DSA-65 sign 1 KiB': () => ml_dsa65.sign(message, dsa.secretKey),
  'Composite sign 1 KiB (from seed)': () => compositeSign(message, cSeed),
  'Composite sign 1 KiB (expanded)': () => compositeSign(message, cExpanded),
  'ML-DSA-65 verify 1 KiB': () => ml_dsa65.verify(dsaSig, message, dsa.publicKey),
  'Composite verify 1 KiB': () => compositeVerify(cSig, message, cPk),
};

const results: Record<string, number[]> = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
for (const fn of Object.values(subjects)) for (let i = 0; i < 20; i++) fn(); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(subjects)) results[name]!.push(opsPerSec(fn));
}
console.log(`node ${process.version}, median of ${ROUNDS} rounds × ${ROUND_MS} ms`);
for (const [name, xs] of Object.entries(results)) console.log(`${name.padEnd(34)} ${median(xs).toFixed(0).padStart(7)} ops/s`);
