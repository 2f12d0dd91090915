/**
 * Tiny benchmark harness: time-boxed rounds, ops/s per round, median over rounds. Pairs of
 * subjects are measured in alternating rounds so that machine noise hits both alike.
 */
export interface Measured {
  name: string;
  opsPerSec: number; // median over rounds
  rounds: number[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function round(fn: () => unknown, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    await fn();
    ops++;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

/** Measures `subjects` in interleaved rounds after one warm-up round each. */
export async function compare(
  subjects: Record<string, () => unknown>,
  { rounds = 7, roundMs = 250 }: { rounds?: number; roundMs?: number } = {},
): Promise<Record<string, Measured>> {
  const results: Record<string, number[]> = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
  for (const fn of Object.values(subjects)) await round(fn, roundMs / 2);
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(subjects)) results[name]!.push(await round(fn, roundMs));
  }
  return Object.fromEntries(Object.entries(results).map(([name, values]) => [name, { name, opsPerSec: median(values), rounds: values }]));
}

export function formatRate(opsPerSec: number): string {
  return opsPerSec >= 100 ? Math.round(opsPerSec).toLocaleString('en-US') : opsPerSec.toFixed(1);
}
