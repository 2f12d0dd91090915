/**
 * `npx tsx bench/backup-kdf.ts [runs]`: what opening a key backup costs (src/crypto/backup.ts),
 * i.e. one Argon2id derivation plus AES-GCM, at the default parameters and two neighbours.
 * Prints the median and range of wall time and of this process's CPU time (user + system) over
 * `runs` runs (default 7) after one warm-up. On a shared machine wall time includes waiting for
 * a core; CPU time is what the derivation itself costs, and what an attacker pays per guess on a
 * comparable core (more on native code, see docs/backup.md).
 * @module
 */
import { DEFAULT_KDF_PARAMS, decodeBackup, encodeBackup, type Argon2idParams } from '../src/crypto/backup.js';
import { median } from './measure.js';

const runs = Number(process.argv[2] ?? 7);
const settings: Array<[string, Argon2idParams]> = [
  ['default', DEFAULT_KDF_PARAMS],
  ['19 MiB, t=2', { memoryKiB: 19_456, passes: 2, parallelism: 1 }],
  ['64 MiB, t=1', { memoryKiB: 65_536, passes: 1, parallelism: 1 }],
];

for (const [name, kdf] of settings) {
  const backup = await encodeBackup([], 'a passphrase', { kdf });
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await decodeBackup(backup, 'a passphrase');
    const elapsed = performance.now() - start;
    const used = process.cpuUsage(cpuStart);
    if (i === 0) continue; // warm-up
    wall.push(elapsed);
    cpu.push((used.user + used.system) / 1000);
  }
  const show = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  console.log(`${name.padEnd(12)} m=${kdf.memoryKiB} KiB t=${kdf.passes} p=${kdf.parallelism}  wall ${show(wall)}  cpu ${show(cpu)}`);
}
