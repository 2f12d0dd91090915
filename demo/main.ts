/**
 * The playground page: every Qpher operation on the local backend (Worker + IndexedDB) or a
 * remote server, plus the offline `seal`/`verify` helpers. Plain DOM, no framework; it imports
 * the library's public entry point only, as an app would.
 * @module
 */
import { LocalBackend, Qpher, RemoteBackend, seal, verify, type Algorithm, type Envelope, type KeyInfo } from '../src/index.js';
import { describePlaintext, fingerprint, utf8 } from './encoding.js';
import { showBusy, showResult, timed } from './result.js';

const ALGORITHM_LABEL: Record<Algorithm, string> = { Kyber768: 'ML-KEM-768', Dilithium3: 'ML-DSA-65' };
const ALGORITHM_ORDER: Record<Algorithm, number> = { Kyber768: 0, Dilithium3: 1 };
const STORAGE = { choice: 'qpher-playground:backend', baseUrl: 'qpher-playground:base-url', apiKey: 'qpher-playground:api-key' };

interface Current {
  kind: 'local' | 'remote';
  q: Qpher;
  /** Shown in result titles and the key table caption. */
  name: string;
}

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}
const field = (id: string) => $<HTMLInputElement | HTMLTextAreaElement>(id);
const version = (id: string) => Number(field(id).value);
/** An optional text field: undefined when empty, so the request leaves it out. */
const optional = (id: string) => (field(id).value === '' ? undefined : utf8(field(id).value));

// ---------------------------------------------------------------------------------------------
// Backends

let local: LocalBackend | undefined;
let localQ: Qpher | undefined;
let current: Current | undefined;
/** Bumped on every switch, so a slow answer from the previous backend cannot repaint the page. */
let generation = 0;

function useLocal(): void {
  local ??= new LocalBackend({ dbName: 'qpher-playground' });
  localQ ??= new Qpher({ backend: local });
  current = { kind: 'local', q: localQ, name: 'local' };
  generation++;
  const status = $('backend-status');
  status.textContent = 'Using the local backend: the engine runs in a Web Worker, keys stay in this browser’s IndexedDB.';
  const mine = generation;
  void local.info().then((info) => {
    if (mine !== generation) return;
    const persisted =
      info.persisted === true
        ? 'Storage is persistent.'
        : 'Storage is not marked persistent: the browser may evict these keys under storage pressure.';
    status.textContent = `Using the local backend: the engine runs in a ${info.runtime === 'worker' ? 'Web Worker' : 'page'}, keys stay in this browser’s ${info.store === 'indexeddb' ? 'IndexedDB' : 'memory'}. ${persisted}`;
  });
  void refreshKeys();
}

function useRemote(): void {
  const baseUrl = field('remote-url').value.trim();
  const apiKey = field('remote-key').value.trim();
  const status = $('backend-status');
  generation++;
  current = undefined;
  if (baseUrl === '' || apiKey === '') {
    status.textContent = 'Remote backend: enter the server’s base URL and an API key, then press “Use this server”.';
    renderKeysMessage('Not connected: enter an API key above.');
    return;
  }
  try {
    // retries: 1 and a 10 s deadline, so an unreachable server answers within seconds, not half a minute.
    const backend = new RemoteBackend({ baseUrl, apiKey, retries: 1, timeoutMs: 10_000 });
    current = { kind: 'remote', q: new Qpher({ backend }), name: backend.baseUrl };
    localStorage.setItem(STORAGE.baseUrl, baseUrl);
    sessionStorage.setItem(STORAGE.apiKey, apiKey);
    status.textContent =
      new URL(backend.baseUrl).origin === location.origin
        ? `Using the remote backend at ${backend.baseUrl}.`
        : `Using the remote backend at ${backend.baseUrl}. Note: this page may only connect to its own origin ` +
          `(${location.origin}, by its Content-Security-Policy), so calls to another server fail: open the playground that server serves instead.`;
    void refreshKeys();
  } catch (error) {
    status.textContent = `Remote backend not usable: ${error instanceof Error ? error.message : String(error)}`;
    renderKeysMessage('Not connected.');
  }
}

