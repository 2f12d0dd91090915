/**
 * The page's state, in one object that `main.ts` creates and hands to every panel: which backend
 * is in use, and a counter that tells a late answer from an earlier backend to stay quiet.
 * Panel-private state (e.g. the last sealed ciphertext) stays inside its panel.
 * @module
 */
import type { LocalBackend, Qpher } from 'qpher';

export interface ActiveBackend {
  kind: 'local' | 'remote';
  q: Qpher;
  /** Shown in result titles and the key table caption. */
  name: string;
}

export interface PlaygroundState {
  /** The backend calls go to; undefined while the remote settings are incomplete or unusable. */
  backend: ActiveBackend | undefined;
  /** Bumped on every backend switch, so a slow answer from the previous backend cannot repaint the page. */
  generation: number;
  /** Made on first use and kept across switches, so its Worker and IndexedDB connection are reused. */
  local: { backend: LocalBackend; q: Qpher } | undefined;
}

export function createState(): PlaygroundState {
  return { backend: undefined, generation: 0, local: undefined };
}
