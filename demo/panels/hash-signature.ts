/**
 * Step 10, HashML-DSA on the backend: the page hashes the message with WebCrypto and sends only
 * the digest to `signature.signHash` / `signature.verifyHash`. Sign publishes its signature, the
 * message and the hash to Verify.
 * @module
 */
import type { Algorithm, HashAlgorithm } from 'qpher';
import { optionalUtf8, toBase64, utf8 } from '../encoding.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import { followActiveKey } from './follow-active-key.js';

async function digestOf(hashAlgorithm: HashAlgorithm, message: string): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.digest(hashAlgorithm, utf8(message) as Uint8Array<ArrayBuffer>)));
}

function hashAlgorithmOf(panel: Panel): HashAlgorithm {
  return (panel.choice('hash_algorithm') ?? 'SHA-256') as HashAlgorithm;
}

export function mountSignHashPanel(
  context: PlaygroundContext,
  { algorithm }: { algorithm: Algorithm } = { algorithm: 'Dilithium3' },
): void {
  const panel = new Panel(context, 'sign-hash');
  followActiveKey(panel, 'key_version', algorithm);

  panel.onSubmit(panel.element<HTMLFormElement>('form'), async () => {
    const message = panel.field('message').value;
    const signingContext = panel.field('context').value;
    const contextBytes = optionalUtf8(signingContext);
    const hashAlgorithm = hashAlgorithmOf(panel);
    const hash = await digestOf(hashAlgorithm, message);
    return panel.call(
      'signature.signHash',
      (q) =>
        q.signature.signHash({
          hash,
          hash_algorithm: hashAlgorithm,
          key_version: Number(panel.field('key_version').value),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      ({ signature, key_version, hash_algorithm }) => {
        context.events.emit('hash-signature', { message, hash_algorithm, signature, key_version, context: signingContext });
        return `Signed the ${hash_algorithm} digest ${hash}. The message, hash, signature and key version are now in Verify.`;
      },
    );
  });
}

export function mountVerifyHashPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'verify-hash');
  context.events.on('hash-signature', (signed) => {
    panel.field('message').value = signed.message;
    panel.field('signature').value = signed.signature;
    panel.field('context').value = signed.context;
    panel.field('key_version').value = String(signed.key_version);
    const radio = panel.root.querySelector<HTMLInputElement>(`input[name="hash_algorithm"][value="${signed.hash_algorithm}"]`);
    if (radio) radio.checked = true;
  });

  panel.onSubmit(panel.element<HTMLFormElement>('form'), async () => {
    const contextBytes = optionalUtf8(panel.field('context').value);
    const hashAlgorithm = hashAlgorithmOf(panel);
    const hash = await digestOf(hashAlgorithm, panel.field('message').value);
    return panel.call(
      'signature.verifyHash',
      (q) =>
        q.signature.verifyHash({
          hash,
          hash_algorithm: hashAlgorithm,
          signature: panel.field('signature').value.trim(),
          key_version: Number(panel.field('key_version').value),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      ({ valid }) => (valid ? 'The digest signature is valid.' : 'The digest signature is NOT valid.'),
    );
  });
}
