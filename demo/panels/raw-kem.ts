/**
 * Step 8, raw KEM on the backend (ML-KEM-768 or X-Wing): `kem.encapsulate` gives a shared secret
 * and its KEM ciphertext; `kem.decapsulate` recovers the secret. Encapsulate publishes both, so
 * Decapsulate can say whether the secret it got is the one encapsulated (a changed ciphertext
 * gives another secret, not an error: FIPS 203 implicit rejection).
 * @module
 */
import { algorithmChoice } from '../algorithm-choice.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import { followActiveKey } from './follow-active-key.js';

export function mountEncapsulatePanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'encapsulate');
  const algorithm = algorithmChoice(panel, 'kem.encapsulate');
  followActiveKey(panel, 'key_version', algorithm);

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () =>
    panel.call(
      'kem.encapsulate',
      (q) => q.kem.encapsulate({ algorithm: algorithm.get(), key_version: Number(panel.field('key_version').value) }),
      ({ kem_ciphertext, shared_secret, key_version, algorithm: used }) => {
        context.events.emit('kem-ciphertext', { kem_ciphertext, shared_secret, key_version, algorithm: used });
        return `Shared secret: ${shared_secret}. The KEM ciphertext and key version are now in Decapsulate.`;
      },
    ),
  );
}

export function mountDecapsulatePanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'decapsulate');
  const algorithm = algorithmChoice(panel, 'kem.decapsulate');
  let encapsulated: string | undefined;
  context.events.on('kem-ciphertext', ({ kem_ciphertext, shared_secret, key_version, algorithm: used }) => {
    algorithm.set(used);
    panel.field('kem_ciphertext').value = kem_ciphertext;
    panel.field('key_version').value = String(key_version);
    encapsulated = shared_secret;
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () =>
    panel.call(
      'kem.decapsulate',
      (q) =>
        q.kem.decapsulate({
          algorithm: algorithm.get(),
          kem_ciphertext: panel.field('kem_ciphertext').value.trim(),
          key_version: Number(panel.field('key_version').value),
        }),
      ({ shared_secret }) => {
        if (encapsulated === undefined) return `Shared secret: ${shared_secret}.`;
        return shared_secret === encapsulated
          ? `Shared secret: ${shared_secret}. It matches the encapsulated one.`
          : `Shared secret: ${shared_secret}. It does NOT match the encapsulated one (another key, or a changed ciphertext).`;
      },
    ),
  );
}
