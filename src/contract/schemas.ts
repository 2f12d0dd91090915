/**
 * zod schemas for every request and response body of the REST API and for the envelope: the
 * single source of truth for validation, TypeScript types and the OpenAPI document.
 *
 * Requests are strict (an unknown field is an error naming it, so a client never gets a silently
 * weaker result). Binary fields are strict padded base64 and are length-checked *before*
 * decoding, so an oversized field costs a regex, not an allocation. Uses `zod/mini` so that the
 * Worker chunk that embeds these schemas stays small.
 * @module
 */
import * as z from 'zod/mini';
import {
  ALGORITHM_TABLE,
  ALGORITHMS,
  type Algorithm,
  algorithmsFor,
  factsOfKind,
  KEY_STATUSES,
  MAX_KEY_VERSION,
  type SignatureFacts,
} from './algorithms.js';
import { decodeListCursor } from './list-cursor.js';
import type { OperationName } from './operations.js';
import { decodedLength, isBase64 } from '../encoding.js';
import { formatOverhead } from '../crypto/format.js';
import { HASH_ML_DSA_ALGORITHMS, type HashMlDsaAlgorithm } from '../crypto/hash-algorithms.js';
import { WRAPPABLE_KEY_LENGTHS } from '../crypto/key-wrap-header.js';

export interface Limits {
  /** Largest plaintext or message, in decoded bytes. Default 1 MiB. */
  maxPayloadBytes: number;
  /** Largest `aad`, in decoded bytes. Default 64 KiB. */
  maxAadBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxPayloadBytes: 1_048_576, maxAadBytes: 65_536 };

/** The most a ciphertext adds to its plaintext under any KEM of the table (header, KEM ciphertext, tag). */
export const CIPHERTEXT_OVERHEAD = Math.max(...factsOfKind('kem').map(formatOverhead));
/** The largest signing context of any signature algorithm of the table (FIPS 204 §5.2: 255). */
export const MAX_CONTEXT_BYTES = Math.max(...factsOfKind('signature').map((f) => f.sizes.context));
export const MAX_SALT_BYTES = 256;
/** A signature is 3,309 bytes; anything longer is refused before decoding, anything else is checked. */
const MAX_SIGNATURE_BYTES = 4096;
/**
 * Caps for the raw-KEM and key-wrap fields, far above any row's size: they bound the decoding
 * work only. The exact length is checked by the engine after the key version was found, so a
 * missing version is 404 ERR_KEM_005 whatever the ciphertext or wrapped key looks like.
 */
const MAX_KEM_CIPHERTEXT_BYTES = 8192;
const MAX_WRAPPED_KEY_BYTES = 8192;
/** symmetric_key and hash are refused by their exact allowed sizes; this bounds the decoding. */
const MAX_SMALL_FIELD_BYTES = 1024;

/** The pre-hash functions of sign-hash/verify-hash (FIPS 204 §5.4), in table order. */
export const HASH_ALGORITHMS = Object.keys(HASH_ML_DSA_ALGORITHMS) as [HashMlDsaAlgorithm, ...HashMlDsaAlgorithm[]];
export const HashAlgorithmSchema = z.enum(HASH_ALGORITHMS);

/**
 * The key's algorithm must accept the pre-hash (the table's `hashAlgorithms`: the composite signs
 * SHA-512 digests only), and a digest must have its algorithm's length: "hash must be 48 bytes
 * for SHA-384, got 32".
 */
function requireDigest(
  operation: 'signature.signHash' | 'signature.verifyHash',
  r: { hash: string; hash_algorithm: HashMlDsaAlgorithm; algorithm?: Algorithm | undefined },
  ctx: z.core.$RefinementCtx<unknown>,
) {
  const algorithm = r.algorithm ?? algorithmsFor(operation)[0];
  const accepted = (ALGORITHM_TABLE[algorithm] as SignatureFacts).hashAlgorithms;
  if (!accepted.includes(r.hash_algorithm)) {
    ctx.issues.push({
      code: 'custom',
      path: ['hash_algorithm'],
      input: r.hash_algorithm,
      message: `hash_algorithm must be ${accepted.map((h) => JSON.stringify(h)).join(' or ')} for ${algorithm}`,
    });
    return;
  }
  const expected = HASH_ML_DSA_ALGORITHMS[r.hash_algorithm].digestLength;
  const got = decodedLength(r.hash);
  if (got !== expected) {
    ctx.issues.push({
      code: 'custom',
      path: ['hash'],
      input: r.hash,
      message: `hash must be ${expected} bytes for ${r.hash_algorithm}, got ${got}`,
    });
  }
}

