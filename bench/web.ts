/**
 * Web delivery figures: bundle sizes per budget row and the local backend's cold start
 * in Chromium, both measured on the third-party Vite app in fixtures/web-app, built against a
 * fresh build of this package. `npm run bench:web` prints them; bench/run.ts can call `benchWeb()`.
 *
 * Cold start: the built app is served by `vite preview` on 127.0.0.1 and loaded in Debian's
 * Chromium (no browser download). One page first makes sure a Kyber768 key exists in IndexedDB;
 * then each variant is loaded ROUNDS times in new pages of the same browser context (so the
 * IndexedDB is already there, as on a returning visit), interleaved. Each page times, with
 * performance.now(), its first `kem.encrypt` and 5 later ones. Variants:
 *   lazy            LocalBackend() and an encrypt as soon as the module runs: the first call pays
 *                   Worker start, IndexedDB open and key unwrap
 *   eager           LocalBackend({ eager: true }) and an encrypt as soon as the module runs
 *   eager, +500 ms  LocalBackend({ eager: true }), the first encrypt 500 ms later (a user's click)
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from '@playwright/test';
import { preview } from 'vite';
import { appRoot, BUDGETS, buildApp, kb, measureRow, removeStage, stagePackage } from '../test/size/harness.js';

const ROUNDS = 9;
const COLD_START_BUDGET_MS = 150;

export interface WebSizeRow {
  row: string;
  budgetBytes: number;
  /** gzip -9 bytes of this package's code only (dependencies external). */
  packageBytes: number;
  /** gzip -9 bytes as the app ships it, dependencies included. */
  totalBytes: number;
}

export interface ColdStartRow {
  variant: 'lazy' | 'eager' | 'eager, +500 ms';
  /** Median duration of the first kem.encrypt of a page load, ms. */
  firstMs: number;
  /** Median of the later calls' durations (5 per page, all pages pooled), ms. */
  laterMs: number;
  /** Median time from navigation start to the first result, ms. */
  firstDoneAtMs: number;
  rounds: number;
}

/** The lazy first call split in two (medians): a `kms.active` first, then the first `kem.encrypt`. */
export interface ColdStartPhases {
  /** Worker fetch + evaluation, IndexedDB open, wrapping key read, keyring read (the `kms.active`). */
  startupMs: number;
  /** The key's first use by `kem.encrypt`: seed unwrap, key expansion, encapsulation. */
  firstUseMs: number;
}

