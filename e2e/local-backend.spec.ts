/**
 * LocalBackend in real Chromium: the engine in its module Worker, keys in the page origin's real
 * IndexedDB. Every test opens the Vite-built fixture page (e2e/fixtures) with its own database
 * and fails on any console error or uncaught page error.
 */
import { expect, test as base, type Page } from '@playwright/test';

interface Envelope {
  data?: any;
  error?: { code: string; message: string };
  request_id: string;
  timestamp: string;
}

const test = base.extend<{ errors: string[] }>({
  errors: async ({ context }, use) => {
    const errors: string[] = [];
    context.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    context.on('weberror', (error) => errors.push(`pageerror: ${error.error().message}`));
    await use(errors);
  },
});

let dbCounter = 0;
const uniqueDb = (label: string) => `e2e-${label}-${Date.now()}-${++dbCounter}`;

async function openPage(page: Page, query: string): Promise<void> {
  await page.goto(`/?${query}`);
  await expect(page.locator('#status')).toHaveText('ready');
}

/** Calls a facade method in the page: `call(page, 'kms.generate', { algorithm: 'Kyber768' })`. */
function call(page: Page, method: string, request: unknown): Promise<Envelope> {
  return page.evaluate(
    ([method, request]) => {
      const [group, name] = (method as string).split('.') as [string, string];
      return (window as any).__qpher[group][name](request);
    },
    [method, request] as const,
  );
}

function data(envelope: Envelope): any {
  expect(envelope.error, JSON.stringify(envelope.error)).toBeUndefined();
  return envelope.data;
}

/** The keyring rows of a database as the page reads them straight from IndexedDB. */
async function keyringRows(page: Page, db: string) {
  const rows = await page.evaluate(() => (window as any).__qpherTest.dumpIndexedDb());
  return rows.filter((row: any) => row.db === db);
}

test.afterEach(async ({ errors }) => {
  expect(errors, 'no console errors or uncaught page errors').toEqual([]);
});