const ALLOWED_KEY_SIZES = `${WRAPPABLE_KEY_LENGTHS.slice(0, -1).join(', ')} or ${WRAPPABLE_KEY_LENGTHS.at(-1)}`;

function base64Field(name: string, maxBytes: number, minBytes = 0) {
  return z.string().check(
    z.refine(isBase64, { message: `${name} must be valid base64 (RFC 4648, standard alphabet, padded)`, abort: true }),
    z.refine((s) => decodedLength(s) <= maxBytes, { message: `${name} exceeds the limit of ${maxBytes} bytes`, abort: true }),
    z.refine((s) => decodedLength(s) >= minBytes, { message: `${name} must be at least ${minBytes} byte${minBytes === 1 ? '' : 's'}` }),
  );
}

export const AlgorithmSchema = z.enum(ALGORITHMS);
/**
 * The algorithms one operation accepts (the table's `operations`): naming another is a 400 that
 * lists the accepted ones ("algorithm must be one of ...").
 */
export function algorithmSchemaFor(operation: OperationName) {
  return z.enum(algorithmsFor(operation));
}
/** Operations that take a key_version may name its algorithm; absent, the operation's first one. */
const optionalAlgorithm = (operation: OperationName) => z.optional(algorithmSchemaFor(operation));
export const KeyStatusSchema = z.enum(KEY_STATUSES);
export const KeyVersionSchema = z.int().check(z.gte(1), z.lte(MAX_KEY_VERSION));
const ModeSchema = z.enum(['standard', 'deterministic']);

/** `kms.list` page sizes: `limit` defaults to 100 and is at most 1000. */
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

/**
 * A page size: an integer, or its decimal digits (a query string carries only strings, and both
 * backends must accept what the other sends). The engine reads it with `Number`.
 */
const ListLimitSchema = z.custom<number | string>(
  (value) => {
    const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value;
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_LIST_LIMIT;
  },
  { message: `limit must be an integer from 1 to ${MAX_LIST_LIMIT}` },
);
const ListCursorSchema = z
  .string()
  .check(z.refine((s) => decodeListCursor(s) !== undefined, { message: 'cursor is not a cursor from a previous page of this list' }));

function requireSaltForDeterministic(r: { mode?: string | undefined; salt?: string | undefined }) {
  if (r.mode === 'deterministic') return r.salt !== undefined;
  return r.salt === undefined;
}

