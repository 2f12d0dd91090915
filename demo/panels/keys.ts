/**
 * Step 2, key management: per algorithm generate, rotate, active and list (the toolbar buttons,
 * `data-kms` + `data-algorithm` in index.html), and a table of every key with get, retire,
 * archive and “Use public key” per row. Publishes the key list (`keys`) after each redraw, so
 * the operation panels follow the active key, and a chosen public key (`public-key`).
 * @module
 */
import { ALGORITHMS, type Algorithm, type KeyInfo } from 'qpher';
import { algorithmLabel } from '../algorithms.js';
import { fingerprint } from '../encoding.js';
import { listEveryKey, ROWS_PER_ALGORITHM, rowsToDraw } from '../key-listing.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import type { ActiveBackend } from '../state.js';

const TOOLBAR_ACTIONS = ['generate', 'rotate', 'active', 'list'] as const;
type ToolbarAction = (typeof TOOLBAR_ACTIONS)[number];
/** Actions that change the keyring, after which the table is redrawn. */
const CHANGES_KEYS: ReadonlySet<ToolbarAction> = new Set(['generate', 'rotate']);

export function mountKeysPanel(context: PlaygroundContext): void {
  const { state, events } = context;
  const panel = new Panel(context, 'keys');
  const body = panel.element('tbody');
  const caption = panel.element('caption');

  const captionFor = (backend: ActiveBackend | undefined): string => {
    if (!backend) return 'Keys (no backend)';
    return backend.kind === 'local' ? 'Keys on the local backend' : `Keys on ${backend.name} (remote)`;
  };

  const showMessage = (message: string): void => {
    const cell = document.createElement('td');
    cell.colSpan = 6;
    cell.className = 'empty';
    cell.textContent = message;
    const row = document.createElement('tr');
    row.append(cell);
    body.replaceChildren(row);
    caption.textContent = captionFor(state.backend);
  };

  const refresh = async (): Promise<void> => {
    const backend = state.backend;
    if (!backend) return;
    const mine = state.generation;
    caption.textContent = captionFor(backend);
    const listed = await listEveryKey(backend.q);
    if (mine !== state.generation) return;
    if ('error' in listed) {
      showMessage(`Could not list keys: ${listed.error.code}: ${listed.error.message}`);
      return;
    }
    const { keys } = listed;
    if (keys.length === 0) {
      showMessage('No keys yet: generate an ML-KEM-768 key to encrypt and an ML-DSA-65 key to sign.');
    } else {
      const { shown, hidden } = rowsToDraw(keys);
      const rows = await Promise.all(shown.map(keyRow));
      if (mine !== state.generation) return;
      body.replaceChildren(...rows);
      if (hidden > 0) caption.textContent += ` (the newest ${ROWS_PER_ALGORITHM} of each algorithm; ${hidden} older not shown)`;
    }
    events.emit('keys', keys);
  };

  const lifecycle = async (action: 'retire' | 'archive', key: KeyInfo): Promise<void> => {
    await panel.call(`kms.${action}`, (q) => q.kms[action]({ algorithm: key.algorithm, key_version: key.key_version }));
    await refresh();
    // The pressed button went away with its row: keep keyboard focus on the outcome, not <body>.
    if (document.activeElement === document.body || document.activeElement === null) {
      panel.result.tabIndex = -1;
      panel.result.focus();
    }
  };

  const keyRow = async (key: KeyInfo): Promise<HTMLTableRowElement> => {
    const row = document.createElement('tr');
    row.dataset.status = key.status;
    const label = `${algorithmLabel(key.algorithm)} version ${key.key_version}`;
    const cell = (heading: string, ...content: (Node | string)[]) => {
      const td = document.createElement('td');
      td.dataset.label = heading; // shown before the value when the table is stacked (narrow screens)
      td.append(...content);
      return td;
    };

    const pill = document.createElement('span');
    pill.className = `pill ${key.status}`;
    pill.textContent = key.status;

    const time = document.createElement('time');
    time.dateTime = key.created_at;
    time.textContent = new Date(key.created_at).toLocaleString();
    time.title = key.created_at;

    const print = await fingerprint(key.public_key);
    const code = document.createElement('code');
    code.textContent = print.short;
    code.title = `SHA-256 ${print.full}`;

    const buttons = document.createElement('div');
    buttons.className = 'buttons';
    const button = (text: string, name: string, action: () => unknown, variant = 'small') => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = variant;
      b.textContent = text;
      b.setAttribute('aria-label', name);
      panel.onClick(b, action);
      buttons.append(b);
    };
    const { algorithm, key_version } = key;
    button('Get', `Get ${label}`, () => panel.call('kms.get', (q) => q.kms.get({ algorithm, key_version })), 'small secondary');
    if (key.status === 'active') button('Retire', `Retire ${label}`, () => lifecycle('retire', key));
    if (key.status !== 'archived') button('Archive', `Archive ${label}`, () => lifecycle('archive', key));
    button('Use public key', `Use public key of ${label}`, () => events.emit('public-key', key), 'small secondary');
    const actions = cell('Actions', buttons);
    actions.className = 'actions';

    row.append(
      cell('Algorithm', algorithmLabel(algorithm)),
      cell('Version', String(key_version)),
      cell('Status', pill),
      cell('Created', time),
      cell('Fingerprint', code),
      actions,
    );
    return row;
  };

  for (const button of panel.root.querySelectorAll<HTMLButtonElement>('button[data-kms]')) {
    const action = button.dataset.kms as ToolbarAction;
    const algorithm = button.dataset.algorithm as Algorithm;
    if (!TOOLBAR_ACTIONS.includes(action) || !ALGORITHMS.includes(algorithm)) {
      throw new Error(`key toolbar button "${button.textContent}": unknown data-kms or data-algorithm`);
    }
    panel.onClick(button, async () => {
      await panel.call(`kms.${action}`, (q) => q.kms[action]({ algorithm }));
      if (CHANGES_KEYS.has(action)) await refresh();
    });
  }
  panel.onClick(panel.element<HTMLButtonElement>('#keys-refresh'), refresh);

  events.on('backend', ({ current, note }) => {
    if (current) void refresh();
    else showMessage(note);
  });
}
