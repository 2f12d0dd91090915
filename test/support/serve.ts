/**
 * The one way tests, the bench and the e2e setup run a `qpher serve` process: spawn a command,
 * collect its stdout and stderr, and resolve once it prints `listening on <url>` (cli.ts prints
 * that line only after its signal handlers are in place, so a SIGTERM from then on is graceful).
 * If the process exits first, or prints no URL within `timeoutMs`, it rejects with its output.
 * No vitest import: bench/ and e2e/ use this outside a test run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Node arguments that run the server's CLI from source: tsx, with `qpher/*` resolved to src/ (package.json `exports`). */
export const SOURCE_CLI = [
  '--conditions=qpher-source',
  '--import',
  'tsx',
  fileURLToPath(new URL('../../packages/server/src/cli.ts', import.meta.url)),
];

export interface Served {
  url: string;
  proc: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves to the exit code once it has exited. */
  exited: Promise<number | null>;
  /** SIGTERM (to its process group when spawned `detached`) and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

export interface ServeSpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default 20 s. */
  timeoutMs?: number;
  /** Own process group, for wrappers such as `npx` that start the server as a grandchild. */
  detached?: boolean;
  /** Called with every process started, before it prints anything (for test-wide cleanup). */
  onSpawn?: (proc: ChildProcess, exited: Promise<number | null>) => void;
}

export class StartFailure extends Error {
  readonly code: number | null;
  readonly output: string;
  constructor(code: number | null, output: string) {
    super(`server exited with ${code}:\n${output}`);
    this.code = code;
    this.output = output;
  }
}

/** `spawnServe(process.execPath, [...SOURCE_CLI, 'serve', '--port', '0', ...])` runs the CLI from source. */
export function spawnServe(command: string, args: string[], options: ServeSpawnOptions = {}): Promise<Served> {
  const proc = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  options.onSpawn?.(proc, exited);
  const signal = (name: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    if (options.detached && proc.pid !== undefined) process.kill(-proc.pid, name);
    else proc.kill(name);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      reject(new Error(`server printed no URL in ${options.timeoutMs ?? 20_000} ms:\n${out}`));
    }, options.timeoutMs ?? 20_000);
    const onData = () => {
      const url = /listening on (https?:\/\/[^\s]+)/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      resolve({
        url,
        proc,
        output: () => out,
        exited,
        stop: async () => {
          signal('SIGTERM');
          return exited;
        },
        kill9: async () => {
          signal('SIGKILL');
          await exited;
        },
      });
    };
    proc.stdout!.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new StartFailure(code, out));
    });
  });
}
