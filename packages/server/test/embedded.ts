/**
 * An embedded server for the tests that need the server's own objects (its store, its access log)
 * as well as real HTTP: `startServer` from src/node.ts in this process, on 127.0.0.1 port 0, in a
 * fresh data directory, with one API key of tenant `t` (all scopes unless given).
 */
import { SCOPES, type Scope } from 'qpher/host';
import { type RunningServer, type ServeOptions, startServer } from '../src/node.js';
import { removeDir, tempDir } from '../../../test/support/server.js';

export interface EmbeddedServer {
  url: string;
  port: number;
  dir: string;
  key: string;
  running: RunningServer;
  /** Access-log and server log lines so far. */
  lines: string[];
  /** Another API key for this server. */
  addKey(tenant: string, scopes?: readonly Scope[]): Promise<string>;
  close(): Promise<void>;
}

export async function embeddedServer(options: Partial<ServeOptions> = {}): Promise<EmbeddedServer> {
  const dir = await tempDir();
  const lines: string[] = [];
  const running = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir,
    cryptoThreads: 0,
    env: {},
    log: (line) => lines.push(line),
    ...options,
  });
  const addKey = async (tenant: string, scopes: readonly Scope[] = SCOPES) => (await running.store.issueApiKey(tenant, scopes)).key;
  const key = await addKey('t');
  return {
    url: running.url,
    port: Number(new URL(running.url).port),
    dir,
    key,
    running,
    lines,
    addKey,
    async close() {
      await running.close();
      await removeDir(dir);
    },
  };
}
