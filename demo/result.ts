/**
 * Result panels: every outcome, success or error, is shown the same way: a one-line summary
 * (status, code and message, time taken) above the full JSON that came back.
 * @module
 */

export type Outcome =
  | { kind: 'envelope'; envelope: unknown; ms: number; detail?: string | undefined }
  | { kind: 'value'; value: unknown; ms: number; label: string; detail?: string | undefined }
  | { kind: 'thrown'; error: unknown; ms: number }
  | { kind: 'note'; message: string };

/** Runs `work` and measures it; a rejection becomes a `thrown` outcome, never an unhandled one. */
export async function timed<T>(
  work: () => Promise<T> | T,
): Promise<{ ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number }> {
  const started = performance.now();
  try {
    const value = await work();
    return { ok: true, value, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - started };
  }
}

export function isErrorEnvelope(envelope: unknown): envelope is { error: { code: string; message: string } } {
  return typeof envelope === 'object' && envelope !== null && 'error' in envelope;
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function errorInfo(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Fills a result panel; `title` names what ran (e.g. "kem.encrypt on local"). */
export function showResult(panel: HTMLElement, title: string, outcome: Outcome): void {
  panel.hidden = false;
  panel.removeAttribute('aria-busy');
  panel.replaceChildren();

  const summary = document.createElement('p');
  summary.className = 'summary';
  const heading = document.createElement('span');
  heading.className = 'op';
  heading.textContent = title;

  let state: 'ok' | 'error' | 'note';
  /** The line under the summary: the error's code and message, or what a value means. */
  let message: { code?: string; text: string } | undefined;
  let json: unknown;
  let ms: number | undefined;
  switch (outcome.kind) {
    case 'envelope':
      json = outcome.envelope;
      ms = outcome.ms;
      if (isErrorEnvelope(outcome.envelope)) {
        state = 'error';
        message = { code: outcome.envelope.error.code, text: outcome.envelope.error.message };
      } else {
        state = 'ok';
      }
      break;
    case 'value':
      state = 'ok';
      json = outcome.value;
      ms = outcome.ms;
      message = { text: outcome.label };
      break;
    case 'thrown': {
      state = 'error';
      const { name, message: text } = errorInfo(outcome.error);
      json = { error: { name, message: text } };
      ms = outcome.ms;
      message = { code: name, text };
      break;
    }
    case 'note':
      state = 'note';
      message = { text: outcome.message };
      break;
  }
  panel.dataset.state = state;

  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.textContent = state === 'ok' ? 'Success' : state === 'error' ? 'Error' : 'Note';
  summary.append(badge, ' ', heading);
  if (ms !== undefined) {
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = formatMs(ms);
    summary.append(' · ', time);
  }
  panel.append(summary);

  if (message) {
    const p = document.createElement('p');
    p.className = 'message';
    if (message.code !== undefined) {
      const code = document.createElement('code');
      code.textContent = message.code;
      p.append(code, ': ');
    }
    p.append(message.text);
    panel.append(p);
  }

  const detail = 'detail' in outcome ? outcome.detail : undefined;
  if (detail !== undefined) {
    const p = document.createElement('p');
    p.className = 'detail';
    p.textContent = detail;
    panel.append(p);
  }
  if (json !== undefined) {
    const pre = document.createElement('pre');
    pre.className = 'json';
    pre.tabIndex = 0;
    pre.setAttribute('aria-label', `${title} JSON`);
    pre.textContent = JSON.stringify(json, null, 2);
    panel.append(pre);
  }
}

export function showBusy(panel: HTMLElement, title: string): void {
  panel.hidden = false;
  panel.setAttribute('aria-busy', 'true');
  panel.dataset.state = 'busy';
  const p = document.createElement('p');
  p.className = 'summary';
  p.textContent = `${title}: working…`;
  panel.replaceChildren(p);
}
