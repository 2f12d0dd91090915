/**
 * Keeps a panel's key-version field on the active key of the chosen algorithm whenever the key
 * table is redrawn or another algorithm is chosen; the person can still type another version.
 * @module
 */
import type { KeyInfo } from 'qpher';
import type { AlgorithmChoice } from '../algorithm-choice.js';
import type { Panel } from '../panel.js';

export function followActiveKey(panel: Panel, fieldName: string, choice: AlgorithmChoice): void {
  const input = panel.field(fieldName);
  let known: readonly KeyInfo[] = [];
  const follow = () => {
    const active = known.find((key) => key.algorithm === choice.get() && key.status === 'active');
    if (active) input.value = String(active.key_version);
  };
  panel.context.events.on('keys', (keys) => {
    known = keys;
    follow();
  });
  choice.onChange(follow);
}
