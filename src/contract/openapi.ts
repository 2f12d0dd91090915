/**
 * The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated from the contract:
 * routes, statuses and scopes from the operations table, bodies from the zod schemas (JSON Schema
 * 2020-12, which OpenAPI 3.1 uses as is). Nothing here is written by hand but the prose.
 * Base64 checks and size limits are refinements zod cannot express in JSON Schema; they are
 * described in `info.description` and enforced by the server all the same.
 *
 * It passes Redocly's `recommended` ruleset without a warning (packages/server/test/openapi.test.ts
 * lints the served document), so clients can be generated from it as is.
 * @module
 */
import * as z from 'zod/mini';
import { ERROR_CODES } from './codes.js';
import { OPERATIONS, OPERATION_NAMES, type OperationName, pathsOf } from './operations.js';
import {
  AlgorithmSchema,
  ErrorBodySchema,
  ErrorEnvelopeSchema,
  KeyInfoSchema,
  KeyStatusSchema,
  KeyVersionSchema,
  requestSchemas,
  responseSchemas,
  successEnvelopeSchema,
  type Limits,
} from './schemas.js';

type JsonSchema = Record<string, unknown>;

const SUMMARIES: Record<OperationName, string> = {
  'kem.encrypt': 'Encrypt with a Kyber768 (ML-KEM-768, the default) or X-Wing key',
  'kem.decrypt': 'Decrypt a ciphertext made by kem/encrypt',
  'kem.encapsulate': 'Encapsulate a fresh shared secret to a Kyber768 key (raw ML-KEM-768, the default) or an X-Wing key',
  'kem.decapsulate': 'Decapsulate a kem_ciphertext to its shared secret (implicit rejection, never an error)',
  'kem.wrapKey': 'Wrap a 16-64 byte symmetric key to a Kyber768 or X-Wing key (KEM-DEM)',
  'kem.unwrapKey': 'Unwrap a key made by kem/key/wrap',
  'signature.sign': 'Sign a message with a Dilithium3 (ML-DSA-65, the default) or Composite-ML-DSA key',
  'signature.verify': 'Verify a Dilithium3 or Composite-ML-DSA signature',
  'signature.signHash':
    'Sign a digest: SHA-256/384/512 with a Dilithium3 key (HashML-DSA, FIPS 204 §5.4), SHA-512 only with a Composite-ML-DSA key',
  'signature.verifyHash': 'Verify a sign-hash signature over a digest',
  'kms.generate': 'Generate the first active key of an algorithm',
  'kms.list': 'List all keys of an algorithm',
  'kms.active': 'Get the active key of an algorithm',
  'kms.get': 'Get one key version',
  'kms.rotate': 'Make a new active key and retire the previous one',
  'kms.retire': 'Retire a key version (decrypt/verify only)',
  'kms.archive': 'Archive a key version (no operation at all)',
};

/**
 * Schemas that appear under a name in `components/schemas`: a generated client gets one named
 * type for each instead of a copy per use. zod writes a registered schema once, in `$defs`, and
 * refers to it there; `jsonSchema` moves those to the components.
 */
const NAMED_SCHEMAS = new Map<z.ZodMiniType, string>([
  [AlgorithmSchema, 'Algorithm'],
  [KeyVersionSchema, 'KeyVersion'],
  [KeyStatusSchema, 'KeyStatus'],
  [KeyInfoSchema, 'KeyInfo'],
  [ErrorBodySchema, 'ErrorBody'],
  [ErrorEnvelopeSchema, 'ErrorEnvelope'],
]);
const registry = z.registry<{ id: string }>();
for (const [schema, id] of NAMED_SCHEMAS) registry.add(schema, { id });

/** One shared response per error status: the error envelope, with the codes of that status. */
const ERROR_RESPONSES = {
  '400': 'BadRequest',
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '429': 'TooManyRequests',
  '500': 'InternalError',
  '503': 'ServiceUnavailable',
} as const;
type ErrorStatus = keyof typeof ERROR_RESPONSES;