/** Builds the request schemas for a set of limits (the server's limits are configurable). */
export function requestSchemas(limits: Limits = DEFAULT_LIMITS) {
  const payload = (name: string) => base64Field(name, limits.maxPayloadBytes);
  const aad = z.optional(base64Field('aad', limits.maxAadBytes));
  const context = z.optional(base64Field('context', MAX_CONTEXT_BYTES));
  return {
    'kem.encrypt': z
      .strictObject({
        plaintext: payload('plaintext'),
        key_version: KeyVersionSchema,
        algorithm: optionalAlgorithm('kem.encrypt'),
        mode: z.optional(ModeSchema),
        salt: z.optional(base64Field('salt', MAX_SALT_BYTES, 1)),
        aad,
      })
      .check(
        z.refine(requireSaltForDeterministic, {
          message: 'salt is required when mode is "deterministic" and not allowed otherwise',
        }),
      ),
    'kem.decrypt': z.strictObject({
      ciphertext: base64Field('ciphertext', limits.maxPayloadBytes + CIPHERTEXT_OVERHEAD),
      key_version: KeyVersionSchema,
      algorithm: optionalAlgorithm('kem.decrypt'),
      aad,
    }),
    'signature.sign': z.strictObject({
      message: payload('message'),
      key_version: KeyVersionSchema,
      algorithm: optionalAlgorithm('signature.sign'),
      context,
    }),
    'signature.verify': z.strictObject({
      message: payload('message'),
      signature: base64Field('signature', MAX_SIGNATURE_BYTES),
      key_version: KeyVersionSchema,
      algorithm: optionalAlgorithm('signature.verify'),
      context,
    }),
    'kem.encapsulate': z.strictObject({ key_version: KeyVersionSchema, algorithm: optionalAlgorithm('kem.encapsulate') }),
    'kem.decapsulate': z.strictObject({
      kem_ciphertext: base64Field('kem_ciphertext', MAX_KEM_CIPHERTEXT_BYTES),
      key_version: KeyVersionSchema,
      algorithm: optionalAlgorithm('kem.decapsulate'),
    }),
    'kem.wrapKey': z.strictObject({
      symmetric_key: base64Field('symmetric_key', MAX_SMALL_FIELD_BYTES).check(
        z.refine((s) => WRAPPABLE_KEY_LENGTHS.includes(decodedLength(s)), {
          message: `symmetric_key must be ${ALLOWED_KEY_SIZES} bytes`,
        }),
      ),
      key_version: KeyVersionSchema,
      algorithm: optionalAlgorithm('kem.wrapKey'),
    }),
    'kem.unwrapKey': z.strictObject({
      wrapped_key: base64Field('wrapped_key', MAX_WRAPPED_KEY_BYTES),
      key_version: KeyVersionSchema,
      algorithm: optionalAlgorithm('kem.unwrapKey'),
    }),
    'signature.signHash': z
      .strictObject({
        hash: base64Field('hash', MAX_SMALL_FIELD_BYTES),
        hash_algorithm: HashAlgorithmSchema,
        key_version: KeyVersionSchema,
        algorithm: optionalAlgorithm('signature.signHash'),
        context,
      })
      .check(z.superRefine((r, ctx) => requireDigest('signature.signHash', r, ctx))),
    'signature.verifyHash': z
      .strictObject({
        hash: base64Field('hash', MAX_SMALL_FIELD_BYTES),
        hash_algorithm: HashAlgorithmSchema,
        signature: base64Field('signature', MAX_SIGNATURE_BYTES),
        key_version: KeyVersionSchema,
        algorithm: optionalAlgorithm('signature.verifyHash'),
        context,
      })
      .check(z.superRefine((r, ctx) => requireDigest('signature.verifyHash', r, ctx))),
    'kms.generate': z.strictObject({ algorithm: algorithmSchemaFor('kms.generate') }),
    'kms.rotate': z.strictObject({ algorithm: algorithmSchemaFor('kms.rotate') }),
    'kms.list': z.strictObject({
      algorithm: z.optional(algorithmSchemaFor('kms.list')),
      status: z.optional(KeyStatusSchema),
      limit: z.optional(ListLimitSchema),
      cursor: z.optional(ListCursorSchema),
    }),
    'kms.active': z.strictObject({ algorithm: algorithmSchemaFor('kms.active') }),
    'kms.get': z.strictObject({ algorithm: algorithmSchemaFor('kms.get'), key_version: KeyVersionSchema }),
    'kms.retire': z.strictObject({ algorithm: algorithmSchemaFor('kms.retire'), key_version: KeyVersionSchema }),
    'kms.archive': z.strictObject({ algorithm: algorithmSchemaFor('kms.archive'), key_version: KeyVersionSchema }),
  } as const;
}

export type RequestSchemas = ReturnType<typeof requestSchemas>;
export type Requests = { [K in keyof RequestSchemas]: z.infer<RequestSchemas[K]> };

const Timestamp = z.iso.datetime();

