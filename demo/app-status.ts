/**
 * The line under the page title: online or offline, whether the page is cached for offline use
 * (its service worker, demo/sw.ts), and whether a newer build is waiting for a reload.
 * @module
 */

interface OfflineState {
  /** The service worker is active: the page loads without a network. */
  ready: boolean;
  /** Why there is no offline cache, when there is none. */
  note: string;
  /** A newer build took over this already controlled page. */
  updateReady: boolean;
}

export function mountAppStatus(line: HTMLElement): void {
  const offline: OfflineState = { ready: false, note: '', updateReady: false };
  const render = (): void => {
    const parts: string[] = [];
    if (!navigator.onLine) {
      parts.push('You are offline: the local backend and the public-key tools still work; the remote backend answers ERR_SERVICE_001.');
    }
    if (offline.updateReady) parts.push('A new version of the playground is installed: reload the page to use it.');
    else if (offline.ready) parts.push('Offline-ready: this page is cached in your browser.');
    else if (offline.note) parts.push(offline.note);
    line.textContent = parts.join(' ') || 'Online.';
  };
  addEventListener('online', render);
  addEventListener('offline', render);
  render();
  void registerServiceWorker(offline, render).then(render);
}

async function registerServiceWorker(offline: OfflineState, render: () => void): Promise<void> {
  if (!import.meta.env.PROD) {
    offline.note = 'Development build: no offline cache.';
    return;
  }
  if (!('serviceWorker' in navigator)) {
    offline.note = 'This browser cannot cache the page for offline use.';
    return;
  }
  // A page that was already controlled and sees a new controller runs an older build than the
  // one now cached: say so (its lazily loaded files may be gone from the server).
  const hadController = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController) return;
    offline.updateReady = true;
    render();
  });
  try {
    await navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL });
    await navigator.serviceWorker.ready;
    offline.ready = true;
  } catch (error) {
    offline.note = `Offline cache unavailable (${error instanceof Error ? error.message : String(error)}).`;
  }
}
