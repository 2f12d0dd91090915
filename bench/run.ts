/**
 * `npm run bench`: one table, every figure a median of several rounds measured in this run,
 * each beside its baseline with the ratio between them. `--json` prints one JSON document.
 *
 * Sections (about 2 minutes in all on the 2-core reference machine):
 * - primitives and in-process engine per provider under the newest Node 26 and Node 24 (noble,
 *   wasm, native) in child processes, then on this Node (noble, wasm, and native where it has
 *   it) — interleaved rounds within each process, so the ratios against noble compare like with
 *   like (bench/core.ts, bench/node-lts.ts);
 * - the browser Worker backend in Chromium, noble vs wasm (bench/browser.ts);
 * - the server over loopback at 1, 8 and 64 clients, req/s with p50/p99, against the
 *   single-thread engine with the same provider (bench/server.ts);
 * - engine encrypt on the server's stores (SQLite, and PostgreSQL in a throwaway cluster) with a
 *   5,000-version keyring against a 1-version one: key history must not slow a tenant
 *   (bench/keyring.ts);
 * - the server on SQLite beside the server on PostgreSQL, one and two instances on one database,
 *   at 8 and 64 clients, against SQLite with one instance (bench/server-stores.ts);
 * - bundle sizes and cold start from bench/web.ts when that file is there (its own tables).
 *
 * Flags: --json, --skip=lts,browser,server,keyring,stores,web (for quick local runs).
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchBrowser, type BrowserRow } from './browser.js';
import { benchCore, HYBRID_OF, ONE_SHOT, type CoreRow } from './core.js';
import { formatRate } from './measure.js';
import { benchKeyring, HISTORY, type KeyringResult } from './keyring.js';
import { benchCoreLts } from './node-lts.js';
import { benchServerLoad, type ServerLoadRow } from './server.js';
import { benchServerStores, type StoreBenchRow } from './server-stores.js';

const json = process.argv.includes('--json');
const skip = new Set((process.argv.find((a) => a.startsWith('--skip='))?.slice(7) ?? '').split(',').filter(Boolean));
const started = performance.now();
const log = (line: string) => {
  if (!json) process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${line}\n`);
};

let lts: CoreRow[][] = [];
if (!skip.has('lts')) {
  log('primitives + engine under the newest Node 26 and Node 24');
  lts = await benchCoreLts();
}
log('primitives + engine on this Node');
const core: CoreRow[] = await benchCore();
let browser: BrowserRow[] = [];
if (!skip.has('browser')) {
  log('browser Worker backend (Chromium)');
  browser = await benchBrowser();
}
let server: ServerLoadRow[] = [];
if (!skip.has('server')) {
  log('server over loopback');
  server = await benchServerLoad({ provider: 'noble' });
}
let keyring: KeyringResult | undefined;
if (!skip.has('keyring')) {
  log(`engine encrypt on SQLite and PostgreSQL with ${HISTORY} key versions vs 1`);
  keyring = await benchKeyring();
  for (const line of keyring.skipped) log(`key history: skipped ${line}`);
}

let stores: StoreBenchRow[] = [];
if (!skip.has('stores')) {
  log('server on SQLite vs PostgreSQL, one and two instances');
  stores = await benchServerStores();
}
// bench/web.ts (bundle sizes, cold start) belongs to the bundle work; it runs when present. A file
// that is there but throws fails the whole run: a silently missing section is worse.
let web: unknown;
let printWeb: ((result: never) => void) | undefined;
const webFile = new URL('./web.ts', import.meta.url);
if (existsSync(webFile) && !skip.has('web')) {
  log('web bundle sizes and cold start (bench/web.ts)');
  const mod = (await import(webFile.href)) as { benchWeb: () => Promise<unknown>; printWeb?: (result: never) => void };
  web = await mod.benchWeb();
  printWeb = mod.printWeb;
}

interface Row {
  section: string;
  operation: string;
  subject: string;
  opsPerSec: number;
  p50Ms?: number;
  p99Ms?: number;
  ratio?: number;
  vs?: string;
}

const rows: Row[] = [];
for (const [label, list] of [...lts.map((rows) => [`Node ${rows[0]?.node}`, rows] as const), [`Node ${process.version}`, core] as const]) {
  for (const kind of ['raw', 'engine'] as const) {
    for (const r of list.filter((x) => x.kind === kind)) {
      const base = list.find((x) => x.kind === kind && x.operation === r.operation && x.provider === 'noble')!;
      // The noble engine is compared with the raw one-shot library call: the engine's overhead.
      const oneShot = list.find((x) => x.kind === 'raw' && x.operation === r.operation && x.provider === ONE_SHOT);
      const comparison =
        r.provider !== 'noble'
          ? { ratio: r.opsPerSec / base.opsPerSec, vs: 'noble' }
          : kind === 'engine' && oneShot
            ? { ratio: r.opsPerSec / oneShot.opsPerSec, vs: ONE_SHOT }
            : {};
      rows.push({
        section: `${kind === 'raw' ? 'primitive' : 'engine (1 thread)'} · ${label}`,
        operation: r.operation,
        subject: r.provider,
        opsPerSec: r.opsPerSec,
        ...comparison,
      });
    }
  }
  // The hybrids beside the pure algorithm they extend, same provider, same rounds.
  for (const r of list.filter((x) => x.kind === 'hybrid')) {
    const pureOperation = Object.keys(HYBRID_OF).find((op) => r.operation === `${HYBRID_OF[op]} ${op}`)!;
    const pure = list.find((x) => x.kind === 'engine' && x.operation === pureOperation && x.provider === r.provider);
    const pureName = HYBRID_OF[pureOperation] === 'X-Wing' ? 'ML-KEM-768' : 'ML-DSA-65';
    rows.push({
      section: `hybrid engine (1 thread) · ${label}`,
      operation: r.operation,
      subject: r.provider,
      opsPerSec: r.opsPerSec,
      ...(pure ? { ratio: r.opsPerSec / pure.opsPerSec, vs: `${pureName} engine (${r.provider})` } : {}),
    });
  }
}
for (const r of browser) {
  const base = browser.find((x) => x.operation === r.operation && x.provider === 'noble')!;
  rows.push({
    section: 'browser Worker · Chromium',
    operation: r.operation,
    subject: r.provider,
    opsPerSec: r.opsPerSec,
    ...(r.provider === 'noble' ? {} : { ratio: r.opsPerSec / base.opsPerSec, vs: 'noble Worker' }),
  });
}
for (const r of server) {
  rows.push({
    section: `server · ${r.provider}, ${r.threads} crypto threads`,
    operation: r.operation,
    subject: `${r.connections} client${r.connections === 1 ? '' : 's'}${r.non2xx ? ` (${r.non2xx} non-200)` : ''}`,
    opsPerSec: r.requestsPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    ratio: r.requestsPerSec / r.engineOpsPerSec,
    vs: `engine 1 thread (${r.provider}) ${formatRate(r.engineOpsPerSec)}/s`,
  });
}
for (const r of keyring?.rows ?? []) {
  const base = keyring!.rows.find((x) => x.store === r.store && x.versions === 1)!;
  rows.push({
    section: `engine on ${r.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} · key history`,
    operation: r.operation,
    subject: `${r.versions} version${r.versions === 1 ? '' : 's'} (${r.medianMs.toFixed(2)} ms)`,
    opsPerSec: r.opsPerSec,
    ...(r.versions === 1 ? {} : { ratio: r.opsPerSec / base.opsPerSec, vs: '1 version' }),
  });
}

for (const r of stores) {
  const base = stores.find(
    (x) => x.store === 'sqlite' && x.instances === 1 && x.operation === r.operation && x.connections === r.connections,
  )!;
  rows.push({
    section: `server store · ${r.store}, ${r.instances} instance${r.instances === 1 ? '' : 's'} on one database`,
    operation: r.operation,
    subject: `${r.connections} clients${r.non2xx ? ` (${r.non2xx} non-200)` : ''}`,
    opsPerSec: r.requestsPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    ...(r === base ? {} : { ratio: r.requestsPerSec / base.requestsPerSec, vs: 'sqlite, 1 instance' }),
  });
}
// The issue's targets (server ratios against the engine measured between the server runs), computed from the rows above.
const find = (list: CoreRow[], kind: string, operation: string, provider: string) =>
  list.find((x) => x.kind === kind && x.operation === operation && x.provider === provider)?.opsPerSec;
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a / b : undefined);
const srv = (operation: string, c: number) => server.find((r) => r.operation === operation && r.connections === c);
// What the engine (validation, base64, store read, HPKE, AES-GCM) adds to the raw call.
const overhead = (operation: string) => {
  const engine = find(core, 'engine', operation, 'noble');
  const raw = find(core, 'raw', operation, ONE_SHOT);
  return engine === undefined || raw === undefined ? undefined : raw / engine - 1;
};
const overheadTargets = [
  ['encrypt 1 KiB', 0.25],
  ['decrypt 1 KiB', 0.25],
  ['sign 1 KiB', 0.1],
  ['verify 1 KiB', 0.1],
] as const;
interface Target {
  target: string;
  value: number | undefined;
  goal: number;
  below?: boolean;
  percent?: boolean;
}
const targets = (
  [
    ...overheadTargets.map(([operation, goal]) => ({
      target: `noble engine ${operation} adds < ${goal * 100}% to the raw ${ONE_SHOT} call`,
      value: overhead(operation),
      goal,
      below: true,
      percent: true,
    })),
    {
      target: 'server sign @64 clients ≥ 1.7× single-thread engine (same provider)',
      value: ratio(srv('sign 1 KiB', 64)?.requestsPerSec, srv('sign 1 KiB', 64)?.engineOpsPerSec),
      goal: 1.7,
    },
    {
      target: 'server sign p99 < 4× p50 @8 clients',
      value: ratio(srv('sign 1 KiB', 8)?.p99Ms, srv('sign 1 KiB', 8)?.p50Ms),
      goal: 4,
      below: true,
    },
    {
      target: 'server encrypt p99 < 4× p50 @8 clients',
      value: ratio(srv('encrypt 1 KiB', 8)?.p99Ms, srv('encrypt 1 KiB', 8)?.p50Ms),
      goal: 4,
      below: true,
    },
    ...lts.flatMap((rows) =>
      (['sign 1 KiB', 'encrypt 1 KiB'] as const).map((operation) => ({
        target: `Node ${rows[0]?.node} native engine ${operation} ≥ 8× noble engine`,
        value: ratio(find(rows, 'engine', operation, 'native'), find(rows, 'engine', operation, 'noble')),
        goal: 8,
      })),
    ),
    ...(['sqlite', 'postgres'] as const).map((store) => ({
      target: `engine encrypt latency with ${HISTORY} key versions < 1.3× with 1 (${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, median of paired rounds)`,
      value: keyring?.ratios[store],
      goal: 1.3,
      below: true,
    })),
    {
      target: 'browser Worker wasm sign ≥ 10× noble Worker',
      value: ratio(
        browser.find((r) => r.provider === 'wasm' && r.operation === 'sign 1 KiB')?.opsPerSec,
        browser.find((r) => r.provider === 'noble' && r.operation === 'sign 1 KiB')?.opsPerSec,
      ),
      goal: 10,
    },
  ] as Target[]
).map((t) => ({ ...t, met: t.value === undefined ? undefined : t.below ? t.value < t.goal : t.value >= t.goal }));

const seconds = (performance.now() - started) / 1000;
if (json) {
  console.log(
    JSON.stringify(
      { node: process.version, cpus: cpus().length, seconds, rows, targets, core, lts, browser, server, keyring, stores, web },
      null,
      2,
    ),
  );
} else {
  console.log(
    `\nQpher benchmark — ${cpus().length} cores, medians (primitives/engine: 5 interleaved rounds of 150 ms, sign 7 of 300 ms; browser: 5 of 400 ms; server: 3 runs of 2 s; stores: 1 run of 2 s), ${seconds.toFixed(0)} s\n`,
  );
  const table = rows.map((r) => ({
    section: r.section,
    operation: r.operation,
    subject: r.subject,
    'ops/s': formatRate(r.opsPerSec),
    'p50 ms': r.p50Ms === undefined ? '' : r.p50Ms.toFixed(1),
    'p99 ms': r.p99Ms === undefined ? '' : r.p99Ms.toFixed(1),
    ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    vs: r.vs ?? '',
  }));
  const head = Object.keys(table[0]!) as (keyof (typeof table)[number])[];
  const widths = head.map((h) => Math.max(h.length, ...table.map((t) => t[h].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  let previous = '';
  for (const t of table) {
    if (previous && t.section !== previous) console.log('');
    previous = t.section;
    console.log(line(head.map((h) => t[h])));
  }
  console.log('\nTargets');
  for (const t of targets) {
    const value = t.value === undefined ? 'not measured' : 'percent' in t ? `${(t.value * 100).toFixed(1)}%` : `${t.value.toFixed(2)}×`;
    console.log(`  ${t.met === undefined ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.target}: ${value}`);
  }
  if (web !== undefined && printWeb) printWeb(web as never);
}
