/**
 * Steps 5 and 6, signatures on the backend: `signature.sign` (optional FIPS 204 context) and
 * `signature.verify`. Sign publishes its signature; Verify (and the public-key tools) take it.
 * Each has an algorithm choice (ML-DSA-65 or the ML-DSA-65 + ECDSA P-256 composite).
 * @module
 */
import { algorithmChoice } from '../algorithm-choice.js';
import { optionalUtf8, utf8 } from '../encoding.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import { followActiveKey } from './follow-active-key.js';

export function mountSignPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'sign');
  const algorithm = algorithmChoice(panel, 'signature.sign');
  followActiveKey(panel, 'key_version', algorithm);

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () => {
    const message = panel.field('message').value;
    const signingContext = panel.field('context').value;
    const contextBytes = optionalUtf8(signingContext);
    return panel.call(
      'signature.sign',
      (q) =>
        q.signature.sign({
          algorithm: algorithm.get(),
          message: utf8(message),
          key_version: Number(panel.field('key_version').value),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      ({ signature, key_version, algorithm: used }) => {
        context.events.emit('signature', { message, signature, key_version, algorithm: used, context: signingContext });
        return 'The message, signature and key version are now in Verify (and in the public-key tools).';
      },
    );
  });
}

export function mountVerifyPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'verify');
  const algorithm = algorithmChoice(panel, 'signature.verify');
  context.events.on('signature', (signed) => {
    algorithm.set(signed.algorithm);
    panel.field('message').value = signed.message;
    panel.field('signature').value = signed.signature;
    panel.field('context').value = signed.context;
    panel.field('key_version').value = String(signed.key_version);
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () => {
    const contextBytes = optionalUtf8(panel.field('context').value);
    return panel.call(
      'signature.verify',
      (q) =>
        q.signature.verify({
          algorithm: algorithm.get(),
          message: utf8(panel.field('message').value),
          signature: panel.field('signature').value.trim(),
          key_version: Number(panel.field('key_version').value),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      ({ valid }) => (valid ? 'The signature is valid.' : 'The signature is NOT valid.'),
    );
  });
}
