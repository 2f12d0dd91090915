/**
 * The playground page: every Qpher operation on the local backend (Worker + IndexedDB) or a
 * remote server, plus the offline `seal`/`verify` helpers. Plain DOM, no framework; the panels
 * import the library by its package name, `qpher`, as an app would (vite.config.ts points the
 * name at src/index.ts).
 *
 * Each panel is one module under panels/ and one `data-panel` region of index.html; it reads the
 * shared state and talks to the other panels through `context.events`. Adding a panel is a new
 * module, its HTML, and one line below.
 * @module
 */
import { mountAppStatus } from './app-status.js';
import { EventHub, type PlaygroundEvents } from './events.js';
import type { PlaygroundContext } from './panel.js';
import { mountBackendPanel } from './panels/backend.js';
import { mountSignHashPanel, mountVerifyHashPanel } from './panels/hash-signature.js';
import { mountDecryptPanel, mountEncryptPanel } from './panels/kem.js';
import { mountUnwrapPanel, mountWrapPanel } from './panels/key-wrap.js';
import { mountKeysPanel } from './panels/keys.js';
import { mountPublicKeyVerifyPanel, mountSealPanel } from './panels/public-key-tools.js';
import { mountDecapsulatePanel, mountEncapsulatePanel } from './panels/raw-kem.js';
import { mountSignPanel, mountVerifyPanel } from './panels/signature.js';
import { createState } from './state.js';

const context: PlaygroundContext = { state: createState(), events: new EventHub<PlaygroundEvents>() };

const backend = mountBackendPanel(context);
mountKeysPanel(context);
mountEncryptPanel(context);
mountDecryptPanel(context);
mountSignPanel(context);
mountVerifyPanel(context);
mountSealPanel(context);
mountPublicKeyVerifyPanel(context);
mountEncapsulatePanel(context);
mountDecapsulatePanel(context);
mountWrapPanel(context);
mountUnwrapPanel(context);
mountSignHashPanel(context);
mountVerifyHashPanel(context);

const appStatus = document.getElementById('app-status');
if (!appStatus) throw new Error('#app-status is missing from index.html');
mountAppStatus(appStatus);
// Last: choosing the backend announces it, and every panel above listens by now.
backend.start();