const ERROR_MEANINGS: Record<ErrorStatus, string> = {
  '400': 'the request is malformed or fails validation (body, field, size, JSON, content type, Idempotency-Key)',
  '401': 'the X-API-Key header is missing, unknown or revoked',
  '403': "outside the API key's scopes, or not allowed in the key's state (e.g. encrypt with a retired key)",
  '404': 'the key version does not exist (ERR_KEM_005), there is no active key, or no such route/method (ERR_NOT_FOUND_001)',
  '429': 'the rate limit of the API key is exceeded; Retry-After says when to come back',
  '500': 'an internal or cryptography error; never contains key material or a stack trace',
  '503': 'overloaded, the store is busy or not ready, or shutting down; Retry-After says when to come back',
};

function errorResponseComponent(status: ErrorStatus, named: Record<string, JsonSchema>) {
  const codes = Object.entries(ERROR_CODES)
    .filter(([, entry]) => String(entry.status) === status)
    .map(([code]) => code);
  return {
    description: `${codes.join(' / ')}: ${ERROR_MEANINGS[status]}`,
    headers: { 'X-Request-ID': { $ref: '#/components/headers/RequestId' } },
    content: { 'application/json': { schema: jsonSchema(ErrorEnvelopeSchema, named) } },
  };
}

const errorRef = (status: ErrorStatus) => ({ $ref: `#/components/responses/${ERROR_RESPONSES[status]}` });
const ALL_ERRORS = Object.fromEntries(Object.keys(ERROR_RESPONSES).map((s) => [s, errorRef(s as ErrorStatus)]));

/** The JSON Schema of a zod schema, with named schemas as `$ref`s into `components/schemas`. */
function jsonSchema(schema: z.ZodMiniType, named: Record<string, JsonSchema>): JsonSchema {
  const converted = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    metadata: registry,
  }) as JsonSchema;
  const {
    $schema: _ignored,
    $defs,
    ...rest
  } = JSON.parse(JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  for (const [id, definition] of Object.entries($defs ?? {})) named[id] ??= definition;
  // The top-level schema itself is a named one: refer to it rather than inline it.
  const ownName = NAMED_SCHEMAS.get(schema);
  if (ownName) {
    named[ownName] ??= rest;
    return { $ref: `#/components/schemas/${ownName}` };
  }
  return rest;
}

/**
 * @param options.serverUrl the base URL clients reach the API at (paths start with `/api/v1`, so
 *   no path unless a proxy mounts the server under one). Without it `servers` is `[{ url: '/' }]`,
 *   the OpenAPI default written out: the origin the document was fetched from.
 */
