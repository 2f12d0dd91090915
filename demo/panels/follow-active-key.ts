/**
 * Keeps a panel's key-version field on the active key of its algorithm whenever the key table is
 * redrawn; the person can still type another version.
 * @module
 */
import type { Algorithm } from 'qpher';
import type { Panel } from '../panel.js';

export function followActiveKey(panel: Panel, fieldName: string, algorithm: Algorithm): void {
  const input = panel.field(fieldName);
  panel.context.events.on('keys', (keys) => {
    const active = keys.find((key) => key.algorithm === algorithm && key.status === 'active');
    if (active) input.value = String(active.key_version);
  });
}