test('generate, encrypt, decrypt, sign, verify, rotate, retire and archive, asserted on IndexedDB', async ({ page }) => {
  const db = uniqueDb('lifecycle');
  await openPage(page, `db=${db}`);
  const info = await page.evaluate(() => (window as any).__qpherBackend.info());
  expect(info).toMatchObject({ runtime: 'worker', store: 'indexeddb', provider: 'noble' });
  expect(typeof info.persisted).toBe('boolean');

  const kem1 = data(await call(page, 'kms.generate', { algorithm: 'Kyber768' }));
  expect(kem1).toMatchObject({ key_version: 1, algorithm: 'Kyber768', status: 'active' });
  expect(await call(page, 'kms.generate', { algorithm: 'Kyber768' })).toMatchObject({ error: { code: 'ERR_FORBIDDEN_001' } });
  const plaintext = btoa('hello from the page');
  const aad = btoa('header');
  const { ciphertext } = data(await call(page, 'kem.encrypt', { plaintext, key_version: 1, aad }));
  expect(data(await call(page, 'kem.decrypt', { ciphertext, key_version: 1, aad })).plaintext).toBe(plaintext);
  const bytes = Uint8Array.from(atob(ciphertext), (c) => c.charCodeAt(0));
  bytes[bytes.length - 1]! ^= 1; // the last byte of the AES-GCM tag
  const tampered = btoa(String.fromCharCode(...bytes));
  expect(await call(page, 'kem.decrypt', { ciphertext: tampered, key_version: 1, aad })).toMatchObject({
    error: { code: 'ERR_INVALID_001', message: 'Decryption failed' },
  });
  const det = { plaintext, key_version: 1, mode: 'deterministic', salt: btoa('salt') };
  expect(data(await call(page, 'kem.encrypt', det)).ciphertext).toBe(data(await call(page, 'kem.encrypt', det)).ciphertext);

  data(await call(page, 'kms.generate', { algorithm: 'Dilithium3' }));
  const message = btoa('signed in a Worker');
  const context = btoa('ctx');
  const { signature } = data(await call(page, 'signature.sign', { message, key_version: 1, context }));
  expect(data(await call(page, 'signature.verify', { message, signature, key_version: 1, context })).valid).toBe(true);
  expect(data(await call(page, 'signature.verify', { message: btoa('other'), signature, key_version: 1, context })).valid).toBe(false);

  // rotate: v2 active, v1 retired (decrypt and verify only)
  expect(data(await call(page, 'kms.rotate', { algorithm: 'Kyber768' }))).toMatchObject({ key_version: 2, status: 'active' });
  expect(await call(page, 'kem.encrypt', { plaintext, key_version: 1 })).toMatchObject({ error: { code: 'ERR_FORBIDDEN_001' } });
  expect(data(await call(page, 'kem.decrypt', { ciphertext, key_version: 1, aad })).plaintext).toBe(plaintext);
  expect(data(await call(page, 'kms.active', { algorithm: 'Kyber768' })).key_version).toBe(2);
  // retire v2, archive v1: nothing works with an archived key
  expect(data(await call(page, 'kms.retire', { algorithm: 'Kyber768', key_version: 2 })).status).toBe('retired');
  expect(data(await call(page, 'kms.archive', { algorithm: 'Kyber768', key_version: 1 })).status).toBe('archived');
  expect(await call(page, 'kem.decrypt', { ciphertext, key_version: 1, aad })).toMatchObject({ error: { code: 'ERR_FORBIDDEN_001' } });
  expect(await call(page, 'kms.active', { algorithm: 'Kyber768' })).toMatchObject({ error: { code: 'ERR_NOT_FOUND_001' } });
  expect(await call(page, 'kms.get', { algorithm: 'Kyber768', key_version: 9 })).toMatchObject({ error: { code: 'ERR_KEM_005' } });

  // What IndexedDB really holds: one row per key version in `keys` (so an operation reads one
  // row, whatever the keyring holds), a marker per keyring and one wrapping key in `keyrings`.
  const rows = await keyringRows(page, db);
  const keyRows = rows.filter((r: any) => r.store === 'keys');
  expect(keyRows.map((r: any) => [r.key, r.value.status])).toEqual([
    [['local', 'Dilithium3', 1], 'active'],
    [['local', 'Kyber768', 1], 'archived'],
    [['local', 'Kyber768', 2], 'retired'],
  ]);
  const kem1Row = keyRows[1].value;
  expect(kem1Row).toMatchObject({ tenant: 'local', algorithm: 'Kyber768', key_version: 1, public_key: kem1.public_key });
  expect(kem1Row.wrapped_seed.bytes).toMatch(/^[0-9a-f]{184}$/); // 12 IV + 64 seed + 16 tag
  const markers = rows.filter((r: any) => r.store === 'keyrings' && r.key !== 'wrapping-key');
  expect(markers.map((r: any) => [r.key, r.value])).toEqual([
    [['keyring', 'local', 'Dilithium3'], { format: 2 }],
    [['keyring', 'local', 'Kyber768'], { format: 2 }],
  ]);
  const keyRow = rows.find((r: any) => r.key === 'wrapping-key');
  expect(keyRow.value.cryptoKey).toMatchObject({
    type: 'secret',
    extractable: false,
    algorithm: { name: 'AES-GCM', length: 256 },
    exports: [
      { format: 'raw', error: 'InvalidAccessError' },
      { format: 'jwk', error: 'InvalidAccessError' },
    ],
  });
  expect(rows).toHaveLength(6);
  await page.evaluate(() => (window as any).__qpher.close());
});