function selectedBackend(): 'local' | 'remote' {
  const checked = document.querySelector<HTMLInputElement>('input[name="backend"]:checked');
  return checked?.value === 'remote' ? 'remote' : 'local';
}

function onBackendChoice(): void {
  const choice = selectedBackend();
  sessionStorage.setItem(STORAGE.choice, choice);
  $('remote-settings').hidden = choice !== 'remote';
  if (choice === 'local') useLocal();
  else useRemote();
}

/** Panels with a call in flight: a second press while one runs is ignored. */
const busy = new WeakSet<HTMLElement>();

/**
 * Runs one backend call into a result panel, with its timing; the button is marked
 * `aria-disabled` while it runs (not `disabled`, which would throw keyboard focus out of it).
 * `after` sees the envelope (to fill the next form).
 */
async function call(
  panel: HTMLElement,
  button: HTMLButtonElement | null,
  operation: string,
  run: (q: Qpher) => Promise<Envelope<unknown>>,
  after?: (envelope: Envelope<unknown>) => string | undefined,
): Promise<void> {
  const backend = current;
  if (!backend) {
    showResult(panel, operation, { kind: 'note', message: 'No backend yet: choose one in step 1.' });
    return;
  }
  if (busy.has(panel)) return;
  busy.add(panel);
  const title = `${operation} on ${backend.name}`;
  showBusy(panel, title);
  button?.setAttribute('aria-disabled', 'true');
  const outcome = await timed(() => run(backend.q));
  button?.removeAttribute('aria-disabled');
  busy.delete(panel);
  if (outcome.ok) {
    const detail = after?.(outcome.value);
    showResult(panel, title, { kind: 'envelope', envelope: outcome.value, ms: outcome.ms, detail });
  } else {
    showResult(panel, title, { kind: 'thrown', error: outcome.error, ms: outcome.ms });
  }
}

function onSubmit(formId: string, handler: (button: HTMLButtonElement | null) => Promise<void>): void {
  const form = $<HTMLFormElement>(formId);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void handler(form.querySelector<HTMLButtonElement>('button[type="submit"]'));
  });
}

// ---------------------------------------------------------------------------------------------
// Keys

function renderKeysMessage(message: string): void {
  const cell = document.createElement('td');
  cell.colSpan = 6;
  cell.className = 'empty';
  cell.textContent = message;
  const row = document.createElement('tr');
  row.append(cell);
  $('keys-body').replaceChildren(row);
  $('keys-caption').textContent = keysCaption(current);
}

function keysCaption(backend: Current | undefined): string {
  if (!backend) return 'Keys (no backend)';
  return backend.kind === 'local' ? 'Keys on the local backend' : `Keys on ${backend.name} (remote)`;
}

async function refreshKeys(): Promise<void> {
  const backend = current;
  if (!backend) return;
  const mine = generation;
  $('keys-caption').textContent = keysCaption(backend);
  const answers = await Promise.all((['Kyber768', 'Dilithium3'] as const).map((algorithm) => backend.q.kms.list({ algorithm })));
  if (mine !== generation) return;
  const keys: KeyInfo[] = [];
  for (const answer of answers) {
    if ('error' in answer) {
      renderKeysMessage(`Could not list keys: ${answer.error.code}: ${answer.error.message}`);
      return;
    }
    keys.push(...answer.data.keys);
  }
  // ML-KEM first, then ML-DSA; newest version first.
  keys.sort((a, b) => ALGORITHM_ORDER[a.algorithm] - ALGORITHM_ORDER[b.algorithm] || b.key_version - a.key_version);
  if (keys.length === 0) {
    renderKeysMessage('No keys yet: generate an ML-KEM-768 key to encrypt and an ML-DSA-65 key to sign.');
    return;
  }
  const rows = await Promise.all(keys.map(keyRow));
  if (mine !== generation) return;
  $('keys-body').replaceChildren(...rows);

  // Follow the active keys: encrypt and sign use them unless the person types another version.
  for (const [algorithm, input] of [
    ['Kyber768', 'encrypt-version'],
    ['Dilithium3', 'sign-version'],
  ] as const) {
    const active = keys.find((key) => key.algorithm === algorithm && key.status === 'active');
    if (active) field(input).value = String(active.key_version);
  }
}