export interface WebBench {
  /** 1-minute load average when the cold-start runs ended: timings on a busy machine are slower. */
  loadAverage: number;
  sizes: WebSizeRow[];
  coldStart: ColdStartRow[];
  coldStartPhases: ColdStartPhases;
  coldStartBudgetMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function benchWeb(): Promise<WebBench> {
  const stage = stagePackage('bench');
  try {
    return await measureAll(stage);
  } finally {
    removeStage(stage);
  }
}

async function measureAll(stage: string): Promise<WebBench> {
  const remote = await measureRow(stage, 'rows/remote.ts');
  const local = await measureRow(stage, 'rows/local.ts');
  const offline = await measureRow(stage, 'rows/offline.ts');
  const sizes: WebSizeRow[] = [
    { row: 'Qpher + RemoteBackend', budgetBytes: BUDGETS.remote, packageBytes: remote.packageOnly.main, totalBytes: remote.total.main },
    {
      row: 'Qpher + LocalBackend, main thread',
      budgetBytes: BUDGETS.localMain,
      packageBytes: local.packageOnly.main,
      totalBytes: local.total.main,
    },
    {
      row: 'LocalBackend Worker chunk',
      budgetBytes: BUDGETS.localWorker,
      packageBytes: local.packageOnly.worker,
      totalBytes: local.total.worker,
    },
    { row: 'seal + verify', budgetBytes: BUDGETS.offline, packageBytes: offline.packageOnly.main, totalBytes: offline.total.main },
  ];
  const { rows, phases } = await coldStart(stage);
  return { loadAverage: loadavg()[0]!, sizes, coldStart: rows, coldStartPhases: phases, coldStartBudgetMs: COLD_START_BUDGET_MS };
}

interface Phases {
  startup: number;
  firstUse: number;
}

async function coldStart(stage: string): Promise<{ rows: ColdStartRow[]; phases: ColdStartPhases }> {
  const outDir = join(stage, 'app-dist');
  await buildApp(stage, outDir);
  const server = await preview({
    configFile: join(appRoot, 'vite.config.ts'),
    logLevel: 'silent',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const base = server.resolvedUrls?.local[0];
    if (!base) throw new Error('vite preview did not report its URL');
    const context = await browser.newContext();
    const load = async (query: string) => {
      const page = await context.newPage();
      try {
        await page.goto(new URL(`?${query}`, base).href);
        await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, undefined, { timeout: 30_000 });
        const result = (await page.evaluate(() => (window as { __result?: unknown }).__result)) as {
          error?: string;
          first: number;
          later: number[];
          firstDoneAt: number;
        };
        if (result.error) throw new Error(`fixture page failed: ${result.error}`);
        return result;
      } finally {
        await page.close();
      }
    };
    await load('setup');
    const variants = [
      { variant: 'lazy', query: 'run' },
      { variant: 'eager', query: 'run&eager' },
      { variant: 'eager, +500 ms', query: 'run&eager&wait=500' },
    ] as const;
    const samples = new Map(variants.map((v) => [v.variant, [] as Awaited<ReturnType<typeof load>>[]]));
    await load('run'); // one unmeasured load: the first ever fetch of the app's files
    for (let round = 0; round < ROUNDS; round++) {
      for (const { variant, query } of variants) samples.get(variant)!.push(await load(query));
    }
    const phases = [];
    for (let round = 0; round < ROUNDS; round++) phases.push((await load('phases')) as unknown as Phases);
    const rows = variants.map(({ variant }) => {
      const runs = samples.get(variant)!;
      return {
        variant,
        firstMs: median(runs.map((r) => r.first)),
        laterMs: median(runs.flatMap((r) => r.later)),
        firstDoneAtMs: median(runs.map((r) => r.firstDoneAt)),
        rounds: runs.length,
      };
    });
    return {
      rows,
      phases: {
        startupMs: median(phases.map((p) => p.startup)),
        firstUseMs: median(phases.map((p) => p.firstUse)),
      },
    };
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}

/** Prints the two tables (used by `npm run bench:web`; bench/run.ts may call it too). */
export function printWeb(result: WebBench): void {
  console.log('\nBundle sizes in a Vite app (gzip -9, 1 KB = 1000 bytes; fixtures/web-app)');
  console.table(
    result.sizes.map((r) => ({
      'what the app imports': r.row,
      'this package': kb(r.packageBytes),
      'with dependencies': kb(r.totalBytes),
      budget: `≤ ${kb(r.budgetBytes)}`,
      ok: r.packageBytes <= r.budgetBytes ? 'yes' : 'NO',
    })),
  );
  console.log(
    `\nLocalBackend cold start in Chromium, medians of ${result.coldStart[0]?.rounds ?? 0} page loads (kem.encrypt, ms; load average ${result.loadAverage.toFixed(1)})`,
  );
  console.table(
    result.coldStart.map((r) => ({
      variant: r.variant,
      'first call': r.firstMs.toFixed(1),
      'later calls': r.laterMs.toFixed(1),
      'first result after navigation': r.firstDoneAtMs.toFixed(0),
      [`first ≤ ${result.coldStartBudgetMs} ms`]: r.firstMs <= result.coldStartBudgetMs ? 'yes' : 'NO',
    })),
  );
  const p = result.coldStartPhases;
  console.log(
    `Lazy first call split (medians): Worker start + IndexedDB + keyring read ${p.startupMs.toFixed(1)} ms, then the key's first use ${p.firstUseMs.toFixed(1)} ms`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchWeb();
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else printWeb(result);
}
