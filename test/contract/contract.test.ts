/**
 * One contract suite, every backend. Each scenario runs against each backend with a fresh
 * keyspace; the last test proves that the backends answered identically: the same envelope
 * shapes, error codes, messages and data, except request ids, timestamps and randomised bytes
 * (whose decoded lengths must still match). See transcript.ts for the normalisation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalBackend, Qpher, RemoteBackend } from '../../src/index.js';
import { startBrowserBridge, type BrowserBridge } from '../../e2e/browser-bridge.js';
import { type PostgresCluster, startPostgres } from '../support/postgres.js';
import { createApiKey, killAll, removeDir, startServer, tempDir, type ServerProcess } from '../support/server.js';
import { scenarios } from './scenarios.js';
import { Transcript } from './transcript.js';

/** backend name -> scenario name -> normalised envelopes */
const transcripts = new Map<string, Map<string, unknown[]>>();

function contract(backend: string, makeQpher: () => Promise<Qpher>): void {
  const recorded = new Map<string, unknown[]>();
  transcripts.set(backend, recorded);
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(name, async () => {
      const q = await makeQpher();
      const transcript = new Transcript();
      try {
        await scenario(q, transcript);
      } finally {
        await q.close();
      }
      recorded.set(name, transcript.entries);
    });
  }
}

describe('contract: local backend, in-process (Node)', () => {
  contract('local', async () => new Qpher({ backend: new LocalBackend() }));
});

describe('contract: remote backend against a real server on 127.0.0.1', () => {
  let server: ServerProcess;
  let dataDir: string;
  let tenants = 0;
  beforeAll(async () => {
    dataDir = await tempDir('qpher-contract-');
    // The suite sends bursts of requests on purpose; rate limiting has its own tests.
    server = await startServer(dataDir, ['--rate-limit', '100000:100000']);
  });
  afterAll(async () => {
    await server?.stop();
    killAll();
    await removeDir(dataDir);
  });
  contract('remote', async () => {
    const apiKey = await createApiKey(dataDir, `contract-${++tenants}`);
    return new Qpher({ backend: new RemoteBackend({ baseUrl: server.url, apiKey, retries: 0 }) });
  });
});

describe('contract: remote backend against a real server on PostgreSQL', () => {
  const masterKey = Buffer.alloc(32, 3).toString('base64');
  let cluster: PostgresCluster;
  let server: ServerProcess;
  let dataDir: string;
  let store: { args: string[]; env: NodeJS.ProcessEnv };
  let tenants = 0;
  beforeAll(async () => {
    cluster = await startPostgres();
    store = { args: ['--database', await cluster.createDatabase('contract')], env: { QPHER_MASTER_KEY: masterKey } };
    dataDir = await tempDir('qpher-contract-pg-');
    server = await startServer(dataDir, ['--rate-limit', '100000:100000', ...store.args], store.env);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    killAll();
    await removeDir(dataDir);
    await cluster?.stop();
  });
  contract('remote-pg', async () => {
    const apiKey = await createApiKey(dataDir, `contract-${++tenants}`, undefined, store);
    return new Qpher({ backend: new RemoteBackend({ baseUrl: server.url, apiKey, retries: 0 }) });
  });
});

describe('contract: local backend in real Chromium (module Worker + IndexedDB)', () => {
  let bridge: BrowserBridge;
  beforeAll(async () => {
    bridge = await startBrowserBridge();
  }, 120_000);
  afterAll(async () => {
    await bridge?.close();
  });
  contract('browser', async () => new Qpher({ backend: await bridge.backend() }));
  test('no console errors in any page', () => {
    expect(bridge.errors).toEqual([]);
  });
});

describe('contract: every backend answered identically', () => {
  test('same envelopes, codes, messages and data, scenario by scenario', () => {
    const [reference, ...others] = [...transcripts.entries()];
    if (!reference) throw new Error('no backend ran');
    expect(others.map(([backend]) => backend)).toEqual(['remote', 'remote-pg', 'browser']);
    for (const name of Object.keys(scenarios)) expect(reference[1].get(name)?.length, name).toBeGreaterThan(0);
    for (const [backend, recorded] of others) {
      for (const name of Object.keys(scenarios)) {
        expect(recorded.get(name), `${backend} ran "${name}"`).toBeDefined();
        expect(recorded.get(name), `${backend} vs ${reference[0]}: "${name}"`).toEqual(reference[1].get(name));
      }
    }
  });
});