async function keyRow(key: KeyInfo): Promise<HTMLTableRowElement> {
  const row = document.createElement('tr');
  row.dataset.status = key.status;
  const label = `${ALGORITHM_LABEL[key.algorithm]} version ${key.key_version}`;
  const cell = (heading: string) => {
    const td = document.createElement('td');
    td.dataset.label = heading; // shown before the value when the table is stacked (narrow screens)
    return td;
  };
  const cells = [
    ['Algorithm', ALGORITHM_LABEL[key.algorithm]],
    ['Version', String(key.key_version)],
  ].map(([heading, text]) => {
    const td = cell(heading!);
    td.textContent = text!;
    return td;
  });
  const status = cell('Status');
  const pill = document.createElement('span');
  pill.className = `pill ${key.status}`;
  pill.textContent = key.status;
  status.append(pill);

  const created = cell('Created');
  const time = document.createElement('time');
  time.dateTime = key.created_at;
  time.textContent = new Date(key.created_at).toLocaleString();
  time.title = key.created_at;
  created.append(time);

  const print = await fingerprint(key.public_key);
  const fp = cell('Fingerprint');
  const code = document.createElement('code');
  code.textContent = print.short;
  code.title = `SHA-256 ${print.full}`;
  fp.append(code);

  const actions = cell('Actions');
  actions.className = 'actions';
  const buttons = document.createElement('div');
  buttons.className = 'buttons';
  actions.append(buttons);
  const button = (text: string, name: string, onClick: () => void, variant = 'small') => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = variant;
    b.textContent = text;
    b.setAttribute('aria-label', name);
    b.addEventListener('click', onClick);
    buttons.append(b);
  };
  button(
    'Get',
    `Get ${label}`,
    () => void call($('keys-result'), null, 'kms.get', (q) => q.kms.get({ algorithm: key.algorithm, key_version: key.key_version })),
    'small secondary',
  );
  if (key.status === 'active') {
    button('Retire', `Retire ${label}`, () => void lifecycle('retire', key));
  }
  if (key.status !== 'archived') {
    button('Archive', `Archive ${label}`, () => void lifecycle('archive', key));
  }
  button('Use public key', `Use public key of ${label}`, () => usePublicKey(key), 'small secondary');

  row.append(...cells, status, created, fp, actions);
  return row;
}

async function lifecycle(action: 'retire' | 'archive', key: KeyInfo): Promise<void> {
  const panel = $('keys-result');
  await call(panel, null, `kms.${action}`, (q) => q.kms[action]({ algorithm: key.algorithm, key_version: key.key_version }));
  await refreshKeys();
  // The pressed button went away with its row: keep keyboard focus on the outcome, not <body>.
  if (document.activeElement === document.body || document.activeElement === null) {
    panel.tabIndex = -1;
    panel.focus();
  }
}

type AlgorithmAction = 'generate' | 'rotate' | 'active' | 'list';

async function kms(action: AlgorithmAction, algorithm: Algorithm, button: HTMLButtonElement): Promise<void> {
  await call($('keys-result'), button, `kms.${action}`, (q) => q.kms[action]({ algorithm }));
  if (action === 'generate' || action === 'rotate') await refreshKeys();
}

function usePublicKey(key: KeyInfo): void {
  if (key.algorithm === 'Kyber768') {
    field('seal-public-key').value = key.public_key;
    field('seal-version').value = String(key.key_version);
    field('seal-public-key').focus();
  } else {
    field('offline-verify-public-key').value = key.public_key;
    field('offline-verify-public-key').focus();
  }
}

// ---------------------------------------------------------------------------------------------
// Operations

