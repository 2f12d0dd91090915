/**
 * Every operation of the REST API, with its route (and alias routes), success status, required
 * scope and whether it changes a keyring. Free of zod on purpose: the facade and the remote backend import this
 * table and must stay small in a browser bundle; the schemas live in `schemas.ts`.
 * @module
 */

export const OPERATIONS = {
  'kem.encrypt': { method: 'POST', path: '/api/v1/kem/encrypt', status: 200, scope: 'kem:encrypt', mutates: false },
  'kem.decrypt': { method: 'POST', path: '/api/v1/kem/decrypt', status: 200, scope: 'kem:decrypt', mutates: false },
  // Raw ML-KEM and key wrapping (docs/crypto-operations.md): the hosted API's paths, as the official SDKs call them.
  'kem.encapsulate': { method: 'POST', path: '/api/v1/kem/encapsulate', status: 200, scope: 'kem:encrypt', mutates: false },
  'kem.decapsulate': { method: 'POST', path: '/api/v1/kem/decapsulate', status: 200, scope: 'kem:decrypt', mutates: false },
  'kem.wrapKey': { method: 'POST', path: '/api/v1/kem/key/wrap', status: 200, scope: 'kem:encrypt', mutates: false },
  'kem.unwrapKey': { method: 'POST', path: '/api/v1/kem/key/unwrap', status: 200, scope: 'kem:decrypt', mutates: false },
  'signature.sign': { method: 'POST', path: '/api/v1/signature/sign', status: 200, scope: 'signature:sign', mutates: false },
  'signature.verify': { method: 'POST', path: '/api/v1/signature/verify', status: 200, scope: 'signature:verify', mutates: false },
  // HashML-DSA over a digest the caller computed (FIPS 204 §5.4).
  'signature.signHash': { method: 'POST', path: '/api/v1/signature/sign-hash', status: 200, scope: 'signature:sign', mutates: false },
  'signature.verifyHash': {
    method: 'POST',
    path: '/api/v1/signature/verify-hash',
    status: 200,
    scope: 'signature:verify',
    mutates: false,
  },
  'kms.generate': { method: 'POST', path: '/api/v1/kms/keys/generate', status: 201, scope: 'kms:write', mutates: true },
  'kms.list': { method: 'GET', path: '/api/v1/kms/keys', status: 200, scope: 'kms:read', mutates: false },
  'kms.active': { method: 'GET', path: '/api/v1/kms/keys/active', status: 200, scope: 'kms:read', mutates: false },
  'kms.get': {
    method: 'GET',
    path: '/api/v1/kms/keys/{algorithm}/{key_version}',
    // The published SDKs' form: the version in the path, the algorithm in the query string.
    aliases: ['/api/v1/kms/keys/{key_version}'],
    status: 200,
    scope: 'kms:read',
    mutates: false,
  },
  'kms.rotate': { method: 'POST', path: '/api/v1/kms/keys/rotate', status: 200, scope: 'kms:write', mutates: true },
  'kms.retire': { method: 'POST', path: '/api/v1/kms/keys/retire', status: 200, scope: 'kms:write', mutates: true },
  'kms.archive': { method: 'POST', path: '/api/v1/kms/keys/archive', status: 200, scope: 'kms:write', mutates: true },
} as const;

export type OperationName = keyof typeof OPERATIONS;
export type Scope = (typeof OPERATIONS)[OperationName]['scope'];

export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/**
 * Every path an operation answers on: its own, then its aliases (other paths for the same
 * operation, whose placeholders come from the path and every other field from the query string).
 */
export function pathsOf(operation: OperationName): readonly string[] {
  const op: { path: string; aliases?: readonly string[] } = OPERATIONS[operation];
  return [op.path, ...(op.aliases ?? [])];
}
export const SCOPES: readonly Scope[] = [...new Set(OPERATION_NAMES.map((op) => OPERATIONS[op].scope))];
