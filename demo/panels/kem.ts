/**
 * Steps 3 and 4, encryption on the backend: `kem.encrypt` (standard or deterministic mode,
 * optional associated data) and `kem.decrypt`. Encrypt publishes its ciphertext; Decrypt takes
 * any published ciphertext (also from the public-key tools' seal). Each has an algorithm choice
 * (ML-KEM-768 or X-Wing); Decrypt takes the one of the ciphertext it is given.
 * @module
 */
import { algorithmChoice } from '../algorithm-choice.js';
import { describePlaintext, optionalUtf8, utf8 } from '../encoding.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import { followActiveKey } from './follow-active-key.js';

export function mountEncryptPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'encrypt');
  const algorithm = algorithmChoice(panel, 'kem.encrypt');
  const saltField = panel.element('#encrypt-salt-field');
  const deterministic = () => panel.choice('mode') === 'deterministic';
  for (const radio of panel.root.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
    radio.addEventListener('change', () => {
      saltField.hidden = !deterministic();
    });
  }
  followActiveKey(panel, 'key_version', algorithm);

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () => {
    const aad = panel.field('aad').value;
    return panel.call(
      'kem.encrypt',
      (q) =>
        q.kem.encrypt({
          algorithm: algorithm.get(),
          plaintext: utf8(panel.field('plaintext').value),
          key_version: Number(panel.field('key_version').value),
          ...(deterministic() ? { mode: 'deterministic' as const, salt: utf8(panel.field('salt').value) } : {}),
          ...(aad !== '' ? { aad: utf8(aad) } : {}),
        }),
      ({ ciphertext, key_version, algorithm: used }) => {
        context.events.emit('ciphertext', { ciphertext, key_version, algorithm: used, aad, focus: false });
        return 'The ciphertext, its key version and the associated data are now in Decrypt.';
      },
    );
  });
}

export function mountDecryptPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'decrypt');
  const algorithm = algorithmChoice(panel, 'kem.decrypt');
  context.events.on('ciphertext', ({ ciphertext, key_version, algorithm: used, aad, focus }) => {
    if (used) algorithm.set(used);
    panel.field('ciphertext').value = ciphertext;
    panel.field('key_version').value = String(key_version);
    panel.field('aad').value = aad;
    if (focus) panel.field('ciphertext').focus();
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () => {
    const aad = optionalUtf8(panel.field('aad').value);
    return panel.call(
      'kem.decrypt',
      (q) =>
        q.kem.decrypt({
          algorithm: algorithm.get(),
          ciphertext: panel.field('ciphertext').value.trim(),
          key_version: Number(panel.field('key_version').value),
          ...(aad ? { aad } : {}),
        }),
      ({ plaintext }) => `Plaintext: ${describePlaintext(plaintext)}`,
    );
  });
}