function wireOperations(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-kms]')) {
    button.addEventListener('click', () => void kms(button.dataset.kms as AlgorithmAction, button.dataset.algorithm as Algorithm, button));
  }
  $('keys-refresh').addEventListener('click', () => void refreshKeys());

  const saltField = $('encrypt-salt-field');
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
    radio.addEventListener('change', () => {
      saltField.hidden = !deterministic();
    });
  }

  onSubmit('encrypt-form', (button) =>
    call(
      $('encrypt-result'),
      button,
      'kem.encrypt',
      (q) =>
        q.kem.encrypt({
          plaintext: utf8(field('encrypt-plaintext').value),
          key_version: version('encrypt-version'),
          ...(deterministic() ? { mode: 'deterministic' as const, salt: utf8(field('encrypt-salt').value) } : {}),
          ...(field('encrypt-aad').value !== '' ? { aad: utf8(field('encrypt-aad').value) } : {}),
        }),
      (envelope) => {
        if (!('data' in envelope)) return undefined;
        const data = envelope.data as { ciphertext: string; key_version: number };
        field('decrypt-ciphertext').value = data.ciphertext;
        field('decrypt-version').value = String(data.key_version);
        field('decrypt-aad').value = field('encrypt-aad').value;
        return 'The ciphertext, its key version and the associated data are now in Decrypt.';
      },
    ),
  );

  onSubmit('decrypt-form', (button) =>
    call(
      $('decrypt-result'),
      button,
      'kem.decrypt',
      (q) =>
        q.kem.decrypt({
          ciphertext: field('decrypt-ciphertext').value.trim(),
          key_version: version('decrypt-version'),
          ...(optional('decrypt-aad') ? { aad: optional('decrypt-aad')! } : {}),
        }),
      (envelope) =>
        'data' in envelope ? `Plaintext: ${describePlaintext((envelope.data as { plaintext: string }).plaintext)}` : undefined,
    ),
  );

  onSubmit('sign-form', (button) =>
    call(
      $('sign-result'),
      button,
      'signature.sign',
      (q) =>
        q.signature.sign({
          message: utf8(field('sign-message').value),
          key_version: version('sign-version'),
          ...(optional('sign-context') ? { context: optional('sign-context')! } : {}),
        }),
      (envelope) => {
        if (!('data' in envelope)) return undefined;
        const data = envelope.data as { signature: string; key_version: number };
        for (const prefix of ['verify', 'offline-verify']) {
          field(`${prefix}-message`).value = field('sign-message').value;
          field(`${prefix}-signature`).value = data.signature;
          field(`${prefix}-context`).value = field('sign-context').value;
        }
        field('verify-version').value = String(data.key_version);
        return 'The message, signature and key version are now in Verify (and in the public-key tools).';
      },
    ),
  );

  onSubmit('verify-form', (button) =>
    call(
      $('verify-result'),
      button,
      'signature.verify',
      (q) =>
        q.signature.verify({
          message: utf8(field('verify-message').value),
          signature: field('verify-signature').value.trim(),
          key_version: version('verify-version'),
          ...(optional('verify-context') ? { context: optional('verify-context')! } : {}),
        }),
      (envelope) =>
        'data' in envelope
          ? (envelope.data as { valid: boolean }).valid
            ? 'The signature is valid.'
            : 'The signature is NOT valid.'
          : undefined,
    ),
  );

  let sealed: { ciphertext: string; key_version: number; aad: string } | undefined;
  onSubmit('seal-form', async () => {
    const panel = $('seal-result');
    const keyVersion = version('seal-version');
    const aad = field('seal-aad').value;
    const outcome = await timed(() =>
      seal({
        public_key: field('seal-public-key').value.trim(),
        key_version: keyVersion,
        plaintext: utf8(field('seal-plaintext').value),
        ...(aad !== '' ? { aad: utf8(aad) } : {}),
      }),
    );
    if (outcome.ok) {
      sealed = { ciphertext: outcome.value, key_version: keyVersion, aad };
      $<HTMLButtonElement>('seal-to-decrypt').disabled = false;
      showResult(panel, 'seal() in this page', {
        kind: 'value',
        value: { ciphertext: outcome.value, key_version: keyVersion },
        ms: outcome.ms,
        label: 'Sealed',
        detail: 'Returns a ciphertext, not an envelope: nothing left this page. The holder of the key decrypts it with kem.decrypt.',
      });
    } else {
      showResult(panel, 'seal() in this page', { kind: 'thrown', error: outcome.error, ms: outcome.ms });
    }
  });
  $('seal-to-decrypt').addEventListener('click', () => {
    if (!sealed) return;
    field('decrypt-ciphertext').value = sealed.ciphertext;
    field('decrypt-version').value = String(sealed.key_version);
    field('decrypt-aad').value = sealed.aad;
    field('decrypt-ciphertext').focus();
  });

  onSubmit('offline-verify-form', async () => {
    const context = field('offline-verify-context').value;
    const outcome = await timed(() =>
      verify({
        public_key: field('offline-verify-public-key').value.trim(),
        message: utf8(field('offline-verify-message').value),
        signature: field('offline-verify-signature').value.trim(),
        ...(context !== '' ? { context: utf8(context) } : {}),
      }),
    );
    const panel = $('offline-verify-result');
    if (outcome.ok) {
      showResult(panel, 'verify() in this page', {
        kind: 'value',
        value: { valid: outcome.value },
        ms: outcome.ms,
        label: outcome.value ? 'Valid signature' : 'Invalid signature',
        detail: 'Returns a boolean, not an envelope: checked here with the public key only.',
      });
    } else {
      showResult(panel, 'verify() in this page', { kind: 'thrown', error: outcome.error, ms: outcome.ms });
    }
  });
}

