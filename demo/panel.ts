/**
 * The kit every panel module builds on. A panel is one region of the page, marked
 * `data-panel="name"` in index.html: a card, or a form with its result. It runs one action at a
 * time: while one runs the region is `aria-busy` and *every* button in it is `aria-disabled`
 * (not `disabled`, which would throw keyboard focus out of the pressed button), so a second
 * press visibly does nothing instead of silently doing nothing. Other panels stay usable.
 * @module
 */
import type { Envelope, OperationName, Qpher, Responses } from 'qpher';
import type { EventHub, PlaygroundEvents } from './events.js';
import { showBusy, showResult, timed } from './result.js';
import type { PlaygroundState } from './state.js';

/** What `main.ts` hands every panel: the page's state and the way panels talk to each other. */
export interface PlaygroundContext {
  state: PlaygroundState;
  events: EventHub<PlaygroundEvents>;
}

/** What a page-side computation (no backend) shows when it succeeds. */
export interface ValueShown {
  value: unknown;
  label: string;
  detail?: string;
}

export class Panel {
  readonly context: PlaygroundContext;
  /** The `data-panel` name, for error messages. */
  readonly name: string;
  readonly root: HTMLElement;
  #busy = false;

  constructor(context: PlaygroundContext, name: string) {
    this.context = context;
    this.name = name;
    const root = document.querySelector<HTMLElement>(`[data-panel="${name}"]`);
    if (!root) throw new Error(`[data-panel="${name}"] is missing from index.html`);
    this.root = root;
    // Buttons drawn while busy (a key table redrawn mid-action) are marked like the others.
    new MutationObserver(() => {
      if (this.#busy) this.#mark(true);
    }).observe(root, { childList: true, subtree: true });
  }

  get busy(): boolean {
    return this.#busy;
  }

  /** The panel's result region (`.result`), where every outcome is shown. */
  get result(): HTMLElement {
    return this.element('.result');
  }

  /** The first element in this panel matching `selector`; a missing one is a mistake in index.html. */
  element<T extends HTMLElement = HTMLElement>(selector: string): T {
    const element = this.root.querySelector<T>(selector);
    if (!element) throw new Error(`${selector} is missing from [data-panel="${this.name}"]`);
    return element;
  }

  /** A text field of this panel by its `name`. */
  field(name: string): HTMLInputElement | HTMLTextAreaElement {
    return this.element<HTMLInputElement | HTMLTextAreaElement>(`[name="${name}"]:is(input, textarea)`);
  }

  /** The value of the checked radio button named `name`, if any. */
  choice(name: string): string | undefined {
    return this.root.querySelector<HTMLInputElement>(`input[type="radio"][name="${name}"]:checked`)?.value;
  }

  /** Runs `action` on a click, one action at a time (see the module comment). */
  onClick(button: HTMLButtonElement, action: () => unknown): void {
    button.addEventListener('click', () => void this.exclusive(action));
  }

  /** Runs `action` when `form` is submitted (button or Enter in a field), one action at a time. */
  onSubmit(form: HTMLFormElement, action: () => unknown): void {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.exclusive(action);
    });
  }

  /** Runs `action` unless another runs in this panel; every button is marked busy meanwhile. */
  async exclusive(action: () => unknown): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#mark(true);
    try {
      await action();
    } finally {
      this.#busy = false;
      this.#mark(false);
    }
  }

  /**
   * Runs one backend call and shows its envelope and timing in the result region. `after` sees
   * the typed data of a success (to fill the next form) and returns a line to show under it.
   * Resolves to the envelope, or undefined when there was no backend or the call threw.
   */
  async call<K extends OperationName>(
    operation: K,
    run: (q: Qpher) => Promise<Envelope<Responses[K]>>,
    after?: (data: Responses[K]) => string | undefined,
  ): Promise<Envelope<Responses[K]> | undefined> {
    const backend = this.context.state.backend;
    if (!backend) {
      showResult(this.result, operation, { kind: 'note', message: 'No backend yet: choose one in step 1.' });
      return undefined;
    }
    const title = `${operation} on ${backend.name}`;
    showBusy(this.result, title);
    const outcome = await timed(() => run(backend.q));
    if (!outcome.ok) {
      showResult(this.result, title, { kind: 'thrown', error: outcome.error, ms: outcome.ms });
      return undefined;
    }
    const envelope = outcome.value;
    const detail = 'data' in envelope ? after?.(envelope.data) : undefined;
    showResult(this.result, title, { kind: 'envelope', envelope, ms: outcome.ms, detail });
    return envelope;
  }

  /**
   * Runs a computation in the page (no backend: `seal`, `verify`) and shows its plain value, or
   * what it threw, the same way as an envelope. Resolves to the value, or undefined if it threw.
   */
  async compute<T>(title: string, run: () => Promise<T> | T, show: (value: T) => ValueShown): Promise<T | undefined> {
    showBusy(this.result, title);
    const outcome = await timed(run);
    if (!outcome.ok) {
      showResult(this.result, title, { kind: 'thrown', error: outcome.error, ms: outcome.ms });
      return undefined;
    }
    showResult(this.result, title, { kind: 'value', ms: outcome.ms, ...show(outcome.value) });
    return outcome.value;
  }

  #mark(busy: boolean): void {
    if (busy) this.root.setAttribute('aria-busy', 'true');
    else this.root.removeAttribute('aria-busy');
    for (const button of this.root.querySelectorAll('button')) {
      if (busy) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
    }
  }
}
