/**
 * Step 1, the backend switch: the local backend (Worker + IndexedDB) or a remote server with an
 * API key. Sets `state.backend` and announces the change; the other panels follow it.
 * @module
 */
import { LocalBackend, Qpher, RemoteBackend } from 'qpher';
import { Panel, type PlaygroundContext } from '../panel.js';

const STORAGE = { choice: 'qpher-playground:backend', baseUrl: 'qpher-playground:base-url', apiKey: 'qpher-playground:api-key' };

/** Wires the panel; `start()` applies the remembered choice once every other panel listens. */
export function mountBackendPanel(context: PlaygroundContext): { start(): void } {
  const { state, events } = context;
  const panel = new Panel(context, 'backend');
  const status = panel.element('#backend-status');
  const url = panel.field('baseUrl');
  const key = panel.field('apiKey');

  const useLocal = (): void => {
    state.local ??= (() => {
      const backend = new LocalBackend({ dbName: 'qpher-playground' });
      return { backend, q: new Qpher({ backend }) };
    })();
    const { backend, q } = state.local;
    state.backend = { kind: 'local', q, name: 'local' };
    const mine = ++state.generation;
    status.textContent = 'Using the local backend: the engine runs in a Web Worker, keys stay in this browser’s IndexedDB.';
    void backend.info().then((info) => {
      if (mine !== state.generation) return;
      const persisted =
        info.persisted === true
          ? 'Storage is persistent.'
          : 'Storage is not marked persistent: the browser may evict these keys under storage pressure.';
      status.textContent = `Using the local backend: the engine runs in a ${info.runtime === 'worker' ? 'Web Worker' : 'page'}, keys stay in this browser’s ${info.store === 'indexeddb' ? 'IndexedDB' : 'memory'}. ${persisted}`;
    });
    events.emit('backend', { current: state.backend });
  };

  const useRemote = (): void => {
    const baseUrl = url.value.trim();
    const apiKey = key.value.trim();
    state.generation++;
    state.backend = undefined;
    if (baseUrl === '' || apiKey === '') {
      status.textContent = 'Remote backend: enter the server’s base URL and an API key, then press “Use this server”.';
      events.emit('backend', { current: undefined, note: 'Not connected: enter an API key above.' });
      return;
    }
    let backend: RemoteBackend;
    try {
      // retries: 1 and a 10 s deadline, so an unreachable server answers within seconds, not half a minute.
      backend = new RemoteBackend({ baseUrl, apiKey, retries: 1, timeoutMs: 10_000 });
    } catch (error) {
      status.textContent = `Remote backend not usable: ${error instanceof Error ? error.message : String(error)}`;
      events.emit('backend', { current: undefined, note: 'Not connected.' });
      return;
    }
    state.backend = { kind: 'remote', q: new Qpher({ backend }), name: backend.baseUrl };
    localStorage.setItem(STORAGE.baseUrl, baseUrl);
    sessionStorage.setItem(STORAGE.apiKey, apiKey);
    status.textContent =
      new URL(backend.baseUrl).origin === location.origin
        ? `Using the remote backend at ${backend.baseUrl}.`
        : `Using the remote backend at ${backend.baseUrl}. Note: this page may only connect to its own origin ` +
          `(${location.origin}, by its Content-Security-Policy), so calls to another server fail: open the playground that server serves instead.`;
    events.emit('backend', { current: state.backend });
  };

  const onChoice = (): void => {
    const choice = panel.choice('backend') === 'remote' ? 'remote' : 'local';
    sessionStorage.setItem(STORAGE.choice, choice);
    panel.element('#remote-settings').hidden = choice !== 'remote';
    if (choice === 'local') useLocal();
    else useRemote();
  };

  // Restore the last settings; a handed-over key (see keyFromFragment) wins.
  url.value = localStorage.getItem(STORAGE.baseUrl) ?? location.origin;
  const handedKey = keyFromFragment();
  if (handedKey !== undefined) {
    url.value = location.origin;
    sessionStorage.setItem(STORAGE.apiKey, handedKey);
    sessionStorage.setItem(STORAGE.choice, 'remote');
  }
  key.value = sessionStorage.getItem(STORAGE.apiKey) ?? '';
  if (sessionStorage.getItem(STORAGE.choice) === 'remote') {
    panel.element<HTMLInputElement>('input[name="backend"][value="remote"]').checked = true;
  }
  for (const radio of panel.root.querySelectorAll<HTMLInputElement>('input[name="backend"]')) {
    radio.addEventListener('change', onChoice);
  }
  panel.element<HTMLFormElement>('form').addEventListener('submit', (event) => {
    event.preventDefault();
    useRemote();
  });
  return { start: onChoice };
}

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
