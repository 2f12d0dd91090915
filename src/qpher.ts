/**
 * The Qpher facade: the object users hold. Its methods mirror the REST API one to one, take the
 * spec's request bodies (binary fields as base64 strings or Uint8Array) and resolve to the spec's
 * envelopes whatever the backend; they never throw for an API error (use `unwrap` for that).
 * @module
 */
import type { Envelope } from './contract/envelope.js';
import type { OperationName } from './contract/operations.js';
import type { Requests, Responses } from './contract/schemas.js';
import type { Backend, CallOptions } from './backends/backend.js';
import { requestIdFor } from './contract/request-id.js';
import { bytesToBase64 } from './encoding.js';

type BinaryField =
  | 'plaintext'
  | 'ciphertext'
  | 'message'
  | 'signature'
  | 'salt'
  | 'aad'
  | 'context'
  | 'kem_ciphertext'
  | 'symmetric_key'
  | 'wrapped_key'
  | 'hash';
const BINARY_FIELDS = new Set<string>([
  'plaintext',
  'ciphertext',
  'message',
  'signature',
  'salt',
  'aad',
  'context',
  'kem_ciphertext',
  'symmetric_key',
  'wrapped_key',
  'hash',
] satisfies BinaryField[]);
/** A request body as the facade takes it: binary fields may also be bytes. */
export type Input<K extends OperationName> = {
  [F in keyof Requests[K]]: F extends BinaryField ? Requests[K][F] | Uint8Array : Requests[K][F];
};

export interface QpherOptions {
  backend: Backend;
}

export class Qpher {
  readonly #backend: Backend;

  constructor(options: QpherOptions) {
    if (!options?.backend || typeof options.backend.call !== 'function') {
      throw new TypeError('"backend" option must be a Backend (LocalBackend or RemoteBackend)');
    }
    this.#backend = options.backend;
  }

  readonly kem = {
    encrypt: (request: Input<'kem.encrypt'>, options?: CallOptions) => this.#call('kem.encrypt', request, options),
    decrypt: (request: Input<'kem.decrypt'>, options?: CallOptions) => this.#call('kem.decrypt', request, options),
    /** Raw ML-KEM: a fresh 32-byte shared secret and the kem_ciphertext that carries it to the key's holder. */
    encapsulate: (request: Input<'kem.encapsulate'>, options?: CallOptions) => this.#call('kem.encapsulate', request, options),
    /** A wrong kem_ciphertext of the right length answers FIPS 203's implicit-rejection secret, not an error. */
    decapsulate: (request: Input<'kem.decapsulate'>, options?: CallOptions) => this.#call('kem.decapsulate', request, options),
    /** Wraps a 16, 24, 32, 48 or 64-byte symmetric key to the key version (KEM-DEM). */
    wrapKey: (request: Input<'kem.wrapKey'>, options?: CallOptions) => this.#call('kem.wrapKey', request, options),
    unwrapKey: (request: Input<'kem.unwrapKey'>, options?: CallOptions) => this.#call('kem.unwrapKey', request, options),
  };

  readonly signature = {
    sign: (request: Input<'signature.sign'>, options?: CallOptions) => this.#call('signature.sign', request, options),
    verify: (request: Input<'signature.verify'>, options?: CallOptions) => this.#call('signature.verify', request, options),
    /** HashML-DSA over a SHA-256/384/512 digest you computed; never verifies as a plain `sign` signature. */
    signHash: (request: Input<'signature.signHash'>, options?: CallOptions) => this.#call('signature.signHash', request, options),
    verifyHash: (request: Input<'signature.verifyHash'>, options?: CallOptions) => this.#call('signature.verifyHash', request, options),
  };

  readonly kms = {
    generate: (request: Input<'kms.generate'>, options?: CallOptions) => this.#call('kms.generate', request, options),
    /** Every key, or those of one `algorithm` and/or `status`; pages of `limit` (default 100) from `cursor`. */
    list: (request: Input<'kms.list'> = {}, options?: CallOptions) => this.#call('kms.list', request, options),
    active: (request: Input<'kms.active'>, options?: CallOptions) => this.#call('kms.active', request, options),
    get: (request: Input<'kms.get'>, options?: CallOptions) => this.#call('kms.get', request, options),
    rotate: (request: Input<'kms.rotate'>, options?: CallOptions) => this.#call('kms.rotate', request, options),
    retire: (request: Input<'kms.retire'>, options?: CallOptions) => this.#call('kms.retire', request, options),
    archive: (request: Input<'kms.archive'>, options?: CallOptions) => this.#call('kms.archive', request, options),
  };

  /** Releases the backend (ends the Worker, closes connections). */
  async close(): Promise<void> {
    await this.#backend.close?.();
  }

  #call<K extends OperationName>(operation: K, request: Input<K>, options: CallOptions = {}): Promise<Envelope<Responses[K]>> {
    const requestId = requestIdFor(options.requestId);
    return this.#backend.call(operation, toWire(request), { ...options, requestId }) as Promise<Envelope<Responses[K]>>;
  }
}

/** Encodes Uint8Array fields as base64; anything else goes through untouched for the backend to validate. */
function toWire(request: unknown): unknown {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  return Object.fromEntries(
    Object.entries(request).map(([field, value]) => [
      field,
      BINARY_FIELDS.has(field) && value instanceof Uint8Array ? bytesToBase64(value) : value,
    ]),
  );
}
