/**
 * Records the envelopes a scenario receives, normalised so that two backends can be compared
 * byte for byte: request ids and timestamps become placeholders, and randomised bytes
 * (ciphertexts, signatures, public keys, KEM ciphertexts, shared secrets, wrapped keys) become
 * their decoded length, or, for a signature whose length varies (the composite's DER ECDSA half),
 * the row's range after checking the length lies in it. Everything else — shape,
 * error code, message, statuses, versions, plaintexts — must match exactly.
 */
import { ALGORITHM_TABLE, isAlgorithm } from '../../src/contract/algorithms.js';
import { base64ToBytes } from '../../src/encoding.js';
import type { Envelope } from '../../src/index.js';

const RANDOMISED = new Set(['ciphertext', 'signature', 'public_key', 'kem_ciphertext', 'shared_secret', 'wrapped_key']);

export class Transcript {
  readonly entries: unknown[] = [];

  record<T extends Envelope>(label: string, envelope: T): T {
    this.entries.push({ label, envelope: normalise(envelope) });
    return envelope;
  }
}

function normalise(value: unknown, field = '', algorithm?: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value !== null && typeof value === 'object') {
    const named = (value as { algorithm?: unknown }).algorithm;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v, k, named)]));
  }
  if (field === 'signature' && typeof value === 'string' && isAlgorithm(algorithm)) {
    const facts = ALGORITHM_TABLE[algorithm];
    const bytes = base64ToBytes(value);
    if (facts.kind === 'signature' && facts.sizes.minSignature !== facts.sizes.signature && bytes) {
      const { minSignature, signature } = facts.sizes;
      return bytes.length >= minSignature && bytes.length <= signature
        ? `<${minSignature}..${signature} bytes>`
        : `<${bytes.length} bytes>`;
    }
  }
  if (field === 'request_id') return typeof value === 'string' && value.length > 0 ? '<request_id>' : value;
  if (field === 'timestamp' || field === 'created_at') {
    return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) ? '<iso8601-ms>' : value;
  }
  if (RANDOMISED.has(field) && typeof value === 'string') {
    const bytes = base64ToBytes(value);
    return bytes ? `<${bytes.length} bytes>` : value;
  }
  return value;
}
