/**
 * The engine's overhead over the raw @noble/post-quantum primitives it wraps, measured in the
 * same run: encrypt 1 KiB vs ML-KEM-768 encapsulate, decrypt vs decapsulate, sign 1 KiB vs
 * ML-DSA-65 sign, verify vs verify. The engine does everything a real call does: validation,
 * base64 both ways, a store read, HPKE and AES-256-GCM.
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { Engine } from '../src/engine/engine.js';
import { bytesToBase64 } from '../src/encoding.js';
import { unwrap } from '../src/errors.js';
import { compare } from './measure.js';

export interface EngineRow {
  operation: string;
  baseline: string;
  baselineOpsPerSec: number;
  engineOpsPerSec: number;
  /** engine time / baseline time - 1, from the medians. */
  overhead: number;
}

export async function benchEngine(options?: { rounds?: number; roundMs?: number }): Promise<EngineRow[]> {
  const engine = await Engine.create();
  const caller = { tenant: 'bench' };
  const id = '00000000-0000-4000-8000-000000000000';
  const run = async (op: string, req: unknown) => unwrap(await engine.execute(caller, op, req, id)) as Record<string, string>;
  const kem = await run('kms.generate', { algorithm: 'Kyber768' });
  await run('kms.generate', { algorithm: 'Dilithium3' });

  const kib = globalThis.crypto.getRandomValues(new Uint8Array(1024));
  const plaintext = bytesToBase64(kib);
  const { ciphertext } = await run('kem.encrypt', { plaintext, key_version: 1 });
  const { signature } = await run('signature.sign', { message: plaintext, key_version: 1 });

  const kemKeys = ml_kem768.keygen();
  const dsaKeys = ml_dsa65.keygen();
  const kemCt = ml_kem768.encapsulate(kemKeys.publicKey).cipherText;
  const dsaSig = ml_dsa65.sign(kib, dsaKeys.secretKey);
  void kem;

  const pairs: Array<[string, string, () => unknown, () => unknown]> = [
    ['encrypt 1 KiB', 'ML-KEM-768 encapsulate', () => ml_kem768.encapsulate(kemKeys.publicKey), () => run('kem.encrypt', { plaintext, key_version: 1 })],
    ['decrypt 1 KiB', 'ML-KEM-768 decapsulate', () => ml_kem768.decapsulate(kemCt, kemKeys.secretKey), () => run('kem.decrypt', { ciphertext, key_version: 1 })],
    ['sign 1 KiB', 'ML-DSA-65 sign', () => ml_dsa65.sign(kib, dsaKeys.secretKey), () => run('signature.sign', { message: plaintext, key_version: 1 })],
    ['verify 1 KiB', 'ML-DSA-65 verify', () => ml_dsa65.verify(dsaSig, kib, dsaKeys.publicKey), () => run('signature.verify', { message: plaintext, signature, key_version: 1 })],
  ];
  const rows: EngineRow[] = [];
  for (const [operation, baseline, raw, viaEngine] of pairs) {
    const m = await compare({ raw, engine: viaEngine }, options);
    rows.push({
      operation,
      baseline,
      baselineOpsPerSec: m.raw!.opsPerSec,
      engineOpsPerSec: m.engine!.opsPerSec,
      overhead: m.raw!.opsPerSec / m.engine!.opsPerSec - 1,
    });
  }
  return rows;
}
