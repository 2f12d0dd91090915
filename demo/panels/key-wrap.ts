/**
 * Step 9, key wrapping on the backend: `kem.wrapKey` seals a 16-64 byte symmetric key to the
 * chosen ML-KEM-768 or X-Wing key, `kem.unwrapKey` opens it. Wrap publishes the wrapped key to
 * Unwrap.
 * @module
 */
import { algorithmChoice } from '../algorithm-choice.js';
import { toBase64 } from '../encoding.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import { followActiveKey } from './follow-active-key.js';

const randomKey = () => toBase64(crypto.getRandomValues(new Uint8Array(32)));

export function mountWrapPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'wrap');
  const algorithm = algorithmChoice(panel, 'kem.wrapKey');
  followActiveKey(panel, 'key_version', algorithm);
  const symmetricKey = panel.field('symmetric_key');
  symmetricKey.value = randomKey();
  panel.onClick(panel.element<HTMLButtonElement>('#wrap-random'), () => {
    symmetricKey.value = randomKey();
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () =>
    panel.call(
      'kem.wrapKey',
      (q) =>
        q.kem.wrapKey({
          algorithm: algorithm.get(),
          symmetric_key: symmetricKey.value.trim(),
          key_version: Number(panel.field('key_version').value),
        }),
      ({ wrapped_key, key_version, algorithm: used }) => {
        context.events.emit('wrapped-key', { wrapped_key, key_version, algorithm: used });
        return 'The wrapped key and its key version are now in Unwrap.';
      },
    ),
  );
}

export function mountUnwrapPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'unwrap');
  const algorithm = algorithmChoice(panel, 'kem.unwrapKey');
  context.events.on('wrapped-key', ({ wrapped_key, key_version, algorithm: used }) => {
    algorithm.set(used);
    panel.field('wrapped_key').value = wrapped_key;
    panel.field('key_version').value = String(key_version);
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () =>
    panel.call(
      'kem.unwrapKey',
      (q) =>
        q.kem.unwrapKey({
          algorithm: algorithm.get(),
          wrapped_key: panel.field('wrapped_key').value.trim(),
          key_version: Number(panel.field('key_version').value),
        }),
      ({ symmetric_key }) => `Symmetric key: ${symmetric_key}`,
    ),
  );
}
