/**
 * The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated from the contract:
 * routes, statuses and scopes from the operations table, bodies from the zod schemas (JSON Schema
 * 2020-12, which OpenAPI 3.1 uses as is). Nothing here is written by hand but the prose.
 * Base64 checks and size limits are refinements zod cannot express in JSON Schema; they are
 * described in `info.description` and enforced by the server all the same.
 * @module
 */
import * as z from 'zod/mini';
import { ALGORITHMS } from './algorithms.js';
import { ERROR_CODES } from './codes.js';
import { OPERATIONS, OPERATION_NAMES, type OperationName } from './operations.js';
import { ErrorEnvelopeSchema, KeyVersionSchema, requestSchemas, responseSchemas, successEnvelopeSchema, type Limits } from './schemas.js';

type JsonSchema = Record<string, unknown>;

const SUMMARIES: Record<OperationName, string> = {
  'kem.encrypt': 'Encrypt with a Kyber768 (ML-KEM-768) key',
  'kem.decrypt': 'Decrypt a ciphertext made by kem/encrypt',
  'signature.sign': 'Sign a message with a Dilithium3 (ML-DSA-65) key',
  'signature.verify': 'Verify a Dilithium3 signature',
  'kms.generate': 'Generate the first active key of an algorithm',
  'kms.list': 'List all keys of an algorithm',
  'kms.active': 'Get the active key of an algorithm',
  'kms.get': 'Get one key version',
  'kms.rotate': 'Make a new active key and retire the previous one',
  'kms.retire': 'Retire a key version (decrypt/verify only)',
  'kms.archive': 'Archive a key version (no operation at all)',
};

function jsonSchema(schema: z.ZodMiniType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

export function buildOpenApiDocument(limits: Limits, options: { serverUrl?: string } = {}): JsonSchema {
  const requests = requestSchemas(limits);
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
  });

  for (const name of OPERATION_NAMES) {
    const op = OPERATIONS[name];
    const parameters: unknown[] = [{ $ref: '#/components/parameters/RequestId' }];
    let requestBody: unknown;
    if (op.method === 'GET') {
      const props = (jsonSchema(requests[name]).properties ?? {}) as Record<string, JsonSchema>;
      const inPath = name === 'kms.get';
      for (const [field, schema] of Object.entries(props)) {
        parameters.push({ name: field, in: inPath ? 'path' : 'query', required: true, schema });
      }
    } else {
      requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(requests[name]) } } };
    }
    if (op.mutates) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
    const method = op.method.toLowerCase();
    const item = paths[op.path] ?? {};
    paths[op.path] = item;
    item[method] = {
      operationId: name.replace('.', '_'),
      summary: SUMMARIES[name],
      tags: [name.split('.')[0]],
      security: [{ ApiKey: [] }],
      'x-qpher-scope': op.scope,
      parameters,
      ...(requestBody ? { requestBody } : {}),
      responses: {
        [String(op.status)]: {
          description: 'Success',
          headers: { 'X-Request-ID': { $ref: '#/components/headers/RequestId' } },
          content: { 'application/json': { schema: jsonSchema(successEnvelopeSchema(responseSchemas[name])) } },
        },
        '400': errorResponse('ERR_INVALID_001: validation failed (body, field, size, JSON, content type)'),
        '401': errorResponse('ERR_AUTH_001: invalid or missing API key'),
        '403': errorResponse('ERR_FORBIDDEN_001: outside the API key scopes, or not allowed in the key state'),
        '404': errorResponse('ERR_KEM_005: key version not found; ERR_NOT_FOUND_001: no active key'),
        '429': errorResponse('ERR_RATE_001: rate limit exceeded (see Retry-After)'),
        '500': errorResponse('ERR_INTERNAL_001 / ERR_CRYPTO_001'),
        '503': errorResponse('ERR_SERVICE_001'),
      },
    };
  }

  const health = (summary: string, data: Parameters<typeof successEnvelopeSchema>[0] = z.object({ status: z.string() })) => ({
    get: {
      summary,
      tags: ['health'],
      security: [],
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: jsonSchema(successEnvelopeSchema(data)) } } },
        '503': errorResponse('ERR_SERVICE_001'),
      },
    },
  });
  paths['/healthz'] = health('Liveness: the process answers');
  paths['/readyz'] = health(
    'Readiness: the store answers and the server is not shutting down; reports the primitive provider and crypto threads',
    z.object({ status: z.string(), provider: z.optional(z.string()), crypto_threads: z.optional(z.number()) }),
  );
  paths['/api/v1/openapi.json'] = {
    get: { summary: 'This document', tags: ['health'], security: [], responses: { '200': { description: 'OpenAPI 3.1 document' } } },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Qpher REST API',
      version: '1',
      description:
        'Post-quantum encryption (Kyber768 = ML-KEM-768, FIPS 203) and signatures (Dilithium3 = ML-DSA-65, FIPS 204). ' +
        'Binary fields are strict padded standard base64 (RFC 4648). ' +
        `plaintext/message up to ${limits.maxPayloadBytes} decoded bytes, aad up to ${limits.maxAadBytes}, context up to 255. ` +
        `Error codes: ${Object.entries(ERROR_CODES)
          .map(([code, { status }]) => `${code} (${status})`)
          .join(', ')}.`,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
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
      headers: { RequestId: { schema: { type: 'string', format: 'uuid' } } },
      schemas: {
        ErrorEnvelope: jsonSchema(ErrorEnvelopeSchema),
        Algorithm: { type: 'string', enum: [...ALGORITHMS] },
        KeyVersion: jsonSchema(KeyVersionSchema),
      },
    },
  };
}
