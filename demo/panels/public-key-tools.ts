/**
 * Step 7, the public-key tools: `seal()` and `verify()` run in the page with only a public key,
 * no backend (so they work offline). Each is its own panel. Seal takes a KEM public key
 * (ML-KEM-768 or X-Wing) a person chose in the key table and hands its ciphertext to Decrypt on
 * request; Verify takes a signature public key (ML-DSA-65 or the composite) and the last
 * signature made.
 * @module
 */
import { type Algorithm, type KeyInfo, seal, verify } from 'qpher';
import { ALGORITHM_FACTS } from '../algorithms.js';
import { optionalUtf8, utf8 } from '../encoding.js';
import { Panel, type PlaygroundContext } from '../panel.js';

export function mountSealPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'seal');
  const sendToDecrypt = panel.element<HTMLButtonElement>('#seal-to-decrypt');
  /** The last successful seal, for “Send to Decrypt”. */
  let sealed: { ciphertext: string; key_version: number; algorithm?: Algorithm; aad: string } | undefined;
  /** The key chosen in the key table, so Decrypt can be told its algorithm (a pasted key's is not known here). */
  let chosen: KeyInfo | undefined;

  context.events.on('public-key', (key) => {
    if (ALGORITHM_FACTS[key.algorithm].use !== 'kem') return;
    chosen = key;
    panel.field('public_key').value = key.public_key;
    panel.field('key_version').value = String(key.key_version);
    panel.field('public_key').focus();
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), async () => {
    const keyVersion = Number(panel.field('key_version').value);
    const aad = panel.field('aad').value;
    const ciphertext = await panel.compute(
      'seal() in this page',
      () =>
        seal({
          public_key: panel.field('public_key').value.trim(),
          key_version: keyVersion,
          plaintext: utf8(panel.field('plaintext').value),
          ...(aad !== '' ? { aad: utf8(aad) } : {}),
        }),
      (value) => ({
        value: { ciphertext: value, key_version: keyVersion },
        label: 'Sealed',
        detail: 'Returns a ciphertext, not an envelope: nothing left this page. The holder of the key decrypts it with kem.decrypt.',
      }),
    );
    if (ciphertext === undefined) return;
    const algorithm = chosen?.public_key === panel.field('public_key').value.trim() ? chosen.algorithm : undefined;
    sealed = { ciphertext, key_version: keyVersion, ...(algorithm ? { algorithm } : {}), aad };
    sendToDecrypt.disabled = false;
  });
  panel.onClick(sendToDecrypt, () => {
    if (sealed) context.events.emit('ciphertext', { ...sealed, focus: true });
  });
}

export function mountPublicKeyVerifyPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'public-key-verify');

  context.events.on('public-key', (key) => {
    if (ALGORITHM_FACTS[key.algorithm].use !== 'signature') return;
    panel.field('public_key').value = key.public_key;
    panel.field('public_key').focus();
  });
  context.events.on('signature', (signed) => {
    panel.field('message').value = signed.message;
    panel.field('signature').value = signed.signature;
    panel.field('context').value = signed.context;
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), () => {
    const contextBytes = optionalUtf8(panel.field('context').value);
    return panel.compute(
      'verify() in this page',
      () =>
        verify({
          public_key: panel.field('public_key').value.trim(),
          message: utf8(panel.field('message').value),
          signature: panel.field('signature').value.trim(),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      (valid) => ({
        value: { valid },
        label: valid ? 'Valid signature' : 'Invalid signature',
        detail: 'Returns a boolean, not an envelope: checked here with the public key only.',
      }),
    );
  });
}
