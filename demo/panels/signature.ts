/**
 * Steps 5 and 6, signatures on the backend: `signature.sign` (optional FIPS 204 context) and
 * `signature.verify`. Sign publishes its signature; Verify (and the public-key tools) take it.
 * @module
 */
import type { Algorithm } from 'qpher';
import { optionalUtf8, utf8 } from '../encoding.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import { followActiveKey } from './follow-active-key.js';

export interface SignaturePanelOptions {
  /** Whose active key the key-version field follows. */
  algorithm: Algorithm;
}

export function mountSignPanel(context: PlaygroundContext, { algorithm }: SignaturePanelOptions = { algorithm: 'Dilithium3' }): void {
  const panel = new Panel(context, 'sign');
  followActiveKey(panel, 'key_version', algorithm);

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () => {
    const message = panel.field('message').value;
    const signingContext = panel.field('context').value;
    const contextBytes = optionalUtf8(signingContext);
    return panel.call(
      'signature.sign',
      (q) =>
        q.signature.sign({
          message: utf8(message),
          key_version: Number(panel.field('key_version').value),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      ({ signature, key_version }) => {
        context.events.emit('signature', { message, signature, key_version, context: signingContext });
        return 'The message, signature and key version are now in Verify (and in the public-key tools).';
      },
    );
  });
}

export function mountVerifyPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'verify');
  context.events.on('signature', (signed) => {
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
          message: utf8(panel.field('message').value),
          signature: panel.field('signature').value.trim(),
          key_version: Number(panel.field('key_version').value),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      ({ valid }) => (valid ? 'The signature is valid.' : 'The signature is NOT valid.'),
    );
  });
}