test('keys survive a page reload', async ({ page }) => {
  const db = uniqueDb('reload');
  await openPage(page, `db=${db}`);
  const kem = data(await call(page, 'kms.generate', { algorithm: 'Kyber768' }));
  const dsa = data(await call(page, 'kms.generate', { algorithm: 'Dilithium3' }));
  const plaintext = btoa('kept across reloads');
  const { ciphertext } = data(await call(page, 'kem.encrypt', { plaintext, key_version: 1 }));
  const { signature } = data(await call(page, 'signature.sign', { message: plaintext, key_version: 1 }));

  await page.reload();
  await expect(page.locator('#status')).toHaveText('ready');
  const started = Date.now();
  expect(data(await call(page, 'kem.decrypt', { ciphertext, key_version: 1 })).plaintext).toBe(plaintext);
  console.log(`first call after reload (Worker start, IndexedDB open, unwrap, decrypt): ${Date.now() - started} ms`);
  expect(data(await call(page, 'signature.verify', { message: plaintext, signature, key_version: 1 })).valid).toBe(true);
  expect(data(await call(page, 'kms.list', { algorithm: 'Kyber768' })).keys).toEqual([kem]);
  expect(data(await call(page, 'kms.list', { algorithm: 'Dilithium3' })).keys).toEqual([dsa]);
  expect(data(await call(page, 'kms.rotate', { algorithm: 'Kyber768' })).key_version).toBe(2);
});

