/**
 * How the key table reads the key rings: every page of each algorithm's list (the API pages it:
 * 100 keys by default, 1,000 at most), so the panels know the active key however many versions a
 * ring holds; and which rows to draw, the newest of each algorithm, since a ring may hold 10,000.
 * @module
 */
import { ALGORITHMS, type ErrorEnvelope, type KeyInfo, type Qpher } from 'qpher';
import { algorithmOrder } from './algorithms.js';

/** Rows drawn per algorithm; the caption counts the rest. */
export const ROWS_PER_ALGORITHM = 100;

/** Every key on the backend, in the library's algorithm order and newest version first; or the first error. */
export async function listEveryKey(q: Qpher): Promise<{ keys: KeyInfo[] } | ErrorEnvelope> {
  const answers = await Promise.all(
    ALGORITHMS.map(async (algorithm) => {
      const keys: KeyInfo[] = [];
      let cursor: string | undefined;
      do {
        const answer = await q.kms.list({ algorithm, limit: 1000, ...(cursor ? { cursor } : {}) });
        if ('error' in answer) return answer;
        keys.push(...answer.data.keys);
        cursor = answer.data.next_cursor;
      } while (cursor);
      return keys;
    }),
  );
  const keys: KeyInfo[] = [];
  for (const answer of answers) {
    if ('error' in answer) return answer;
    keys.push(...answer);
  }
  keys.sort((a, b) => algorithmOrder(a.algorithm) - algorithmOrder(b.algorithm) || b.key_version - a.key_version);
  return { keys };
}

/** The rows to draw (from `listEveryKey`'s order): the newest `ROWS_PER_ALGORITHM` of each algorithm, and how many are left out. */
export function rowsToDraw(keys: readonly KeyInfo[]): { shown: KeyInfo[]; hidden: number } {
  const perAlgorithm = new Map<string, number>();
  const shown = keys.filter((key) => {
    const n = (perAlgorithm.get(key.algorithm) ?? 0) + 1;
    perAlgorithm.set(key.algorithm, n);
    return n <= ROWS_PER_ALGORITHM;
  });
  return { shown, hidden: keys.length - shown.length };
}
