/**
 * Raw primitives and the in-process engine, per provider, in one process: for each operation
 * every subject (raw × provider, engine × provider) is measured in interleaved rounds
 * (measure.ts), so machine noise hits all alike and ratios compare like with like.
 *
 * Raw: ML-KEM-768 encapsulate / decapsulate, ML-DSA-65 sign / verify (1 KiB message) through
 * the provider interface, and the same four calls straight to `@noble/post-quantum` one-shot (no
 * prepared keys, no provider): the baseline the engine's overhead is quoted against. Engine: `Engine.execute` for encrypt / decrypt / sign / verify 1 KiB,
 * i.e. validation, base64, a store read, HPKE + AES-256-GCM, on this thread (no pool).
 *
 * `node --import tsx bench/core.ts --json` prints the rows (bench/run.ts runs it under each Node LTS line, bench/node-lts.ts).
 */
import { pathToFileURL } from 'node:url';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { nobleProvider, type PrimitiveProvider } from '../src/crypto/primitives.js';
import { nativeProvider } from '../src/crypto/providers/native.js';
import { wasmProvider } from '../src/crypto/providers/wasm.js';
import { Engine } from '../src/engine/engine.js';
import { bytesToBase64 } from '../src/encoding.js';
import { unwrap } from '../src/errors.js';
import { compare } from './measure.js';

export interface CoreRow {
  node: string;
  /** `hybrid`: the engine with X-Wing / Composite-ML-DSA keys, measured in the same rounds as the pure engine rows. */
  kind: 'raw' | 'engine' | 'hybrid';
  operation: string;
  provider: string;
  opsPerSec: number;
}

/** The raw `@noble/post-quantum` calls, as a library user would make them. */
export const ONE_SHOT = '@noble/post-quantum one-shot';

/** The hybrid measured beside each engine operation (its row's operation is `<name> <operation>`). */
export const HYBRID_OF: Record<string, string> = {
  'encrypt 1 KiB': 'X-Wing',
  'decrypt 1 KiB': 'X-Wing',
  'sign 1 KiB': 'Composite-ML-DSA',
  'verify 1 KiB': 'Composite-ML-DSA',
};

export async function availableProviders(): Promise<PrimitiveProvider[]> {
  const list: PrimitiveProvider[] = [nobleProvider];
  const native = nativeProvider();
  if (native) list.push(native);
  try {
    list.push(await wasmProvider());
  } catch {
    // not installed: measured where it is
  }
  return list;
}