test('a database of the earlier layout (one row per keyring, schema 1) is upgraded with every key usable', async ({ page }) => {
  // Real keys first, made by this build in a scratch database, then copied into a fresh database
  // laid out exactly as earlier releases wrote it (idb-keyval's `keyrings` store at version 1).
  const scratch = uniqueDb('v1-source');
  await openPage(page, `db=${scratch}`);
  const kem = data(await call(page, 'kms.generate', { algorithm: 'Kyber768' }));
  const dsa = data(await call(page, 'kms.generate', { algorithm: 'Dilithium3' }));
  const plaintext = btoa('written before the upgrade');
  const { ciphertext } = data(await call(page, 'kem.encrypt', { plaintext, key_version: 1 }));
  const { signature } = data(await call(page, 'signature.sign', { message: plaintext, key_version: 1 }));
  await page.evaluate(() => (window as any).__qpher.close());
  const legacy = uniqueDb('v1');
  await page.evaluate(
    async ([from, to]) => {
      const request = <T>(r: IDBRequest<T>) =>
        new Promise<T>((resolve, reject) => {
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
      const source = await request(indexedDB.open(from!));
      const keys: any[] = await request(source.transaction('keys').objectStore('keys').getAll());
      const wrapping = await request(source.transaction('keyrings').objectStore('keyrings').get('wrapping-key'));
      source.close();
      const open = indexedDB.open(to!, 1);
      open.onupgradeneeded = () => open.result.createObjectStore('keyrings');
      const target = await request(open);
      const tx = target.transaction('keyrings', 'readwrite');
      tx.objectStore('keyrings').put(wrapping, 'wrapping-key');
      for (const algorithm of ['Kyber768', 'Dilithium3']) {
        const ring = keys.filter((k) => k.algorithm === algorithm).map(({ tenant: _t, algorithm: _a, ...key }) => key);
        tx.objectStore('keyrings').put({ format: 1, keys: ring }, ['keyring', 'local', algorithm]);
      }
      await new Promise((resolve) => (tx.oncomplete = resolve));
      target.close();
    },
    [scratch, legacy] as const,
  );

  await openPage(page, `db=${legacy}`);
  expect(data(await call(page, 'kem.decrypt', { ciphertext, key_version: 1 })).plaintext).toBe(plaintext);
  expect(data(await call(page, 'signature.verify', { message: plaintext, signature, key_version: 1 })).valid).toBe(true);
  expect(data(await call(page, 'kms.list', {})).keys).toEqual([kem, dsa]);
  expect(data(await call(page, 'kms.rotate', { algorithm: 'Kyber768' }))).toMatchObject({ key_version: 2, old_key_version: 1 });
  const rows = await keyringRows(page, legacy);
  expect(rows.filter((r: any) => r.store === 'keys').map((r: any) => [r.key, r.value.status])).toEqual([
    [['local', 'Dilithium3', 1], 'active'],
    [['local', 'Kyber768', 1], 'retired'],
    [['local', 'Kyber768', 2], 'active'],
  ]);
  expect(rows.filter((r: any) => r.store === 'keyrings' && r.key !== 'wrapping-key').map((r: any) => r.value)).toEqual([
    { format: 2 },
    { format: 2 },
  ]);
});

test('two pages rotating concurrently 20 times end with 21 distinct consecutive versions', async ({ context }) => {
  const db = uniqueDb('race');
  const [pageA, pageB] = await Promise.all([context.newPage(), context.newPage()]);
  // Both pages start their Workers at once: they must also agree on one wrapping key.
  await Promise.all([openPage(pageA, `db=${db}&eager`), openPage(pageB, `db=${db}&eager`)]);
  expect(data(await call(pageA, 'kms.generate', { algorithm: 'Dilithium3' })).key_version).toBe(1);

  // 20 rotations in all, 10 from each page, both pages released by one BroadcastChannel message;
  // each page awaits one rotation before the next, so the two Workers' transactions interleave.
  const rotate = (page: Page) =>
    page.evaluate(async () => {
      await new Promise((resolve) => (new BroadcastChannel('e2e-race-go').onmessage = resolve));
      const q = (window as any).__qpher;
      const results: { envelope: unknown; start: number; end: number }[] = [];
      for (let i = 0; i < 10; i++) {
        const start = performance.timeOrigin + performance.now();
        const envelope = await q.kms.rotate({ algorithm: 'Dilithium3' });
        results.push({ envelope, start, end: performance.timeOrigin + performance.now() });
      }
      return results;
    });
  const racing = Promise.all([rotate(pageA), rotate(pageB)]);
  await pageA.waitForTimeout(200); // both pages are listening
  await pageA.evaluate(() => new BroadcastChannel('e2e-race-go').postMessage('go')); // reaches both pages
  const [fromA, fromB] = await racing;
  const versions = [...fromA, ...fromB].map((r) => data(r.envelope as Envelope).key_version as number);
  expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  // The pages really overlapped: each one's rotations were in flight while the other's were.
  const span = (list: typeof fromA) => [list[0]!.start, list[list.length - 1]!.end] as const;
  const [[aStart, aEnd], [bStart, bEnd]] = [span(fromA), span(fromB)];
  expect(Math.max(aStart, bStart)).toBeLessThan(Math.min(aEnd, bEnd));
  // How the transactions interleaved is up to the scheduler (on a loaded machine one page can
  // get all its turns first), so it is reported, not asserted; correctness is asserted below.
  console.log(`versions minted by page A: ${versions.slice(0, 10).join(',')}; by page B: ${versions.slice(10).join(',')}`);

  const keys = data(await call(pageB, 'kms.list', { algorithm: 'Dilithium3' })).keys as { key_version: number; status: string }[];
  expect(keys.map((k) => k.key_version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  expect(keys.filter((k) => k.status === 'active').map((k) => k.key_version)).toEqual([21]);
  expect(keys.filter((k) => k.status === 'retired')).toHaveLength(20);
  const rows = (await keyringRows(pageA, db)).filter((r: any) => r.key === 'wrapping-key');
  expect(rows).toHaveLength(1);
  // Each page can use keys the other minted (one wrapping key for the database).
  for (const [signer, verifier] of [
    [pageA, pageB],
    [pageB, pageA],
  ] as const) {
    const { signature } = data(await call(signer, 'signature.sign', { message: btoa('race'), key_version: 21 }));
    expect(data(await call(verifier, 'signature.verify', { message: btoa('race'), signature, key_version: 21 })).valid).toBe(true);
    expect(data(await call(verifier, 'signature.verify', { message: btoa('race'), signature, key_version: 20 })).valid).toBe(false);
  }
});

test('the raw seeds appear nowhere in IndexedDB', async ({ page }) => {
  const db = uniqueDb('seeds');
  await openPage(page, `db=${db}&seeds`);
  data(await call(page, 'kms.generate', { algorithm: 'Kyber768' }));
  data(await call(page, 'kms.generate', { algorithm: 'Dilithium3' }));
  data(await call(page, 'kms.rotate', { algorithm: 'Kyber768' }));
  data(await call(page, 'kms.rotate', { algorithm: 'Dilithium3' }));
  data(await call(page, 'kem.encrypt', { plaintext: btoa('x'), key_version: 2 }));
  await expect.poll(() => page.evaluate(() => (window as any).__qpherTest.seeds.length)).toBe(4);
  const seeds: string[] = await page.evaluate(() => (window as any).__qpherTest.seeds);
  expect(seeds.map((s) => s.length).sort()).toEqual([64, 128, 128, 64].sort()); // ML-DSA ξ 32 B, ML-KEM d‖z 64 B
  const dump = JSON.stringify(await page.evaluate(() => (window as any).__qpherTest.dumpIndexedDb()));
  expect(dump).toContain(db);
  expect(dump).toContain('wrapped_seed');
  for (const seed of seeds) {
    const bytes = Buffer.from(seed, 'hex');
    for (const form of [seed, seed.toUpperCase(), bytes.toString('base64'), bytes.toString('base64url')]) {
      expect(dump.includes(form), `seed ${seed.slice(0, 8)}… found in IndexedDB`).toBe(false);
    }
    // Nor any 16-byte window of it (a seed split across fields or stored shifted).
    for (let i = 0; i + 32 <= seed.length; i += 2) expect(dump.includes(seed.slice(i, i + 32))).toBe(false);
  }

  // Nor in anything the Worker sent to the page: every string, and every base64 field decoded.
  const messages: unknown[] = await page.evaluate(() => (window as any).__qpherTest.workerMessages);
  expect(messages.length).toBeGreaterThanOrEqual(5);
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      strings.push(value);
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) strings.push(Buffer.from(value, 'base64').toString('hex'));
    } else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(messages);
  const sent = strings.join('|');
  expect(sent.length).toBeGreaterThan(10_000); // public keys and a ciphertext, as base64 and as hex
  for (const seed of seeds) {
    for (let i = 0; i + 32 <= seed.length; i += 2) expect(sent.includes(seed.slice(i, i + 32))).toBe(false);
  }
});

test('the main thread stays responsive while 50 signatures are made @responsiveness', async ({ page }) => {
  const db = uniqueDb('longtask');
  await openPage(page, `db=${db}`);
  expect(await page.evaluate(() => (window as any).__qpherTest.supportsLongTask())).toBe(true);
  // The observer does see long tasks on this page: a deliberate 120 ms busy loop is reported.
  const probe: number[] = await page.evaluate(() => (window as any).__qpherTest.longTaskProbe());
  expect(Math.max(0, ...probe)).toBeGreaterThanOrEqual(100);

  data(await call(page, 'kms.generate', { algorithm: 'Dilithium3' }));
  const result = await page.evaluate(() => (window as any).__qpherTest.measureSigning(50, 1));
  console.log(
    `50 signatures in ${result.elapsed.toFixed(0)} ms; long tasks: ${JSON.stringify(result.longTasks)}; ` +
      `largest gap between timer ticks: ${result.maxGap.toFixed(1)} ms`,
  );
  // The criterion: no main-thread task over 50 ms (the longtask API reports exactly those).
  // The timer gap is reported only: it also counts time the OS gives other processes.
  expect(result.longTasks.filter((d: number) => d > 50)).toEqual([]);
});

test('a Worker that fails to load, and a closed backend, answer with envelopes', async ({ page, errors }) => {
  await openPage(page, `db=${uniqueDb('broken')}&broken`);
  const envelopes: Envelope[] = await page.evaluate(() => {
    const q = (window as any).__qpher;
    return Promise.all([q.kms.list({ algorithm: 'Kyber768' }), q.kem.encrypt({ plaintext: 'AA==', key_version: 1 })]);
  });
  for (const envelope of envelopes) {
    expect(envelope).toMatchObject({ error: { code: 'ERR_SERVICE_001', message: expect.stringContaining('Worker') } });
  }
  // The browser itself logs the failed fetch of the missing script; nothing else may appear.
  expect(errors.every((e) => /404|no-such-worker|Failed to load/i.test(e))).toBe(true);
  errors.length = 0;

  await openPage(page, `db=${uniqueDb('closed')}`);
  const afterClose: Envelope[] = await page.evaluate(async () => {
    const q = (window as any).__qpher;
    const pending = q.kms.generate({ algorithm: 'Dilithium3' });
    await q.close();
    return Promise.all([pending, q.kms.list({ algorithm: 'Dilithium3' })]);
  });
  expect(afterClose).toMatchObject([
    { error: { code: 'ERR_SERVICE_001' } },
    { error: { code: 'ERR_SERVICE_001', message: 'LocalBackend is closed' } },
  ]);
});

test('a storage quota failure is a clear envelope and leaves the keyring whole', async ({ page, baseURL }) => {
  // Chromium's own quota enforcement, shrunk for this origin before it first opens IndexedDB (the
  // quota is read when the origin's backing store opens). Each rotation adds a key row and
  // rewrites the retired one, so rotating soon hits the quota; the failing rotation must change nothing.
  const origin = new URL(baseURL!).origin;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 150_000 });
  await openPage(page, `db=${uniqueDb('quota')}`);
  data(await call(page, 'kms.generate', { algorithm: 'Dilithium3' }));
  const outcome = await page.evaluate(async () => {
    const q = (window as any).__qpher;
    for (let i = 0; i < 200; i++) {
      const before = await q.kms.list({ algorithm: 'Dilithium3' });
      const rotated = await q.kms.rotate({ algorithm: 'Dilithium3' });
      if (rotated.error) return { rotations: i, before, rotated, after: await q.kms.list({ algorithm: 'Dilithium3' }) };
    }
    return undefined;
  });
  expect(outcome, 'the quota was never hit').toBeDefined();
  console.log(`quota hit after ${outcome!.rotations} rotations`);
  expect(outcome!.rotated).toMatchObject({
    error: { code: 'ERR_SERVICE_001', message: 'Browser storage quota exceeded: the keyring was not changed' },
  });
  // Reading still works, and the keyring is exactly as it was: no half-written rotation.
  expect(outcome!.after.data).toEqual(outcome!.before.data);
  const active = outcome!.after.data.keys.filter((k: any) => k.status === 'active');
  expect(active.map((k: any) => k.key_version)).toEqual([outcome!.rotations + 1]);
  // The active key still signs.
  expect(data(await call(page, 'signature.sign', { message: 'AA==', key_version: outcome!.rotations + 1 }))).toHaveProperty('signature');
});

