/**
 * `npm run bench`: every figure is a median of several rounds measured in this run, printed
 * beside its baseline with the ratio between them. `--json` prints one JSON document instead.
 */
import { benchEngine } from './engine.js';
import { formatRate } from './measure.js';

const json = process.argv.includes('--json');
const report: Record<string, unknown> = { node: process.version, cpus: (await import('node:os')).cpus().length };

const engineRows = await benchEngine();
report.engine = engineRows;

if (json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`Qpher benchmark — Node ${process.version}, medians of 7 rounds (ops/s)\n`);
  console.table(
    engineRows.map((r) => ({
      operation: r.operation,
      'raw primitive': r.baseline,
      'raw ops/s': formatRate(r.baselineOpsPerSec),
      'engine ops/s': formatRate(r.engineOpsPerSec),
      'engine overhead': `${(r.overhead * 100).toFixed(1)}%`,
    })),
  );
}
