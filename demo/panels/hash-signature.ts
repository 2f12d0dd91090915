/**
 * Step 10, signatures over a digest on the backend: the page hashes the message with WebCrypto
 * and sends only the digest to `signature.signHash` / `signature.verifyHash`. Sign publishes its
 * signature, the message and the hash to Verify. The hash choices follow the chosen algorithm's
 * row of the library's table (`hashAlgorithms`): HashML-DSA takes SHA-256/384/512, the composite
 * SHA-512 only (its own pre-hash), so the others are disabled while it is chosen.
 * @module
 */
import { type Algorithm, ALGORITHM_TABLE, type HashAlgorithm } from 'qpher';
import { type AlgorithmChoice, algorithmChoice } from '../algorithm-choice.js';
import { algorithmLabel } from '../algorithms.js';
import { optionalUtf8, toBase64, utf8 } from '../encoding.js';
import { Panel, type PlaygroundContext } from '../panel.js';
import { followActiveKey } from './follow-active-key.js';

async function digestOf(hashAlgorithm: HashAlgorithm, message: string): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.digest(hashAlgorithm, utf8(message) as Uint8Array<ArrayBuffer>)));
}

function hashAlgorithmOf(panel: Panel): HashAlgorithm {
  return (panel.choice('hash_algorithm') ?? 'SHA-256') as HashAlgorithm;
}

function acceptedHashes(algorithm: Algorithm): readonly string[] {
  const row = ALGORITHM_TABLE[algorithm];
  return row.kind === 'signature' ? row.hashAlgorithms : [];
}

/** Enables the hash radios the chosen algorithm accepts; moves the check to an accepted one when needed. */
function limitHashChoices(panel: Panel, algorithm: AlgorithmChoice): void {
  const radios = [...panel.root.querySelectorAll<HTMLInputElement>('input[type="radio"][name="hash_algorithm"]')];
  const note = panel.element('.hash-note');
  const apply = () => {
    const accepted = acceptedHashes(algorithm.get());
    for (const radio of radios) radio.disabled = !accepted.includes(radio.value);
    if (radios.find((r) => r.checked)?.disabled) {
      const first = radios.find((r) => !r.disabled);
      if (first) first.checked = true;
    }
    note.hidden = accepted.length === radios.length;
    note.textContent = `${algorithmLabel(algorithm.get())} signs ${accepted.join(' or ')} digests only (its own pre-hash).`;
  };
  algorithm.onChange(apply);
  apply();
}

export function mountSignHashPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'sign-hash');
  const algorithm = algorithmChoice(panel, 'signature.signHash');
  limitHashChoices(panel, algorithm);
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
          algorithm: algorithm.get(),
          hash,
          hash_algorithm: hashAlgorithm,
          key_version: Number(panel.field('key_version').value),
          ...(contextBytes ? { context: contextBytes } : {}),
        }),
      ({ signature, key_version, hash_algorithm, algorithm: used }) => {
        context.events.emit('hash-signature', {
          message,
          hash_algorithm,
          signature,
          key_version,
          algorithm: used,
          context: signingContext,
        });
        return `Signed the ${hash_algorithm} digest ${hash}. The message, hash, signature and key version are now in Verify.`;
      },
    );
  });
}

export function mountVerifyHashPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'verify-hash');
  const algorithm = algorithmChoice(panel, 'signature.verifyHash');
  limitHashChoices(panel, algorithm);
  context.events.on('hash-signature', (signed) => {
    algorithm.set(signed.algorithm);
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
          algorithm: algorithm.get(),
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