test('documents the boundary: same-origin script can unwrap seeds with the stored CryptoKey', async ({ page }) => {
  // Not a feature: this pins down docs/local-backend.md's threat model. The Worker keeps seeds out
  // of the page's heap and messages, but IndexedDB is per origin, and a non-extractable key can
  // still be *used* by any script of the origin. Script injected into the page (XSS) is therefore
  // inside the boundary; only the exportKey path is closed.
  const db = uniqueDb('boundary');
  await openPage(page, `db=${db}&seeds`);
  const { public_key } = data(await call(page, 'kms.generate', { algorithm: 'Dilithium3' }));
  await expect.poll(() => page.evaluate(() => (window as any).__qpherTest.seeds.length)).toBe(1);
  const [seed] = await page.evaluate(() => (window as any).__qpherTest.seeds);
  const recovered = await page.evaluate(
    async ([db, publicKey]) => {
      const open = indexedDB.open(db!);
      const conn: IDBDatabase = await new Promise((resolve) => (open.onsuccess = () => resolve(open.result)));
      const get = (store: string, key: IDBValidKey) =>
        new Promise<any>((resolve) => {
          const r = conn.transaction(store).objectStore(store).get(key);
          r.onsuccess = () => resolve(r.result);
        });
      const key: CryptoKey = await get('keyrings', 'wrapping-key');
      const row = await get('keys', ['local', 'Dilithium3', 1]);
      const wrapped: Uint8Array = row.wrapped_seed;
      const aad = new TextEncoder().encode(JSON.stringify(['qpher-seed/v1', 'local', 'Dilithium3', publicKey]));
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: wrapped.slice(0, 12), additionalData: aad }, key, wrapped.slice(12));
      conn.close();
      return Array.from(new Uint8Array(plain), (b) => b.toString(16).padStart(2, '0')).join('');
    },
    [db, public_key] as const,
  );
  expect(recovered).toBe(seed);
});
