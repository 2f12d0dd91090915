/**
 * Hostile HTTP inputs, shared by the in-process and the real-server suites. Each must get the
 * right envelope (status, code, a message that says what was wrong) and leave the server healthy.
 */
export interface HostileCase {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  status: number;
  code: string;
  message?: RegExp;
}

const JSON_CT = { 'Content-Type': 'application/json' };
const ENCRYPT = '/api/v1/kem/encrypt';

export function hostileCases(): HostileCase[] {
  const post = (
    name: string,
    body: string | Uint8Array,
    status: number,
    code: string,
    message?: RegExp,
    headers = JSON_CT,
  ): HostileCase => ({
    name,
    method: 'POST',
    path: ENCRYPT,
    headers,
    body,
    status,
    code,
    ...(message ? { message } : {}),
  });
  return [
    post('truncated JSON', '{"plaintext": "dGVz', 400, 'ERR_INVALID_001', /not valid JSON/),
    post('10 MB body', 'x'.repeat(10 * 1024 * 1024), 400, 'ERR_INVALID_001', /exceeds the limit of 2097152 bytes/),
    post('deeply nested arrays (200k)', '['.repeat(200_000) + ']'.repeat(200_000), 400, 'ERR_INVALID_001', /deeper than 32 levels/),
    post(
      'deeply nested objects (100k)',
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      400,
      'ERR_INVALID_001',
      /deeper than 32 levels/,
    ),
    post('wrong types', '{"plaintext": 123, "key_version": "1"}', 400, 'ERR_INVALID_001', /plaintext must be a string/),
    post(
      'text/plain content type',
      '{"plaintext":"dGVzdA==","key_version":1}',
      400,
      'ERR_INVALID_001',
      /Content-Type must be application\/json/,
      {
        'Content-Type': 'text/plain',
      },
    ),
    post('form content type (curl default)', 'plaintext=dGVzdA%3D%3D&key_version=1', 400, 'ERR_INVALID_001', /Content-Type/, {
      'Content-Type': 'application/x-www-form-urlencoded',
    }),
    post('application/json with a foreign charset', '{}', 400, 'ERR_INVALID_001', /Content-Type/, {
      'Content-Type': 'application/json; charset=latin1',
    }),
    post('empty body', '', 400, 'ERR_INVALID_001', /body is empty/),
    post('array body', '[]', 400, 'ERR_INVALID_001', /must be a JSON object/),
    post('null body', 'null', 400, 'ERR_INVALID_001', /must be a JSON object/),
    post('a bare string', '"hello"', 400, 'ERR_INVALID_001', /must be a JSON object/),
    post('invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 400, 'ERR_INVALID_001', /not valid UTF-8/),
    post(
      'unicode garbage in a base64 field',
      '{"plaintext":"🔥\\u0000\u202e","key_version":1}',
      400,
      'ERR_INVALID_001',
      /plaintext must be valid base64/,
    ),
    post('lone surrogate key', '{"plaintext":"dGVzdA==","key_version":1,"\\ud800":1}', 400, 'ERR_INVALID_001', /unknown field/),
    post('huge integer', '{"plaintext":"dGVzdA==","key_version":99999999999999999999999}', 400, 'ERR_INVALID_001', /key_version/),
    post('1e400 (Infinity)', '{"plaintext":"dGVzdA==","key_version":1e400}', 400, 'ERR_INVALID_001', /key_version/),
    post(
      'negative version',
      '{"plaintext":"dGVzdA==","key_version":-1}',
      400,
      'ERR_INVALID_001',
      /key_version must be an integer from 1 to 4294967295/,
    ),
    post('fractional version', '{"plaintext":"dGVzdA==","key_version":1.5}', 400, 'ERR_INVALID_001', /key_version/),
    post(
      'duplicate keys',
      '{"plaintext":"dGVzdA==","key_version":1,"key_version":2}',
      400,
      'ERR_INVALID_001',
      /duplicate field "key_version"/,
    ),
    post(
      'escaped duplicate keys',
      '{"plaintext":"dGVzdA==","key_version":1,"key_\\u0076ersion":2}',
      400,
      'ERR_INVALID_001',
      /duplicate field/,
    ),
    post('unknown field', '{"plaintext":"dGVzdA==","key_version":1,"cipher":"none"}', 400, 'ERR_INVALID_001', /unknown field "cipher"/),
    post(
      'algorithm of another kind',
      '{"plaintext":"dGVzdA==","key_version":1,"algorithm":"Dilithium3"}',
      400,
      'ERR_INVALID_001',
      /algorithm must be one of "Kyber768", "X-Wing"$/,
    ),
    post(
      '__proto__ field',
      '{"plaintext":"dGVzdA==","key_version":1,"__proto__":{"admin":true}}',
      400,
      'ERR_INVALID_001',
      /unknown field "__proto__"/,
    ),
    post(
      '1 MiB + 1 plaintext',
      JSON.stringify({ plaintext: Buffer.alloc(1_048_577).toString('base64'), key_version: 1 }),
      400,
      'ERR_INVALID_001',
      /plaintext exceeds the limit of 1048576 bytes/,
    ),
    post('missing key_version', '{"plaintext":"dGVzdA=="}', 400, 'ERR_INVALID_001', /key_version is required/),
    post('unpadded base64', '{"plaintext":"dGVzdA","key_version":1}', 400, 'ERR_INVALID_001', /plaintext must be valid base64/),
    {
      name: 'negative version in path',
      method: 'GET',
      path: '/api/v1/kms/keys/Kyber768/-1',
      status: 400,
      code: 'ERR_INVALID_001',
      message: /key_version/,
    },
    {
      name: 'huge version in path',
      method: 'GET',
      path: '/api/v1/kms/keys/Kyber768/99999999999999999999',
      status: 400,
      code: 'ERR_INVALID_001',
      message: /key_version/,
    },
    {
      name: 'encoded garbage algorithm in path',
      method: 'GET',
      path: '/api/v1/kms/keys/%00%ff%0d%0a/1',
      status: 400,
      code: 'ERR_INVALID_001',
      message: /algorithm/,
    },
    {
      name: 'algorithm given twice in query',
      method: 'GET',
      path: '/api/v1/kms/keys?algorithm=Kyber768&algorithm=Dilithium3',
      status: 400,
      code: 'ERR_INVALID_001',
      message: /more than once/,
    },
    {
      name: 'unknown query parameter',
      method: 'GET',
      path: '/api/v1/kms/keys/active?algorithm=Kyber768&debug=1',
      status: 400,
      code: 'ERR_INVALID_001',
      message: /unknown field "debug"/,
    },
    {
      name: 'wrong method',
      method: 'DELETE',
      path: '/api/v1/kms/keys/rotate',
      status: 404,
      code: 'ERR_NOT_FOUND_001',
      message: /Method DELETE is not allowed.*use POST/,
    },
    { name: 'unknown route', method: 'GET', path: '/api/v1/../../etc/passwd', status: 404, code: 'ERR_NOT_FOUND_001' },
    { name: 'trailing slash', method: 'POST', path: `${ENCRYPT}/`, headers: JSON_CT, body: '{}', status: 404, code: 'ERR_NOT_FOUND_001' },
  ];
}

/** A request id that must not be echoed: not a UUID, or an attempt to smuggle text into logs. */
/** Outside the request id rule (src/contract/request-id.ts): replaced by a UUID v4. */
export const BAD_REQUEST_IDS = [
  '<script>alert(1)</script>',
  "1' OR '1'='1",
  'x'.repeat(4000),
  'x'.repeat(129), // one character over the limit
  '550e8400-e29b-41d4-a716-446655440000 extra',
  'trace/id', // '/' is not in [A-Za-z0-9._:-]
];