function deterministic(): boolean {
  return document.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value === 'deterministic';
}

// ---------------------------------------------------------------------------------------------
// Offline support

function appStatus(): void {
  const parts: string[] = [];
  if (!navigator.onLine) {
    parts.push('You are offline: the local backend and the public-key tools still work; the remote backend answers ERR_SERVICE_001.');
  }
  if (updateReady) parts.push('A new version of the playground is installed: reload the page to use it.');
  else if (offlineReady) parts.push('Offline-ready: this page is cached in your browser.');
  else if (offlineNote) parts.push(offlineNote);
  $('app-status').textContent = parts.join(' ') || 'Online.';
}

let offlineReady = false;
let offlineNote = '';
let updateReady = false;

async function registerServiceWorker(): Promise<void> {
  if (!import.meta.env.PROD) {
    offlineNote = 'Development build: no offline cache.';
    return;
  }
  if (!('serviceWorker' in navigator)) {
    offlineNote = 'This browser cannot cache the page for offline use.';
    return;
  }
  // A page that was already controlled and sees a new controller runs an older build than the
  // one now cached: say so (its lazily loaded files may be gone from the server).
  const hadController = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController) return;
    updateReady = true;
    appStatus();
  });
  try {
    await navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL });
    await navigator.serviceWorker.ready;
    offlineReady = true;
  } catch (error) {
    offlineNote = `Offline cache unavailable (${error instanceof Error ? error.message : String(error)}).`;
  }
}

// ---------------------------------------------------------------------------------------------
// Start

/**
 * `/#api-key=qph_...`: a link that hands the page an API key (e.g. printed by a dev server). The
 * fragment never reaches any server; it is removed from the address bar at once.
 */
function keyFromFragment(): string | undefined {
  const match = /^#api-key=([\x21-\x7e]+)$/.exec(location.hash);
  if (!match) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
}

function start(): void {
  field('remote-url').value = localStorage.getItem(STORAGE.baseUrl) ?? location.origin;
  const handedKey = keyFromFragment();
  if (handedKey !== undefined) {
    field('remote-url').value = location.origin;
    sessionStorage.setItem(STORAGE.apiKey, handedKey);
    sessionStorage.setItem(STORAGE.choice, 'remote');
  }
  field('remote-key').value = sessionStorage.getItem(STORAGE.apiKey) ?? '';
  if (sessionStorage.getItem(STORAGE.choice) === 'remote') {
    document.querySelector<HTMLInputElement>('input[name="backend"][value="remote"]')!.checked = true;
  }
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="backend"]')) {
    radio.addEventListener('change', onBackendChoice);
  }
  $<HTMLFormElement>('backend-form').addEventListener('submit', (event) => {
    event.preventDefault();
    useRemote();
  });
  wireOperations();
  onBackendChoice();

  addEventListener('online', appStatus);
  addEventListener('offline', appStatus);
  appStatus();
  void registerServiceWorker().then(appStatus);
}

start();