export const KeyInfoSchema = z.object({
  key_version: KeyVersionSchema,
  algorithm: AlgorithmSchema,
  status: KeyStatusSchema,
  public_key: z.string(),
  created_at: Timestamp,
});
/** Every key operation's answer names the key it used, as the official SDKs read it. */
const usedKey = { key_version: KeyVersionSchema, algorithm: AlgorithmSchema };

export const responseSchemas = {
  'kem.encrypt': z.object({ ciphertext: z.string(), ...usedKey }),
  'kem.decrypt': z.object({ plaintext: z.string(), ...usedKey }),
  'signature.sign': z.object({ signature: z.string(), ...usedKey }),
  'signature.verify': z.object({ valid: z.boolean(), ...usedKey }),
  /** FIPS 203 outputs as they are: the KEM ciphertext c and the 32-byte shared secret K. */
  'kem.encapsulate': z.object({ kem_ciphertext: z.string(), shared_secret: z.string(), ...usedKey }),
  /** A wrong but well-formed kem_ciphertext gives FIPS 203's implicit-rejection secret, not an error. */
  'kem.decapsulate': z.object({ shared_secret: z.string(), ...usedKey }),
  'kem.wrapKey': z.object({ wrapped_key: z.string(), ...usedKey, wrapping_method: z.literal('KEM-DEM') }),
  'kem.unwrapKey': z.object({ symmetric_key: z.string(), ...usedKey }),
  'signature.signHash': z.object({
    signature: z.string(),
    ...usedKey,
    hash_algorithm: HashAlgorithmSchema,
    signature_type: z.literal('detached'),
  }),
  'signature.verifyHash': z.object({ valid: z.boolean(), ...usedKey, hash_algorithm: HashAlgorithmSchema }),
  'kms.generate': KeyInfoSchema,
  /** The new version's record, and the version it retired (`null` when none was active). */
  'kms.rotate': z.object({ ...KeyInfoSchema.shape, old_key_version: z.nullable(KeyVersionSchema) }),
  /**
   * `total`: keys matching the filters, over all pages. `next_cursor` is present while more
   * remain. Ordered by algorithm (table order), then key_version.
   */
  'kms.list': z.object({ keys: z.array(KeyInfoSchema), total: z.int(), next_cursor: z.optional(z.string()) }),
  'kms.active': KeyInfoSchema,
  'kms.get': KeyInfoSchema,
  /** The key's whole record after the change (the SDKs read public_key and created_at too). */
  'kms.retire': KeyInfoSchema,
  'kms.archive': KeyInfoSchema,
} as const;

export type Responses = { [K in keyof typeof responseSchemas]: z.infer<(typeof responseSchemas)[K]> };
export type KeyInfo = z.infer<typeof KeyInfoSchema>;

/** `code` and `error_code` always carry the same value (envelope.ts builds both). */
export const ErrorBodySchema = z.object({ code: z.string(), error_code: z.string(), message: z.string() });
export const ErrorEnvelopeSchema = z.object({ error: ErrorBodySchema, request_id: z.string(), timestamp: Timestamp });
export function successEnvelopeSchema<T extends z.ZodMiniType>(data: T) {
  return z.object({ data, request_id: z.string(), timestamp: Timestamp });
}

/** One readable sentence for the first problem zod found, in the spec's style. */
export function describeIssues(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'Validation failed';
  return `Validation failed: ${describeIssue(issue)}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type':
      if (field === '') return 'request body must be a JSON object';
      // needs safeParse(..., { reportInput: true }): zod omits the input otherwise
      if (issue.input === undefined) return `${field} is required`;
      if (field === 'key_version') return KEY_VERSION_RANGE;
      return `${field} must be ${article(issue.expected)}`;
    case 'too_small':
    case 'too_big':
      return field === 'key_version' ? KEY_VERSION_RANGE : `${field} is out of range`;
    case 'invalid_value':
      return `${field} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `${field} must be an ISO 8601 timestamp`;
    default:
      return issue.message;
  }
}

const KEY_VERSION_RANGE = `key_version must be an integer from 1 to ${MAX_KEY_VERSION}`;

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