export async function benchCore(options: { rounds?: number; roundMs?: number } = { rounds: 5, roundMs: 150 }): Promise<CoreRow[]> {
  const providers = await availableProviders();
  const kib = globalThis.crypto.getRandomValues(new Uint8Array(1024));
  const plaintext = bytesToBase64(kib);
  const caller = { tenant: 'bench' };
  const id = '00000000-0000-4000-8000-000000000000';

  const raw = providers.map((p) => {
    const kem = p.mlKem768.keygen(globalThis.crypto.getRandomValues(new Uint8Array(64)));
    const dsa = p.mlDsa65.keygen(globalThis.crypto.getRandomValues(new Uint8Array(32)));
    const { cipherText } = p.mlKem768.encapsulate(kem.publicKey);
    const signature = p.mlDsa65.sign(kib, dsa.secretKey);
    return {
      provider: p.name,
      ops: {
        'encrypt 1 KiB': () => p.mlKem768.encapsulate(kem.publicKey),
        'decrypt 1 KiB': () => p.mlKem768.decapsulate(cipherText, kem.secretKey),
        'sign 1 KiB': () => p.mlDsa65.sign(kib, dsa.secretKey),
        'verify 1 KiB': () => p.mlDsa65.verify(signature, kib, dsa.publicKey),
      } as Record<string, () => unknown>,
    };
  });

  {
    const kem = ml_kem768.keygen();
    const dsa = ml_dsa65.keygen();
    const { cipherText } = ml_kem768.encapsulate(kem.publicKey);
    const signature = ml_dsa65.sign(kib, dsa.secretKey);
    raw.push({
      provider: ONE_SHOT,
      ops: {
        'encrypt 1 KiB': () => ml_kem768.encapsulate(kem.publicKey),
        'decrypt 1 KiB': () => ml_kem768.decapsulate(cipherText, kem.secretKey),
        'sign 1 KiB': () => ml_dsa65.sign(kib, dsa.secretKey),
        'verify 1 KiB': () => ml_dsa65.verify(signature, kib, dsa.publicKey),
      },
    });
  }

  const engines = await Promise.all(
    providers.map(async (p) => {
      const engine = await Engine.create({ provider: p });
      const run = async (op: string, req: unknown) => unwrap(await engine.execute(caller, op, req, id)) as Record<string, string>;
      await run('kms.generate', { algorithm: 'Kyber768' });
      await run('kms.generate', { algorithm: 'Dilithium3' });
      const { ciphertext } = await run('kem.encrypt', { plaintext, key_version: 1 });
      const { signature } = await run('signature.sign', { message: plaintext, key_version: 1 });
      await run('kms.generate', { algorithm: 'X-Wing' });
      await run('kms.generate', { algorithm: 'Composite-ML-DSA' });
      const xwing = { key_version: 1, algorithm: 'X-Wing' };
      const composite = { key_version: 1, algorithm: 'Composite-ML-DSA' };
      const hybridCiphertext = (await run('kem.encrypt', { plaintext, ...xwing })).ciphertext;
      const hybridSignature = (await run('signature.sign', { message: plaintext, ...composite })).signature;
      return {
        provider: p.name,
        hybrid: {
          'encrypt 1 KiB': () => run('kem.encrypt', { plaintext, ...xwing }),
          'decrypt 1 KiB': () => run('kem.decrypt', { ciphertext: hybridCiphertext, ...xwing }),
          'sign 1 KiB': () => run('signature.sign', { message: plaintext, ...composite }),
          'verify 1 KiB': () => run('signature.verify', { message: plaintext, signature: hybridSignature, ...composite }),
        } as Record<string, () => unknown>,
        ops: {
          'encrypt 1 KiB': () => run('kem.encrypt', { plaintext, key_version: 1 }),
          'decrypt 1 KiB': () => run('kem.decrypt', { ciphertext, key_version: 1 }),
          'sign 1 KiB': () => run('signature.sign', { message: plaintext, key_version: 1 }),
          'verify 1 KiB': () => run('signature.verify', { message: plaintext, signature, key_version: 1 }),
        } as Record<string, () => unknown>,
      };
    }),
  );

  const rows: CoreRow[] = [];
  for (const operation of ['encrypt 1 KiB', 'decrypt 1 KiB', 'sign 1 KiB', 'verify 1 KiB']) {
    const subjects: Record<string, () => unknown> = {};
    for (const r of raw) subjects[`raw|${r.provider}`] = r.ops[operation]!;
    for (const e of engines) subjects[`engine|${e.provider}`] = e.ops[operation]!;
    for (const e of engines) subjects[`hybrid|${e.provider}`] = e.hybrid[operation]!;
    // ML-DSA signing is variable-time (rejection sampling): longer rounds for a steadier median.
    const measured = await compare(subjects, operation === 'sign 1 KiB' ? { rounds: 7, roundMs: 300 } : options);
    for (const [name, m] of Object.entries(measured)) {
      const [kind, provider] = name.split('|') as [CoreRow['kind'], string];
      const named = kind === 'hybrid' ? `${HYBRID_OF[operation]} ${operation}` : operation;
      rows.push({ node: process.version, kind, operation: named, provider, opsPerSec: m.opsPerSec });
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchCore();
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
  else console.table(rows);
}
