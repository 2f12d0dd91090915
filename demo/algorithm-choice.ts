/**
 * The algorithm `<select name="algorithm">` of an operation panel, filled from the library's
 * algorithm table (`algorithmsFor(operation)`): a route shows exactly the algorithms it accepts,
 * the default first, each under the name the page gives it (./algorithms.ts).
 * @module
 */
import { type Algorithm, algorithmsFor, type OperationName } from 'qpher';
import { algorithmLabel } from './algorithms.js';
import type { Panel } from './panel.js';

export interface AlgorithmChoice {
  /** The algorithm chosen now. */
  get(): Algorithm;
  /** Chooses `algorithm` (when the route accepts it), as if the person had, and tells the listeners. */
  set(algorithm: Algorithm): void;
  /** Runs `listener` after every change, by the person or by `set`. */
  onChange(listener: (algorithm: Algorithm) => void): void;
}

export function algorithmChoice(panel: Panel, operation: OperationName): AlgorithmChoice {
  const select = panel.element<HTMLSelectElement>('select[name="algorithm"]');
  const accepted = algorithmsFor(operation);
  select.replaceChildren(
    ...accepted.map((algorithm) => {
      const option = document.createElement('option');
      option.value = algorithm;
      option.textContent = algorithmLabel(algorithm);
      return option;
    }),
  );
  const listeners: ((algorithm: Algorithm) => void)[] = [];
  const get = () => select.value as Algorithm;
  select.addEventListener('change', () => {
    for (const listener of listeners) listener(get());
  });
  return {
    get,
    set(algorithm) {
      if (!accepted.includes(algorithm) || algorithm === get()) return;
      select.value = algorithm;
      for (const listener of listeners) listener(algorithm);
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