export function buildOpenApiDocument(limits: Limits, options: { serverUrl?: string } = {}): JsonSchema {
  const requests = requestSchemas(limits);
  const named: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const requestIdHeader = { 'X-Request-ID': { $ref: '#/components/headers/RequestId' } };

  for (const name of OPERATION_NAMES) {
    const op = OPERATIONS[name];
    pathsOf(name).forEach((path, alias) => {
      const parameters: unknown[] = [{ $ref: '#/components/parameters/RequestId' }];
      let requestBody: unknown;
      if (op.method === 'GET') {
        // A field named in the path template is a path parameter; every other one is a query parameter.
        const request = jsonSchema(requests[name], named);
        const props = (request.properties ?? {}) as Record<string, JsonSchema>;
        const required = new Set((request.required ?? []) as string[]);
        for (const [field, schema] of Object.entries(props)) {
          const inPath = path.includes(`{${field}}`);
          parameters.push({ name: field, in: inPath ? 'path' : 'query', required: inPath || required.has(field), schema });
        }
      } else {
        requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(requests[name], named) } } };
      }
      if (op.mutates) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
      const method = op.method.toLowerCase();
      const item = paths[path] ?? {};
      paths[path] = item;
      item[method] = {
        operationId: name.replace('.', '_') + (alias === 0 ? '' : `_alias${alias}`),
        summary: alias === 0 ? SUMMARIES[name] : `${SUMMARIES[name]} (same operation, other fields in the query)`,
        tags: [name.split('.')[0]],
        security: [{ ApiKey: [] }],
        'x-qpher-scope': op.scope,
        parameters,
        ...(requestBody ? { requestBody } : {}),
        responses: {
          [String(op.status)]: {
            description: 'Success',
            headers: requestIdHeader,
            content: { 'application/json': { schema: jsonSchema(successEnvelopeSchema(responseSchemas[name]), named) } },
          },
          ...ALL_ERRORS,
        },
      };
    });
  }

  // Unauthenticated routes: their only 4XX is a request the HTTP layer cannot parse.
  const malformed = { ...errorRef('400'), description: 'ERR_INVALID_001: the HTTP request itself is malformed' };
  const unauthenticated = (operationId: string, summary: string, responses: Record<string, unknown>) => ({
    get: { operationId, summary, tags: ['health'], security: [], responses: { ...responses, '400': malformed } },
  });
  const ok = (data: Parameters<typeof successEnvelopeSchema>[0]) => ({
    description: 'OK',
    headers: requestIdHeader,
    content: { 'application/json': { schema: jsonSchema(successEnvelopeSchema(data), named) } },
  });
  paths['/healthz'] = unauthenticated('health_live', 'Liveness: the process answers', {
    '200': ok(z.object({ status: z.string() })),
    '500': errorRef('500'),
  });
  paths['/readyz'] = unauthenticated(
    'health_ready',
    'Readiness: the store answers and the server is not shutting down; reports the primitive provider and crypto threads',
    {
      '200': ok(z.object({ status: z.string(), provider: z.optional(z.string()), crypto_threads: z.optional(z.number()) })),
      '503': errorRef('503'),
    },
  );
  paths['/api/v1/openapi.json'] = unauthenticated('openapi_document', 'This document', {
    '200': {
      description: 'OpenAPI 3.1 document',
      headers: requestIdHeader,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } },
            required: ['openapi', 'info', 'paths'],
          },
        },
      },
    },
  });

  // Before `named` is read below: the error responses add the envelope's schemas to it.
  const errorResponses = Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([status, component]) => [component, errorResponseComponent(status as ErrorStatus, named)]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Qpher REST API',
      version: '1',
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Post-quantum encryption (Kyber768 = ML-KEM-768, FIPS 203) and signatures (Dilithium3 = ML-DSA-65, FIPS 204), ' +
        'and the hybrids X-Wing (ML-KEM-768 + X25519) and Composite-ML-DSA (ML-DSA-65 + ECDSA P-256). ' +
        'Binary fields are strict padded standard base64 (RFC 4648). ' +
        `plaintext/message up to ${limits.maxPayloadBytes} decoded bytes, aad up to ${limits.maxAadBytes}, context up to 255. ` +
        `Error codes: ${Object.entries(ERROR_CODES)
          .map(([code, { status }]) => `${code} (${status})`)
          .join(', ')}.`,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: options.serverUrl ?? '/' }],
    paths,
    components: {
      securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      parameters: {
        RequestId: {
          name: 'X-Request-ID',
          in: 'header',
          required: false,
          description: 'Echoed when it is a UUID; otherwise the server makes one. Also in request_id.',
          schema: { type: 'string', format: 'uuid' },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'A repeat with the same key and body within 24 h returns the first response with Idempotent-Replayed: true; the same key with another body is a 400.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
      },
      headers: {
        RequestId: { description: 'The request id, also in the body as request_id.', schema: { type: 'string', format: 'uuid' } },
      },
      responses: errorResponses,
      schemas: Object.fromEntries(Object.entries(named).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}
