/**
 * The methods of the official Go SDK (qpher-go v0.2.0: kem.go, signatures.go, keys.go) as the
 * requests they send and the `data` fields they read back, for the compatibility suite. Inputs
 * use the SDK's own field names and zero values (an empty string is "not given"); each method
 * returns the request (go-sdk-wire.ts sends it as Go would), the shape of the answer's `data`, and
 * the same request as this library's facade takes it (for the local-backend comparison).
 */
import { goMarshal, goQuery, type GoRequest, type GoShape } from './go-sdk-wire.js';

export interface GoCall {
  /**
   * The operation of src/contract/operations.ts it reaches (the facade comparison looks it up);
   * for the SDK's newer calls only a label, as this server may not have them.
   */
  operation: string;
  request: GoRequest;
  reads: GoShape;
  /** The facade request with the same fields (the JSON body, or the path and query parameters). */
  facade: Record<string, unknown>;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function post(operation: string, path: string, fields: Parameters<typeof goMarshal>[0], reads: GoShape): GoCall {
  const body = goMarshal(fields);
  return { operation, request: { method: 'POST', target: path, body }, reads, facade: JSON.parse(body) };
}

function get(operation: string, path: string, params: Record<string, string>, reads: GoShape, facade: Record<string, unknown>): GoCall {
  const query = goQuery(params);
  return { operation, request: { method: 'GET', target: query ? `${path}?${query}` : path }, reads, facade };
}

/** keys.go `keyResponse` (generate, get-active, get, retire). */
const KEY: GoShape = { key_version: 'int', algorithm: 'string', status: 'string', public_key: 'b64', created_at: 'string' };
const USED = { key_version: 'int', algorithm: 'string' } as const;

export const goSdk = {
  // kem.go
  encrypt: (i: { Plaintext: Uint8Array; KeyVersion: number; Mode?: string; Salt?: Uint8Array; Algorithm?: string }) =>
    post(
      'kem.encrypt',
      '/api/v1/kem/encrypt',
      [
        ['plaintext', b64(i.Plaintext)],
        ['key_version', i.KeyVersion],
        ['mode', i.Mode || 'standard'],
        ['salt', i.Salt ? b64(i.Salt) : '', 'omitempty'],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { ciphertext: 'b64', ...USED },
    ),
  decrypt: (i: { Ciphertext: Uint8Array; KeyVersion: number; Algorithm?: string }) =>
    post(
      'kem.decrypt',
      '/api/v1/kem/decrypt',
      [
        ['ciphertext', b64(i.Ciphertext)],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { plaintext: 'b64', ...USED },
    ),
  encapsulate: (i: { KeyVersion: number; Algorithm?: string }) =>
    post(
      'kem.encapsulate',
      '/api/v1/kem/encapsulate',
      [
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { kem_ciphertext: 'b64', shared_secret: 'b64', ...USED },
    ),
  decapsulate: (i: { KEMCiphertext: Uint8Array; KeyVersion: number; Algorithm?: string }) =>
    post(
      'kem.decapsulate',
      '/api/v1/kem/decapsulate',
      [
        ['kem_ciphertext', b64(i.KEMCiphertext)],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { shared_secret: 'b64', ...USED },
    ),
  wrap: (i: { SymmetricKey: Uint8Array; KeyVersion: number; Algorithm?: string }) =>
    post(
      'kem.wrap',
      '/api/v1/kem/key/wrap',
      [
        ['symmetric_key', b64(i.SymmetricKey)],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { wrapped_key: 'b64', ...USED, wrapping_method: 'string' },
    ),
  unwrap: (i: { WrappedKey: Uint8Array; KeyVersion: number; Algorithm?: string }) =>
    post(
      'kem.unwrap',
      '/api/v1/kem/key/unwrap',
      [
        ['wrapped_key', b64(i.WrappedKey)],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { symmetric_key: 'b64', ...USED },
    ),
  // signatures.go
  sign: (i: { Message: Uint8Array; KeyVersion: number; Algorithm?: string }) =>
    post(
      'signature.sign',
      '/api/v1/signature/sign',
      [
        ['message', b64(i.Message)],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { signature: 'b64', ...USED },
    ),
  verify: (i: { Message: Uint8Array; Signature: Uint8Array; KeyVersion: number; Algorithm?: string }) =>
    post(
      'signature.verify',
      '/api/v1/signature/verify',
      [
        ['message', b64(i.Message)],
        ['signature', b64(i.Signature)],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { valid: 'bool', ...USED },
    ),
  signHash: (i: { Hash: Uint8Array; HashAlgorithm: string; KeyVersion: number; Algorithm?: string }) =>
    post(
      'signature.sign-hash',
      '/api/v1/signature/sign-hash',
      [
        ['hash', b64(i.Hash)],
        ['hash_algorithm', i.HashAlgorithm],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { signature: 'b64', ...USED, hash_algorithm: 'string', signature_type: 'string' },
    ),
  verifyHash: (i: { Hash: Uint8Array; HashAlgorithm: string; Signature: Uint8Array; KeyVersion: number; Algorithm?: string }) =>
    post(
      'signature.verify-hash',
      '/api/v1/signature/verify-hash',
      [
        ['hash', b64(i.Hash)],
        ['hash_algorithm', i.HashAlgorithm],
        ['signature', b64(i.Signature)],
        ['key_version', i.KeyVersion],
        ['algorithm', i.Algorithm ?? '', 'omitempty'],
      ],
      { valid: 'bool', ...USED, hash_algorithm: 'string' },
    ),
  // keys.go
  generate: (i: { Algorithm: string }) => post('kms.generate', '/api/v1/kms/keys/generate', [['algorithm', i.Algorithm]], KEY),
  rotate: (i: { Algorithm: string }) =>
    post('kms.rotate', '/api/v1/kms/keys/rotate', [['algorithm', i.Algorithm]], {
      key_version: 'int',
      algorithm: 'string',
      public_key: 'b64',
      old_key_version: 'int|null',
    }),
  getActive: (i: { Algorithm: string }) =>
    get('kms.active', '/api/v1/kms/keys/active', { algorithm: i.Algorithm }, KEY, { algorithm: i.Algorithm }),
  getKey: (i: { Algorithm: string; KeyVersion: number }) =>
    get('kms.get', `/api/v1/kms/keys/${i.KeyVersion}`, { algorithm: i.Algorithm }, KEY, {
      algorithm: i.Algorithm,
      key_version: i.KeyVersion,
    }),
  list: (i?: { Algorithm?: string; Status?: string }) => {
    const params: Record<string, string> = {};
    if (i?.Algorithm) params.algorithm = i.Algorithm;
    if (i?.Status) params.status = i.Status;
    return get('kms.list', '/api/v1/kms/keys', params, { keys: { array: KEY }, total: 'int' }, params);
  },
  retire: (i: { Algorithm: string; KeyVersion: number }) =>
    post(
      'kms.retire',
      '/api/v1/kms/keys/retire',
      [
        ['algorithm', i.Algorithm],
        ['key_version', i.KeyVersion],
      ],
      KEY,
    ),
};
