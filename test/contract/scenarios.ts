/**
 * The contract: scenarios written once and run against every backend (local in-process, remote
 * against a real server, local in a browser Worker). Each asserts outcomes itself and records
 * every envelope in a Transcript, so a runner can also prove that two backends answered
 * identically.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { expect } from 'vitest';
import { base64ToBytes, bytesToBase64 } from '../../src/encoding.js';
import { ALGORITHM_TABLE } from '../../src/contract/algorithms.js';
import { formatOverhead } from '../../src/crypto/format.js';
import { encapsulate, seal, verify, verifyHash, type Envelope, type Qpher } from '../../src/index.js';
import type { Transcript } from './transcript.js';

export type Scenario = (q: Qpher, t: Transcript) => Promise<void>;

const MiB = 1_048_576;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const text = (s: string) => bytesToBase64(new TextEncoder().encode(s));
const HELLO = text('sensitive data to protect');
/** Digests of HELLO's bytes would do as well; fixed patterns keep the transcript readable. */
const digest = (length: number, fill = 0xab) => bytesToBase64(new Uint8Array(length).fill(fill));
const SHA256 = digest(32);
const SHA384 = digest(48);
const SHA512 = digest(64);

export function ok<T>(envelope: Envelope<T>): T {
  if ('error' in envelope) throw new Error(`expected success, got ${JSON.stringify(envelope.error)}`);
  expect(envelope.request_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(envelope.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  return envelope.data;
}

export function fails(envelope: Envelope, code: string, message?: string | RegExp): void {
  if (!('error' in envelope)) throw new Error(`expected ${code}, got data ${JSON.stringify(envelope.data).slice(0, 200)}`);
  expect(envelope.error.code).toBe(code);
  // the published SDKs read error_code: always there, always equal to code
  expect(envelope.error.error_code).toBe(code);
  if (message !== undefined) expect(envelope.error.message).toMatch(message);
  expect(Object.keys(envelope).sort()).toEqual(['error', 'request_id', 'timestamp']);
  expect(Object.keys(envelope.error).sort()).toEqual(['code', 'error_code', 'message']);
  expect(envelope.error.message).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/); // no stack traces
}

function fromBase64(base64: string): Uint8Array {
  return base64ToBytes(base64)!;
}

function flipBit(base64: string, byteIndex: number): string {
  const bytes = fromBase64(base64);
  const index = byteIndex < 0 ? bytes.length + byteIndex : byteIndex;
  bytes[index]! ^= 0x01;
  return bytesToBase64(bytes);
}

type KemAlgorithm = 'Kyber768' | 'X-Wing';
type SignatureAlgorithm = 'Dilithium3' | 'Composite-ML-DSA';
const KEMS: readonly KemAlgorithm[] = ['Kyber768', 'X-Wing'];
const SIGNERS: readonly SignatureAlgorithm[] = ['Dilithium3', 'Composite-ML-DSA'];

/**
 * The `algorithm` field of a kem/signature request: absent for each route's default (so the
 * default stays tested), named for the others.
 */
function requestAlgorithm(algorithm: KemAlgorithm | SignatureAlgorithm): { algorithm?: KemAlgorithm | SignatureAlgorithm } {
  return algorithm === 'Kyber768' || algorithm === 'Dilithium3' ? {} : { algorithm };
}

/** One scenario per algorithm: the defaults keep their old names, the others say which they run. */
function perAlgorithm<A extends string>(
  name: string,
  algorithms: readonly A[],
  make: (algorithm: A) => Scenario,
): Record<string, Scenario> {
  return Object.fromEntries(algorithms.map((a, i) => [i === 0 ? name : `${name} [${a}]`, make(a)]));
}

/** encrypt and decrypt, standard mode, with and without aad */
function encryptDecrypt(algorithm: KemAlgorithm): Scenario {
  const A = requestAlgorithm(algorithm);
  const overhead = formatOverhead(ALGORITHM_TABLE[algorithm]);
  return async (q, t) => {
    const key = ok(t.record('generate', await q.kms.generate({ algorithm })));
    expect(key).toMatchObject({ key_version: 1, algorithm, status: 'active' });
    expect(Object.keys(key).sort()).toEqual(['algorithm', 'created_at', 'key_version', 'public_key', 'status']);

    const sealed = ok(t.record('encrypt', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1 })));
    expect(sealed.key_version).toBe(1);
    expect(atob(sealed.ciphertext).length).toBe(overhead + 25);
    const again = ok(t.record('encrypt again', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1 })));
    expect(again.ciphertext).not.toBe(sealed.ciphertext); // standard mode is randomised
    expect(ok(t.record('decrypt', await q.kem.decrypt({ ...A, ciphertext: sealed.ciphertext, key_version: 1 })))).toEqual({
      plaintext: HELLO,
      key_version: 1,
      algorithm,
    });

    const aad = text('invoice #1234');
    const bound = ok(t.record('encrypt aad', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, aad })));
    expect(ok(t.record('decrypt aad', await q.kem.decrypt({ ...A, ciphertext: bound.ciphertext, key_version: 1, aad })))).toEqual({
      plaintext: HELLO,
      key_version: 1,
      algorithm,
    });
    fails(
      t.record('decrypt without aad', await q.kem.decrypt({ ...A, ciphertext: bound.ciphertext, key_version: 1 })),
      'ERR_INVALID_001',
      /^Decryption failed$/,
    );
    fails(
      t.record('decrypt wrong aad', await q.kem.decrypt({ ...A, ciphertext: bound.ciphertext, key_version: 1, aad: text('x') })),
      'ERR_INVALID_001',
      /^Decryption failed$/,
    );
  };
}

/** deterministic mode: equal inputs give equal ciphertexts, any change gives another */
function deterministicMode(algorithm: KemAlgorithm): Scenario {
  const A = requestAlgorithm(algorithm);
  return async (q, t) => {
    ok(t.record('generate', await q.kms.generate({ algorithm })));
    const salt = text('per-tenant salt');
    const one = ok(t.record('det 1', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'deterministic', salt })));
    const two = ok(t.record('det 2', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'deterministic', salt })));
    expect(two.ciphertext).toBe(one.ciphertext);
    const otherSalt = ok(
      t.record('det salt', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'deterministic', salt: text('other') })),
    );
    expect(otherSalt.ciphertext).not.toBe(one.ciphertext);
    const otherText = ok(
      t.record('det text', await q.kem.encrypt({ ...A, plaintext: text('other'), key_version: 1, mode: 'deterministic', salt })),
    );
    expect(otherText.ciphertext).not.toBe(one.ciphertext);
    const withAad = ok(
      t.record('det aad', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'deterministic', salt, aad: text('a') })),
    );
    expect(withAad.ciphertext).not.toBe(one.ciphertext);
    expect(ok(t.record('decrypt det', await q.kem.decrypt({ ...A, ciphertext: one.ciphertext, key_version: 1 })))).toEqual({
      plaintext: HELLO,
      key_version: 1,
      algorithm,
    });
    const standard = ok(t.record('standard', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'standard' })));
    expect(standard.ciphertext).not.toBe(one.ciphertext);
    fails(
      t.record('det without salt', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'deterministic' })),
      'ERR_INVALID_001',
      /salt is required/,
    );
    fails(t.record('salt without det', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, salt })), 'ERR_INVALID_001', /salt/);
    fails(
      t.record('empty salt', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'deterministic', salt: '' })),
      'ERR_INVALID_001',
      /salt must be at least 1 byte/,
    );
    fails(
      t.record('bad mode', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1, mode: 'fast' } as never)),
      'ERR_INVALID_001',
      /mode must be one of/,
    );
  };
}

/** key lifecycle: generate, rotate, retire, archive and what each state allows */
function kemLifecycle(algorithm: KemAlgorithm): Scenario {
  const A = requestAlgorithm(algorithm);
  return async (q, t) => {
    fails(t.record('active none', await q.kms.active({ algorithm })), 'ERR_NOT_FOUND_001');
    expect(ok(t.record('list empty', await q.kms.list({ algorithm })))).toEqual({ keys: [], total: 0 });
    ok(t.record('generate', await q.kms.generate({ algorithm })));
    fails(t.record('generate again', await q.kms.generate({ algorithm })), 'ERR_FORBIDDEN_001', /rotate/);
    const v1 = ok(t.record('encrypt v1', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1 })));

    const rotated = ok(t.record('rotate', await q.kms.rotate({ algorithm })));
    expect(rotated).toMatchObject({ key_version: 2, status: 'active', algorithm, old_key_version: 1 });
    const listed = ok(t.record('list', await q.kms.list({ algorithm })));
    expect(listed.keys.map((k) => [k.key_version, k.status])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect(ok(t.record('active', await q.kms.active({ algorithm }))).key_version).toBe(2);
    expect(ok(t.record('get v1', await q.kms.get({ algorithm, key_version: 1 }))).status).toBe('retired');

    fails(
      t.record('encrypt retired', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /retired.*can still decrypt/,
    );
    expect(ok(t.record('decrypt retired', await q.kem.decrypt({ ...A, ciphertext: v1.ciphertext, key_version: 1 })))).toEqual({
      plaintext: HELLO,
      key_version: 1,
      algorithm,
    });

    // retire and archive answer the key's whole record after the change (the SDKs read it all).
    const { old_key_version: _, ...v2 } = rotated;
    expect(ok(t.record('retire v2', await q.kms.retire({ algorithm, key_version: 2 })))).toEqual({ ...v2, status: 'retired' });
    expect(ok(t.record('retire v2 again', await q.kms.retire({ algorithm, key_version: 2 })))).toEqual({
      ...v2,
      status: 'retired',
    });
    fails(t.record('active after retire', await q.kms.active({ algorithm })), 'ERR_NOT_FOUND_001');

    const v1Info = listed.keys[0]!;
    expect(ok(t.record('archive v1', await q.kms.archive({ algorithm, key_version: 1 })))).toEqual({
      ...v1Info,
      status: 'archived',
    });
    expect(ok(t.record('archive v1 again', await q.kms.archive({ algorithm, key_version: 1 }))).status).toBe('archived');
    fails(
      t.record('decrypt archived', await q.kem.decrypt({ ...A, ciphertext: v1.ciphertext, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /archived/,
    );
    fails(t.record('encrypt archived', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1 })), 'ERR_FORBIDDEN_001', /archived/);
    fails(t.record('retire archived', await q.kms.retire({ algorithm, key_version: 1 })), 'ERR_FORBIDDEN_001', /archived/);

    // rotate with no active key generates (old_key_version null); versions are never reused (archived v1 still counts)
    const fromNone = ok(t.record('rotate from none', await q.kms.rotate({ algorithm })));
    expect(fromNone).toMatchObject({ key_version: 3, status: 'active', old_key_version: null });
    ok(t.record('archive active', await q.kms.archive({ algorithm, key_version: 3 })));
    expect(ok(t.record('generate after archive', await q.kms.generate({ algorithm }))).key_version).toBe(4);

    for (const [label, envelope] of [
      ['get missing', await q.kms.get({ algorithm, key_version: 99 })],
      ['retire missing', await q.kms.retire({ algorithm, key_version: 99 })],
      ['archive missing', await q.kms.archive({ algorithm, key_version: 99 })],
      ['encrypt missing', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 99 })],
    ] as const) {
      fails(t.record(label, envelope), 'ERR_KEM_005', /^Key version not found$/);
    }
    // keyrings are per algorithm: this KEM's versions do not exist for any other algorithm
    fails(t.record('sign with kem version', await q.signature.sign({ message: HELLO, key_version: 1 })), 'ERR_KEM_005');
    const other = algorithm === 'Kyber768' ? 'X-Wing' : 'Kyber768';
    fails(t.record('other kem, same version', await q.kem.encrypt({ plaintext: HELLO, key_version: 4, algorithm: other })), 'ERR_KEM_005');
    fails(t.record('other kem, active', await q.kms.active({ algorithm: other })), 'ERR_NOT_FOUND_001');
  };
}

/** tampered, truncated, extended and foreign ciphertexts fail one way */
function tamperedCiphertexts(algorithm: KemAlgorithm): Scenario {
  const A = requestAlgorithm(algorithm);
  return async (q, t) => {
    const facts = ALGORITHM_TABLE[algorithm];
    const header = facts.formatVersion === 1 ? 6 : 8;
    const enc = facts.sizes.ciphertext;
    ok(t.record('generate', await q.kms.generate({ algorithm })));
    const { ciphertext } = ok(t.record('encrypt', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 1 })));
    const raw = fromBase64(ciphertext);
    const tampered: Array<[string, string]> = [
      ['flip format version', flipBit(ciphertext, 0)],
      ['flip mode', flipBit(ciphertext, header - 5)],
      ...(header === 8 ? ([['flip kem_id', flipBit(ciphertext, 2)]] as Array<[string, string]>) : []),
      ['flip enc', flipBit(ciphertext, header + 500)],
      ['flip body', flipBit(ciphertext, header + enc + 3)],
      ['flip tag', flipBit(ciphertext, -1)],
      ['truncated', bytesToBase64(raw.subarray(0, raw.length - 1))],
      ['header only', bytesToBase64(raw.subarray(0, header))],
      ['extended', bytesToBase64(new Uint8Array([...raw, 0]))],
      ['empty', ''],
      ['garbage', text('not a qpher ciphertext at all')],
    ];
    for (const [label, bad] of tampered) {
      fails(t.record(label, await q.kem.decrypt({ ...A, ciphertext: bad, key_version: 1 })), 'ERR_INVALID_001', /^Decryption failed$/);
    }
    // a header naming another version is refused before any key is touched, naming both versions
    const relabelled7 = fromBase64(ciphertext);
    relabelled7[header - 1] = 7;
    fails(
      t.record('header version mismatch', await q.kem.decrypt({ ...A, ciphertext: bytesToBase64(relabelled7), key_version: 1 })),
      'ERR_INVALID_001',
      /key_version 7.*key_version 1/,
    );
    // a ciphertext for another key (rotated) fails like tampering
    ok(t.record('rotate', await q.kms.rotate({ algorithm })));
    const forV2 = ok(t.record('encrypt v2', await q.kem.encrypt({ ...A, plaintext: HELLO, key_version: 2 })));
    const relabelled = fromBase64(forV2.ciphertext);
    relabelled[header - 1] = 1;
    fails(
      t.record('foreign key', await q.kem.decrypt({ ...A, ciphertext: bytesToBase64(relabelled), key_version: 1 })),
      'ERR_INVALID_001',
      /^Decryption failed$/,
    );
    // a ciphertext of one KEM given to the other's key of the same version fails like tampering
    const other = algorithm === 'Kyber768' ? 'X-Wing' : 'Kyber768';
    ok(t.record('generate other kem', await q.kms.generate({ algorithm: other })));
    fails(
      t.record('other kem', await q.kem.decrypt({ ciphertext, key_version: 1, algorithm: other })),
      'ERR_INVALID_001',
      /^Decryption failed$/,
    );
  };
}

/** sign and verify, with context, across states */
function signAndVerify(algorithm: SignatureAlgorithm): Scenario {
  const A = requestAlgorithm(algorithm);
  return async (q, t) => {
    ok(t.record('generate', await q.kms.generate({ algorithm })));
    const signed = ok(t.record('sign', await q.signature.sign({ ...A, message: HELLO, key_version: 1 })));
    const { sizes } = ALGORITHM_TABLE[algorithm];
    expect(atob(signed.signature).length).toBeGreaterThanOrEqual(sizes.minSignature);
    expect(atob(signed.signature).length).toBeLessThanOrEqual(sizes.signature);
    expect(ok(t.record('verify', await q.signature.verify({ ...A, message: HELLO, signature: signed.signature, key_version: 1 })))).toEqual(
      {
        valid: true,
        key_version: 1,
        algorithm,
      },
    );
    expect(
      ok(
        t.record(
          'verify other message',
          await q.signature.verify({ ...A, message: text('x'), signature: signed.signature, key_version: 1 }),
        ),
      ),
    ).toEqual({ valid: false, key_version: 1, algorithm });
    expect(
      ok(
        t.record(
          'verify flipped',
          await q.signature.verify({ ...A, message: HELLO, signature: flipBit(signed.signature, 100), key_version: 1 }),
        ),
      ),
    ).toEqual({ valid: false, key_version: 1, algorithm });
    expect(ok(t.record('verify short', await q.signature.verify({ ...A, message: HELLO, signature: 'AAAA', key_version: 1 })))).toEqual({
      valid: false,
      key_version: 1,
      algorithm,
    });
    expect(ok(t.record('verify empty', await q.signature.verify({ ...A, message: HELLO, signature: '', key_version: 1 })))).toEqual({
      valid: false,
      key_version: 1,
      algorithm,
    });

    if (algorithm === 'Composite-ML-DSA') {
      // A composite verifies only as a whole: break either half, or send one half alone.
      const bytes = fromBase64(signed.signature);
      for (const [label, broken] of [
        ['verify broken ECDSA half', flipBit(signed.signature, -3)],
        ['verify ML-DSA half alone', bytesToBase64(bytes.subarray(0, 3309))],
        ['verify ECDSA half alone', bytesToBase64(bytes.subarray(3309))],
      ] as const) {
        expect(ok(t.record(label, await q.signature.verify({ ...A, message: HELLO, signature: broken, key_version: 1 })))).toEqual({
          valid: false,
          key_version: 1,
          algorithm,
        });
      }
    }

    const context = text('qpher-demo/v1');
    const withContext = ok(t.record('sign ctx', await q.signature.sign({ ...A, message: HELLO, key_version: 1, context })));
    expect(
      ok(
        t.record(
          'verify ctx',
          await q.signature.verify({ ...A, message: HELLO, signature: withContext.signature, key_version: 1, context }),
        ),
      ),
    ).toEqual({ valid: true, key_version: 1, algorithm });
    expect(
      ok(t.record('verify no ctx', await q.signature.verify({ ...A, message: HELLO, signature: withContext.signature, key_version: 1 }))),
    ).toEqual({ valid: false, key_version: 1, algorithm });
    const ctx255 = bytesToBase64(new Uint8Array(255).fill(7));
    ok(t.record('sign ctx 255', await q.signature.sign({ ...A, message: HELLO, key_version: 1, context: ctx255 })));
    fails(
      t.record(
        'sign ctx 256',
        await q.signature.sign({ ...A, message: HELLO, key_version: 1, context: bytesToBase64(new Uint8Array(256)) }),
      ),
      'ERR_INVALID_001',
      /context exceeds the limit of 255 bytes/,
    );

    ok(t.record('rotate', await q.kms.rotate({ algorithm })));
    fails(
      t.record('sign retired', await q.signature.sign({ ...A, message: HELLO, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /retired.*can still verify/,
    );
    expect(
      ok(t.record('verify retired', await q.signature.verify({ ...A, message: HELLO, signature: signed.signature, key_version: 1 }))),
    ).toEqual({ valid: true, key_version: 1, algorithm });
    expect(
      ok(t.record('verify with v2', await q.signature.verify({ ...A, message: HELLO, signature: signed.signature, key_version: 2 }))),
    ).toEqual({ valid: false, key_version: 2, algorithm });
    ok(t.record('archive', await q.kms.archive({ algorithm, key_version: 1 })));
    fails(
      t.record('verify archived', await q.signature.verify({ ...A, message: HELLO, signature: signed.signature, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /archived/,
    );
  };
}

export const scenarios: Record<string, Scenario> = {
  ...perAlgorithm('encrypt and decrypt, standard mode, with and without aad', KEMS, encryptDecrypt),

  ...perAlgorithm('deterministic mode: equal inputs give equal ciphertexts, any change gives another', KEMS, deterministicMode),

  ...perAlgorithm('key lifecycle: generate, rotate, retire, archive and what each state allows', KEMS, kemLifecycle),

  ...perAlgorithm('sign and verify, with context, across states', SIGNERS, signAndVerify),

  ...perAlgorithm('tampered, truncated, extended and foreign ciphertexts fail one way', KEMS, tamperedCiphertexts),

  async 'request validation: every malformed field is a 400 naming it'(q, t) {
    ok(t.record('generate', await q.kms.generate({ algorithm: 'Kyber768' })));
    const cases: Array<[string, unknown, RegExp]> = [
      ['missing key_version', { plaintext: HELLO }, /^Validation failed: key_version is required$/],
      ['missing plaintext', { key_version: 1 }, /^Validation failed: plaintext is required$/],
      ['key_version 0', { plaintext: HELLO, key_version: 0 }, /key_version must be an integer from 1 to 4294967295/],
      ['key_version -1', { plaintext: HELLO, key_version: -1 }, /key_version must be an integer from 1 to 4294967295/],
      ['key_version 2^32', { plaintext: HELLO, key_version: 4294967296 }, /key_version must be an integer from 1 to 4294967295/],
      [
        'key_version 1.5',
        { plaintext: HELLO, key_version: 1.5 },
        /^Validation failed: key_version must be an integer from 1 to 4294967295$/,
      ],
      [
        'key_version string',
        { plaintext: HELLO, key_version: '1' },
        /^Validation failed: key_version must be an integer from 1 to 4294967295$/,
      ],
      [
        'key_version 1e308',
        { plaintext: HELLO, key_version: 1e308 },
        /^Validation failed: key_version must be an integer from 1 to 4294967295$/,
      ],
      [
        'key_version null',
        { plaintext: HELLO, key_version: null },
        /^Validation failed: key_version must be an integer from 1 to 4294967295$/,
      ],
      ['plaintext number', { plaintext: 42, key_version: 1 }, /plaintext must be a string/],
      ['plaintext no padding', { plaintext: 'aGVsbG8', key_version: 1 }, /plaintext must be valid base64/],
      ['plaintext url-safe', { plaintext: 'a-_b', key_version: 1 }, /plaintext must be valid base64/],
      ['plaintext whitespace', { plaintext: 'aGVs bG8=', key_version: 1 }, /plaintext must be valid base64/],
      ['plaintext non-canonical', { plaintext: 'aGVsbG9=', key_version: 1 }, /plaintext must be valid base64/],
      ['plaintext unicode', { plaintext: 'héllo==', key_version: 1 }, /plaintext must be valid base64/],
      ['unknown field', { plaintext: HELLO, key_version: 1, cipher: 'Kyber768' }, /unknown field "cipher"/],
      [
        'algorithm of another kind',
        { plaintext: HELLO, key_version: 1, algorithm: 'Dilithium3' },
        /^Validation failed: algorithm must be one of "Kyber768", "X-Wing"$/,
      ],
      [
        'composite on kem/encrypt',
        { plaintext: HELLO, key_version: 1, algorithm: 'Composite-ML-DSA' },
        /^Validation failed: algorithm must be one of "Kyber768", "X-Wing"$/,
      ],
      ['proto field', JSON.parse('{"plaintext":"aGk=","key_version":1,"__proto__":{"x":1}}'), /unknown field "__proto__"/],
      ['null body', null, /request body must be a JSON object/],
      ['array body', [HELLO, 1], /request body must be a JSON object/],
      ['string body', 'hello', /request body must be a JSON object/],
      ['aad bad', { plaintext: HELLO, key_version: 1, aad: '%%%%' }, /aad must be valid base64/],
    ];
    for (const [label, body, message] of cases) {
      fails(t.record(label, await q.kem.encrypt(body as never)), 'ERR_INVALID_001', message);
    }
    fails(
      t.record('bad algorithm', await q.kms.generate({ algorithm: 'RSA2048' } as never)),
      'ERR_INVALID_001',
      /^Validation failed: algorithm must be one of "Kyber768", "Dilithium3", "X-Wing", "Composite-ML-DSA"$/,
    );
    for (const [label, envelope] of [
      ['X-Wing on signature/sign', await q.signature.sign({ message: HELLO, key_version: 1, algorithm: 'X-Wing' } as never)],
      [
        'Kyber768 on signature/verify',
        await q.signature.verify({ message: HELLO, signature: '', key_version: 1, algorithm: 'Kyber768' } as never),
      ],
    ] as const) {
      fails(t.record(label, envelope), 'ERR_INVALID_001', /^Validation failed: algorithm must be one of "Dilithium3", "Composite-ML-DSA"$/);
    }
    fails(
      t.record(
        'composite on kem/decrypt',
        await q.kem.decrypt({ ciphertext: HELLO, key_version: 1, algorithm: 'Composite-ML-DSA' } as never),
      ),
      'ERR_INVALID_001',
      /^Validation failed: algorithm must be one of "Kyber768", "X-Wing"$/,
    );
    fails(
      t.record('lowercase algorithm', await q.kms.list({ algorithm: 'kyber768' } as never)),
      'ERR_INVALID_001',
      /algorithm must be one of/,
    );
    fails(
      t.record('get without version', await q.kms.retire({ algorithm: 'Kyber768' } as never)),
      'ERR_INVALID_001',
      /key_version is required/,
    );
    fails(
      t.record('signature bad base64', await q.signature.verify({ message: HELLO, signature: 'abc', key_version: 1 })),
      'ERR_INVALID_001',
      /signature must be valid base64/,
    );
  },

  async 'size limits: 1 MiB is accepted, one byte more is refused with the limit in the message'(q, t) {
    ok(t.record('generate', await q.kms.generate({ algorithm: 'Kyber768' })));
    ok(t.record('generate sig', await q.kms.generate({ algorithm: 'Dilithium3' })));
    const empty = ok(t.record('encrypt empty', await q.kem.encrypt({ plaintext: '', key_version: 1 })));
    expect(ok(t.record('decrypt empty', await q.kem.decrypt({ ciphertext: empty.ciphertext, key_version: 1 })))).toEqual({
      plaintext: '',
      key_version: 1,
      algorithm: 'Kyber768',
    });

    const max = new Uint8Array(MiB).map((_, i) => i & 0xff);
    const big = ok(t.record('encrypt 1 MiB', await q.kem.encrypt({ plaintext: max, key_version: 1 })));
    expect(atob(big.ciphertext).length).toBe(MiB + 1110);
    const opened = ok(t.record('decrypt 1 MiB', await q.kem.decrypt({ ciphertext: big.ciphertext, key_version: 1 })));
    expect(opened.plaintext).toBe(bytesToBase64(max));
    fails(
      t.record('encrypt 1 MiB + 1', await q.kem.encrypt({ plaintext: new Uint8Array(MiB + 1), key_version: 1 })),
      'ERR_INVALID_001',
      /plaintext exceeds the limit of 1048576 bytes/,
    );
    fails(
      t.record('sign 1 MiB + 1', await q.signature.sign({ message: new Uint8Array(MiB + 1), key_version: 1 })),
      'ERR_INVALID_001',
      /message exceeds the limit of 1048576 bytes/,
    );
    ok(t.record('sign 1 MiB', await q.signature.sign({ message: max, key_version: 1 })));
  },

  async 'outputs interoperate with the offline seal and verify'(q, t) {
    const kem = ok(t.record('generate kem', await q.kms.generate({ algorithm: 'Kyber768' })));
    const sealed = await seal({ public_key: kem.public_key, key_version: kem.key_version, plaintext: HELLO, aad: text('ctx') });
    expect(ok(t.record('decrypt sealed', await q.kem.decrypt({ ciphertext: sealed, key_version: 1, aad: text('ctx') })))).toEqual({
      plaintext: HELLO,
      key_version: 1,
      algorithm: 'Kyber768',
    });
    const dsa = ok(t.record('generate dsa', await q.kms.generate({ algorithm: 'Dilithium3' })));
    const signed = ok(t.record('sign', await q.signature.sign({ message: HELLO, key_version: 1, context: text('c') })));
    expect(await verify({ public_key: dsa.public_key, message: HELLO, signature: signed.signature, context: text('c') })).toBe(true);
    expect(await verify({ public_key: dsa.public_key, message: HELLO, signature: signed.signature })).toBe(false);
    // public keys are DER SPKI with the standard OIDs (RFC 9881 / FIPS 203 / FIPS 204)
    expect(atob(kem.public_key).length).toBe(1206);
    expect(atob(dsa.public_key).length).toBe(1974);
  },

  async 'hybrid outputs interoperate with the offline seal and verify: the SPKI names the algorithm'(q, t) {
    const xwing = ok(t.record('generate X-Wing', await q.kms.generate({ algorithm: 'X-Wing' })));
    // X-Wing SPKI: 24-byte prefix (id-XWing) + 1216-byte key; composite: 21 + 2017
    expect(atob(xwing.public_key).length).toBe(1240);
    const sealed = await seal({ public_key: xwing.public_key, key_version: 1, plaintext: HELLO, aad: text('ctx') });
    expect(fromBase64(sealed)[0]).toBe(2); // format v2
    expect(
      ok(t.record('decrypt sealed', await q.kem.decrypt({ ciphertext: sealed, key_version: 1, aad: text('ctx'), algorithm: 'X-Wing' }))),
    ).toEqual({ plaintext: HELLO, key_version: 1, algorithm: 'X-Wing' });
    // the same v2 bytes are no Kyber768 ciphertext
    ok(t.record('generate Kyber768', await q.kms.generate({ algorithm: 'Kyber768' })));
    fails(
      t.record('decrypt sealed as Kyber768', await q.kem.decrypt({ ciphertext: sealed, key_version: 1, aad: text('ctx') })),
      'ERR_INVALID_001',
      /^Decryption failed$/,
    );

    const composite = ok(t.record('generate composite', await q.kms.generate({ algorithm: 'Composite-ML-DSA' })));
    expect(atob(composite.public_key).length).toBe(2038);
    const signed = ok(
      t.record('sign', await q.signature.sign({ message: HELLO, key_version: 1, context: text('c'), algorithm: 'Composite-ML-DSA' })),
    );
    const input = { public_key: composite.public_key, message: HELLO, signature: signed.signature };
    expect(await verify({ ...input, context: text('c') })).toBe(true);
    expect(await verify(input)).toBe(false);
    expect(await verify({ ...input, context: text('c'), signature: flipBit(signed.signature, -2) })).toBe(false);
    // X-Wing is no signature key, the composite no KEM key
    await expect(verify({ ...input, public_key: xwing.public_key })).rejects.toThrow(TypeError);
    await expect(seal({ public_key: composite.public_key, key_version: 1, plaintext: HELLO })).rejects.toThrow(TypeError);
  },

  async 'list: the hybrids have their own keyrings, listed in the table order'(q, t) {
    ok(t.record('composite 1', await q.kms.generate({ algorithm: 'Composite-ML-DSA' })));
    ok(t.record('xwing 1', await q.kms.generate({ algorithm: 'X-Wing' })));
    ok(t.record('xwing 2', await q.kms.rotate({ algorithm: 'X-Wing' })));
    ok(t.record('kyber 1', await q.kms.generate({ algorithm: 'Kyber768' })));
    ok(t.record('dilithium 1', await q.kms.generate({ algorithm: 'Dilithium3' })));
    const all = ok(t.record('list all', await q.kms.list()));
    expect(all.keys.map((k) => `${k.algorithm}/${k.key_version}/${k.status}`)).toEqual([
      'Kyber768/1/active',
      'Dilithium3/1/active',
      'X-Wing/1/retired',
      'X-Wing/2/active',
      'Composite-ML-DSA/1/active',
    ]);
    const page = ok(t.record('page', await q.kms.list({ limit: 3 })));
    const rest = ok(t.record('rest', await q.kms.list({ limit: 3, cursor: page.next_cursor! })));
    expect(rest.keys.map((k) => `${k.algorithm}/${k.key_version}`)).toEqual(['X-Wing/2', 'Composite-ML-DSA/1']);
    expect(ok(t.record('active composite', await q.kms.active({ algorithm: 'Composite-ML-DSA' }))).key_version).toBe(1);
    expect(ok(t.record('get xwing 1', await q.kms.get({ algorithm: 'X-Wing', key_version: 1 }))).status).toBe('retired');
    fails(t.record('generate xwing again', await q.kms.generate({ algorithm: 'X-Wing' })), 'ERR_FORBIDDEN_001', /rotate/);
  },

  async 'rotate answers with the new key record and the version it retired'(q, t) {
    const first = ok(t.record('rotate from nothing', await q.kms.rotate({ algorithm: 'Dilithium3' })));
    expect(Object.keys(first).sort()).toEqual(['algorithm', 'created_at', 'key_version', 'old_key_version', 'public_key', 'status']);
    expect(first).toMatchObject({ key_version: 1, algorithm: 'Dilithium3', status: 'active', old_key_version: null });
    const second = ok(t.record('rotate again', await q.kms.rotate({ algorithm: 'Dilithium3' })));
    expect(second).toMatchObject({ key_version: 2, status: 'active', old_key_version: 1 });
    expect(second.public_key).not.toBe(first.public_key);
    // the record is the one get returns, plus old_key_version
    const { old_key_version: _, ...record } = second;
    expect(ok(t.record('get new', await q.kms.get({ algorithm: 'Dilithium3', key_version: 2 })))).toEqual(record);
    ok(t.record('retire active', await q.kms.retire({ algorithm: 'Dilithium3', key_version: 2 })));
    expect(ok(t.record('rotate with none active', await q.kms.rotate({ algorithm: 'Dilithium3' })))).toMatchObject({
      key_version: 3,
      old_key_version: null,
    });
  },

  async 'list: every algorithm or one, status filter, total, order and cursor paging'(q, t) {
    expect(ok(t.record('list nothing', await q.kms.list()))).toEqual({ keys: [], total: 0 });
    ok(t.record('dsa 1', await q.kms.generate({ algorithm: 'Dilithium3' })));
    ok(t.record('kem 1', await q.kms.generate({ algorithm: 'Kyber768' })));
    ok(t.record('kem 2', await q.kms.rotate({ algorithm: 'Kyber768' })));
    ok(t.record('kem 3', await q.kms.rotate({ algorithm: 'Kyber768' })));
    ok(t.record('archive kem 1', await q.kms.archive({ algorithm: 'Kyber768', key_version: 1 })));
    const pairs = (data: { keys: { algorithm: string; key_version: number; status: string }[] }) =>
      data.keys.map((k) => `${k.algorithm}/${k.key_version}/${k.status}`);

    const all = ok(t.record('list all', await q.kms.list({})));
    expect(pairs(all)).toEqual(['Kyber768/1/archived', 'Kyber768/2/retired', 'Kyber768/3/active', 'Dilithium3/1/active']);
    expect(all.total).toBe(4);
    expect(all.next_cursor).toBeUndefined();
    const active = ok(t.record('list active', await q.kms.list({ status: 'active' })));
    expect(pairs(active)).toEqual(['Kyber768/3/active', 'Dilithium3/1/active']);
    expect(active.total).toBe(2);
    const kemRetired = ok(t.record('list kem retired', await q.kms.list({ algorithm: 'Kyber768', status: 'retired' })));
    expect(pairs(kemRetired)).toEqual(['Kyber768/2/retired']);
    expect(kemRetired.total).toBe(1);

    // pages of 3 then 1; total is the whole count on every page; the last page has no cursor
    const page1 = ok(t.record('page 1', await q.kms.list({ limit: 3 })));
    expect(pairs(page1)).toEqual(['Kyber768/1/archived', 'Kyber768/2/retired', 'Kyber768/3/active']);
    expect(page1.total).toBe(4);
    expect(typeof page1.next_cursor).toBe('string');
    const page2 = ok(t.record('page 2', await q.kms.list({ limit: 3, cursor: page1.next_cursor! })));
    expect(pairs(page2)).toEqual(['Dilithium3/1/active']);
    expect(page2.total).toBe(4);
    expect(page2.next_cursor).toBeUndefined();
    // a cursor keeps working with the same filters; exactly-full last page has no cursor
    const single = ok(t.record('page of 1', await q.kms.list({ algorithm: 'Kyber768', limit: 1 })));
    expect(pairs(single)).toEqual(['Kyber768/1/archived']);
    const next = ok(t.record('page of 1, next', await q.kms.list({ algorithm: 'Kyber768', limit: 2, cursor: single.next_cursor! })));
    expect(pairs(next)).toEqual(['Kyber768/2/retired', 'Kyber768/3/active']);
    expect(next.next_cursor).toBeUndefined();

    fails(t.record('limit 0', await q.kms.list({ limit: 0 })), 'ERR_INVALID_001', /limit must be an integer from 1 to 1000/);
    fails(t.record('limit 1001', await q.kms.list({ limit: 1001 })), 'ERR_INVALID_001', /limit must be an integer from 1 to 1000/);
    fails(t.record('limit fraction', await q.kms.list({ limit: 1.5 })), 'ERR_INVALID_001', /limit must be an integer/);
    fails(t.record('bad cursor', await q.kms.list({ cursor: 'not-a-cursor' })), 'ERR_INVALID_001', /cursor is not a cursor/);
    fails(t.record('bad status', await q.kms.list({ status: 'deleted' } as never)), 'ERR_INVALID_001', /status must be one of/);
  },

  async 'a missing key_version is 404 ERR_KEM_005 before any header or ciphertext check'(q, t) {
    ok(t.record('generate kem', await q.kms.generate({ algorithm: 'Kyber768' })));
    const sealed = ok(t.record('encrypt v1', await q.kem.encrypt({ plaintext: HELLO, key_version: 1 })));
    // the header names version 1, which exists; version 7 does not: not found wins over the mismatch
    fails(
      t.record('decrypt missing, header names v1', await q.kem.decrypt({ ciphertext: sealed.ciphertext, key_version: 7 })),
      'ERR_KEM_005',
      /^Key version not found$/,
    );
    fails(
      t.record('decrypt missing, garbage ciphertext', await q.kem.decrypt({ ciphertext: text('garbage'), key_version: 7 })),
      'ERR_KEM_005',
    );
    fails(
      t.record('verify missing, short signature', await q.signature.verify({ message: HELLO, signature: text('x'), key_version: 7 })),
      'ERR_KEM_005',
    );
    // an existing version still gets the header check
    ok(t.record('rotate', await q.kms.rotate({ algorithm: 'Kyber768' })));
    fails(
      t.record('decrypt v2 with v1 ciphertext', await q.kem.decrypt({ ciphertext: sealed.ciphertext, key_version: 2 })),
      'ERR_INVALID_001',
      /encrypted with key_version 1, but key_version 2 was given/,
    );
  },

  async 'request ids: the caller’s is echoed, otherwise a UUID v4 is made'(q, t) {
    const requestId = '550e8400-e29b-41d4-a716-446655440000';
    const mine = t.record('with id', await q.kms.list({ algorithm: 'Kyber768' }, { requestId }));
    expect(mine.request_id).toBe(requestId);
    const failed = t.record('error with id', await q.kms.active({ algorithm: 'Kyber768' }, { requestId }));
    expect(failed.request_id).toBe(requestId);
    const made = t.record('without id', await q.kms.list({ algorithm: 'Kyber768' }));
    expect(made.request_id).toMatch(UUID_V4);
    // not a UUID but within the rule (1-128 of [A-Za-z0-9._:-]): echoed, on success and on error
    const traceId = 'trace:web-01.checkout_42';
    expect(t.record('trace id', await q.kms.list({}, { requestId: traceId })).request_id).toBe(traceId);
    expect(t.record('trace id error', await q.kms.active({ algorithm: 'Kyber768' }, { requestId: traceId })).request_id).toBe(traceId);
    const longest = 'a'.repeat(128);
    expect(t.record('128 characters', await q.kms.list({}, { requestId: longest })).request_id).toBe(longest);
    // outside the rule: replaced by a fresh UUID v4
    for (const bad of ['a'.repeat(129), 'has space', 'semi;colon', 'ünï', '']) {
      const replaced = t.record(`replaced ${bad.length}`, await q.kms.list({}, { requestId: bad }));
      expect(replaced.request_id, JSON.stringify(bad)).toMatch(UUID_V4);
    }
  },
  async 'raw KEM: encapsulate and decapsulate, implicit rejection, lifecycle and sizes'(q, t) {
    const kem = ok(t.record('generate', await q.kms.generate({ algorithm: 'Kyber768' })));
    const sent = ok(t.record('encapsulate', await q.kem.encapsulate({ key_version: 1 })));
    expect(Object.keys(sent).sort()).toEqual(['algorithm', 'kem_ciphertext', 'key_version', 'shared_secret']);
    expect(sent).toMatchObject({ key_version: 1, algorithm: 'Kyber768' });
    expect(fromBase64(sent.kem_ciphertext).length).toBe(1088);
    expect(fromBase64(sent.shared_secret).length).toBe(32);
    const again = ok(t.record('encapsulate again', await q.kem.encapsulate({ key_version: 1, algorithm: 'Kyber768' })));
    expect(again.shared_secret).not.toBe(sent.shared_secret);
    const got = ok(t.record('decapsulate', await q.kem.decapsulate({ kem_ciphertext: sent.kem_ciphertext, key_version: 1 })));
    expect(Object.keys(got).sort()).toEqual(['algorithm', 'key_version', 'shared_secret']);
    expect(got.shared_secret).toBe(sent.shared_secret);

    // FIPS 203 implicit rejection: a changed ciphertext of the right length is a pseudorandom
    // secret, deterministic for that ciphertext, never an error
    const wrong = flipBit(sent.kem_ciphertext, 17);
    const rejected = ok(t.record('decapsulate tampered', await q.kem.decapsulate({ kem_ciphertext: wrong, key_version: 1 })));
    expect(rejected.shared_secret).not.toBe(sent.shared_secret);
    expect(fromBase64(rejected.shared_secret).length).toBe(32);
    const rejectedAgain = ok(t.record('decapsulate tampered again', await q.kem.decapsulate({ kem_ciphertext: wrong, key_version: 1 })));
    expect(rejectedAgain.shared_secret).toBe(rejected.shared_secret);

    for (const [label, bad, got] of [
      ['short', fromBase64(sent.kem_ciphertext).subarray(0, 1087), 1087],
      ['long', new Uint8Array(1089), 1089],
      ['empty', new Uint8Array(0), 0],
      ['a whole ciphertext', new Uint8Array(1088 + 1110), 2198],
    ] as const) {
      fails(
        t.record(`decapsulate ${label}`, await q.kem.decapsulate({ kem_ciphertext: bad, key_version: 1 })),
        'ERR_INVALID_001',
        new RegExp(`^Validation failed: kem_ciphertext must be 1088 bytes for Kyber768, got ${got}$`),
      );
    }
    fails(
      t.record('decapsulate bad base64', await q.kem.decapsulate({ kem_ciphertext: 'abc', key_version: 1 })),
      'ERR_INVALID_001',
      /kem_ciphertext must be valid base64/,
    );
    fails(
      t.record('encapsulate with a signature algorithm', await q.kem.encapsulate({ key_version: 1, algorithm: 'Dilithium3' } as never)),
      'ERR_INVALID_001',
      /algorithm must be one of "Kyber768", "X-Wing"$/,
    );
    fails(
      t.record('encapsulate unknown field', await q.kem.encapsulate({ key_version: 1, plaintext: HELLO } as never)),
      'ERR_INVALID_001',
      /unknown field "plaintext"/,
    );

    // offline encapsulation to the published key decapsulates through the backend
    const offline = encapsulate({ public_key: kem.public_key });
    expect(fromBase64(offline.kem_ciphertext).length).toBe(1088);
    const offlineGot = ok(
      t.record('decapsulate offline', await q.kem.decapsulate({ kem_ciphertext: offline.kem_ciphertext, key_version: 1 })),
    );
    expect(offlineGot.shared_secret).toBe(offline.shared_secret);

    // missing version: 404 before any look at the ciphertext
    fails(t.record('encapsulate missing', await q.kem.encapsulate({ key_version: 9 })), 'ERR_KEM_005', /^Key version not found$/);
    fails(
      t.record('decapsulate missing, short ciphertext', await q.kem.decapsulate({ kem_ciphertext: text('x'), key_version: 9 })),
      'ERR_KEM_005',
      /^Key version not found$/,
    );

    // lifecycle: retired decapsulates but no longer encapsulates; archived does nothing
    ok(t.record('rotate', await q.kms.rotate({ algorithm: 'Kyber768' })));
    fails(t.record('encapsulate retired', await q.kem.encapsulate({ key_version: 1 })), 'ERR_FORBIDDEN_001', /retired.*can still decrypt/);
    const retired = ok(t.record('decapsulate retired', await q.kem.decapsulate({ kem_ciphertext: sent.kem_ciphertext, key_version: 1 })));
    expect(retired.shared_secret).toBe(sent.shared_secret);
    // another key's secret for the same ciphertext (implicit rejection again)
    const v2 = ok(t.record('decapsulate with v2', await q.kem.decapsulate({ kem_ciphertext: sent.kem_ciphertext, key_version: 2 })));
    expect(v2.shared_secret).not.toBe(sent.shared_secret);
    ok(t.record('archive', await q.kms.archive({ algorithm: 'Kyber768', key_version: 1 })));
    fails(
      t.record('decapsulate archived', await q.kem.decapsulate({ kem_ciphertext: sent.kem_ciphertext, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /archived/,
    );
    fails(t.record('encapsulate archived', await q.kem.encapsulate({ key_version: 1 })), 'ERR_FORBIDDEN_001', /archived/);
  },

  async 'key wrap: every allowed size round-trips; tampered, foreign and cross-used blobs fail one way'(q, t) {
    ok(t.record('generate', await q.kms.generate({ algorithm: 'Kyber768' })));
    let wrapped32 = '';
    for (const size of [16, 24, 32, 48, 64]) {
      const symmetricKey = bytesToBase64(new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff));
      const wrapped = ok(t.record(`wrap ${size}`, await q.kem.wrapKey({ symmetric_key: symmetricKey, key_version: 1 })));
      expect(Object.keys(wrapped).sort()).toEqual(['algorithm', 'key_version', 'wrapped_key', 'wrapping_method']);
      expect(wrapped).toMatchObject({ key_version: 1, algorithm: 'Kyber768', wrapping_method: 'KEM-DEM' });
      expect(fromBase64(wrapped.wrapped_key).length).toBe(size + 1110);
      expect(ok(t.record(`unwrap ${size}`, await q.kem.unwrapKey({ wrapped_key: wrapped.wrapped_key, key_version: 1 })))).toEqual({
        symmetric_key: symmetricKey,
        key_version: 1,
        algorithm: 'Kyber768',
      });
      if (size === 32) wrapped32 = wrapped.wrapped_key;
    }
    for (const size of [0, 15, 17, 31, 33, 65, 128]) {
      fails(
        t.record(`wrap ${size}`, await q.kem.wrapKey({ symmetric_key: new Uint8Array(size), key_version: 1 })),
        'ERR_INVALID_001',
        /^Validation failed: symmetric_key must be 16, 24, 32, 48 or 64 bytes$/,
      );
    }
    fails(
      t.record('wrap with aad', await q.kem.wrapKey({ symmetric_key: new Uint8Array(32), key_version: 1, aad: HELLO } as never)),
      'ERR_INVALID_001',
      /unknown field "aad"/,
    );

    const raw = fromBase64(wrapped32);
    const tampered: Array<[string, string]> = [
      ['flip type byte', flipBit(wrapped32, 1)],
      ['flip enc', flipBit(wrapped32, 6 + 500)],
      ['flip body', flipBit(wrapped32, 6 + 1088 + 3)],
      ['flip tag', flipBit(wrapped32, -1)],
      ['truncated', bytesToBase64(raw.subarray(0, raw.length - 1))],
      ['extended', bytesToBase64(new Uint8Array([...raw, 0]))],
      ['empty', ''],
      ['garbage', text('not a wrapped key')],
    ];
    for (const [label, bad] of tampered) {
      fails(t.record(`unwrap ${label}`, await q.kem.unwrapKey({ wrapped_key: bad, key_version: 1 })), 'ERR_INVALID_001', /^Unwrap failed$/);
    }
    const relabelled = fromBase64(wrapped32);
    relabelled[5] = 3;
    fails(
      t.record('unwrap header version mismatch', await q.kem.unwrapKey({ wrapped_key: bytesToBase64(relabelled), key_version: 1 })),
      'ERR_INVALID_001',
      /^Validation failed: wrapped_key was wrapped with key_version 3, but key_version 1 was given$/,
    );

    // a wrapped key is not a ciphertext and a ciphertext is not a wrapped key, even of a wrappable size
    fails(
      t.record('decrypt a wrapped key', await q.kem.decrypt({ ciphertext: wrapped32, key_version: 1 })),
      'ERR_INVALID_001',
      /^Decryption failed$/,
    );
    const sealed = ok(t.record('encrypt 32 bytes', await q.kem.encrypt({ plaintext: new Uint8Array(32), key_version: 1 })));
    fails(
      t.record('unwrap a ciphertext', await q.kem.unwrapKey({ wrapped_key: sealed.ciphertext, key_version: 1 })),
      'ERR_INVALID_001',
      /^Unwrap failed$/,
    );
    // the type byte alone does not make a ciphertext a wrapped key (the HPKE info differs)
    const retyped = fromBase64(sealed.ciphertext);
    retyped[1] = 0x02;
    fails(
      t.record('unwrap a retyped ciphertext', await q.kem.unwrapKey({ wrapped_key: bytesToBase64(retyped), key_version: 1 })),
      'ERR_INVALID_001',
      /^Unwrap failed$/,
    );

    // missing version first, whatever the blob; then lifecycle
    fails(t.record('wrap missing', await q.kem.wrapKey({ symmetric_key: new Uint8Array(32), key_version: 5 })), 'ERR_KEM_005');
    fails(t.record('unwrap missing, garbage', await q.kem.unwrapKey({ wrapped_key: text('x'), key_version: 5 })), 'ERR_KEM_005');
    fails(t.record('unwrap missing, header names v1', await q.kem.unwrapKey({ wrapped_key: wrapped32, key_version: 5 })), 'ERR_KEM_005');

    ok(t.record('rotate', await q.kms.rotate({ algorithm: 'Kyber768' })));
    const forV2 = ok(t.record('wrap v2', await q.kem.wrapKey({ symmetric_key: new Uint8Array(32).fill(5), key_version: 2 })));
    const foreign = fromBase64(forV2.wrapped_key);
    foreign[5] = 1; // claims v1, made for v2's key
    fails(
      t.record('unwrap foreign key', await q.kem.unwrapKey({ wrapped_key: bytesToBase64(foreign), key_version: 1 })),
      'ERR_INVALID_001',
      /^Unwrap failed$/,
    );
    fails(
      t.record('wrap retired', await q.kem.wrapKey({ symmetric_key: new Uint8Array(32), key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /retired.*can still decrypt/,
    );
    expect(ok(t.record('unwrap retired', await q.kem.unwrapKey({ wrapped_key: wrapped32, key_version: 1 }))).key_version).toBe(1);
    ok(t.record('archive', await q.kms.archive({ algorithm: 'Kyber768', key_version: 1 })));
    fails(t.record('unwrap archived', await q.kem.unwrapKey({ wrapped_key: wrapped32, key_version: 1 })), 'ERR_FORBIDDEN_001', /archived/);
  },

  async 'sign-hash and verify-hash: digests, contexts, states, and no crossing with plain signatures'(q, t) {
    const dsa = ok(t.record('generate', await q.kms.generate({ algorithm: 'Dilithium3' })));
    for (const [hash_algorithm, hash] of [
      ['SHA-256', SHA256],
      ['SHA-384', SHA384],
      ['SHA-512', SHA512],
    ] as const) {
      const signed = ok(t.record(`sign-hash ${hash_algorithm}`, await q.signature.signHash({ hash, hash_algorithm, key_version: 1 })));
      expect(Object.keys(signed).sort()).toEqual(['algorithm', 'hash_algorithm', 'key_version', 'signature', 'signature_type']);
      expect(signed).toMatchObject({ key_version: 1, algorithm: 'Dilithium3', hash_algorithm, signature_type: 'detached' });
      expect(fromBase64(signed.signature).length).toBe(3309);
      expect(
        ok(
          t.record(
            `verify-hash ${hash_algorithm}`,
            await q.signature.verifyHash({ hash, hash_algorithm, signature: signed.signature, key_version: 1 }),
          ),
        ),
      ).toEqual({ valid: true, key_version: 1, algorithm: 'Dilithium3', hash_algorithm });
      // offline verification of the same signature
      expect(verifyHash({ public_key: dsa.public_key, hash, hash_algorithm, signature: signed.signature })).toBe(true);
    }
    const signed = ok(t.record('sign-hash', await q.signature.signHash({ hash: SHA256, hash_algorithm: 'SHA-256', key_version: 1 })));
    const check = async (label: string, request: Parameters<Qpher['signature']['verifyHash']>[0]) =>
      ok(t.record(label, await q.signature.verifyHash(request))).valid;
    expect(
      await check('other digest', { hash: digest(32, 1), hash_algorithm: 'SHA-256', signature: signed.signature, key_version: 1 }),
    ).toBe(false);
    expect(
      await check('flipped', { hash: SHA256, hash_algorithm: 'SHA-256', signature: flipBit(signed.signature, 9), key_version: 1 }),
    ).toBe(false);
    expect(await check('short signature', { hash: SHA256, hash_algorithm: 'SHA-256', signature: 'AAAA', key_version: 1 })).toBe(false);
    // a 32-byte digest named SHA-256 is not the same message as the first 32 bytes named SHA-512
    const sha512 = ok(t.record('sign-hash 512', await q.signature.signHash({ hash: SHA512, hash_algorithm: 'SHA-512', key_version: 1 })));
    expect(
      await check('512 signature as 256', { hash: SHA256, hash_algorithm: 'SHA-256', signature: sha512.signature, key_version: 1 }),
    ).toBe(false);

    // contexts bind like sign's
    const context = text('qpher-demo/v1');
    const withContext = ok(
      t.record('sign-hash ctx', await q.signature.signHash({ hash: SHA256, hash_algorithm: 'SHA-256', key_version: 1, context })),
    );
    expect(
      await check('verify-hash ctx', {
        hash: SHA256,
        hash_algorithm: 'SHA-256',
        signature: withContext.signature,
        key_version: 1,
        context,
      }),
    ).toBe(true);
    expect(
      await check('verify-hash no ctx', { hash: SHA256, hash_algorithm: 'SHA-256', signature: withContext.signature, key_version: 1 }),
    ).toBe(false);
    expect(
      verifyHash({ public_key: dsa.public_key, hash: SHA256, hash_algorithm: 'SHA-256', signature: withContext.signature, context }),
    ).toBe(true);
    fails(
      t.record(
        'sign-hash ctx 256',
        await q.signature.signHash({ hash: SHA256, hash_algorithm: 'SHA-256', key_version: 1, context: new Uint8Array(256) }),
      ),
      'ERR_INVALID_001',
      /context exceeds the limit of 255 bytes/,
    );

    // HashML-DSA and pure ML-DSA never verify as each other (FIPS 204 domain byte 0x01 vs 0x00)
    const plain = ok(t.record('plain sign of the digest bytes', await q.signature.sign({ message: SHA256, key_version: 1 })));
    expect(
      await check('plain signature via verify-hash', {
        hash: SHA256,
        hash_algorithm: 'SHA-256',
        signature: plain.signature,
        key_version: 1,
      }),
    ).toBe(false);
    expect(
      ok(t.record('hash signature via verify', await q.signature.verify({ message: SHA256, signature: signed.signature, key_version: 1 })))
        .valid,
    ).toBe(false);

    // bad requests
    for (const [label, body, message] of [
      [
        'wrong length for SHA-256',
        { hash: SHA384, hash_algorithm: 'SHA-256', key_version: 1 },
        /^Validation failed: hash must be 32 bytes for SHA-256, got 48$/,
      ],
      [
        'wrong length for SHA-512',
        { hash: SHA256, hash_algorithm: 'SHA-512', key_version: 1 },
        /^Validation failed: hash must be 64 bytes for SHA-512, got 32$/,
      ],
      [
        'empty hash',
        { hash: '', hash_algorithm: 'SHA-384', key_version: 1 },
        /^Validation failed: hash must be 48 bytes for SHA-384, got 0$/,
      ],
      [
        'unknown hash algorithm',
        { hash: SHA256, hash_algorithm: 'SHA3-256', key_version: 1 },
        /hash_algorithm must be one of "SHA-256", "SHA-384", "SHA-512"/,
      ],
      ['lowercase hash algorithm', { hash: SHA256, hash_algorithm: 'sha-256', key_version: 1 }, /hash_algorithm must be one of/],
      ['missing hash algorithm', { hash: SHA256, key_version: 1 }, /^Validation failed: hash_algorithm must be one of/],
      ['hash bad base64', { hash: 'abc', hash_algorithm: 'SHA-256', key_version: 1 }, /hash must be valid base64/],
      [
        'kem algorithm',
        { hash: SHA256, hash_algorithm: 'SHA-256', key_version: 1, algorithm: 'Kyber768' },
        /algorithm must be one of "Dilithium3", "Composite-ML-DSA"$/,
      ],
    ] as const) {
      fails(t.record(`sign-hash ${label}`, await q.signature.signHash(body as never)), 'ERR_INVALID_001', message);
    }
    fails(
      t.record(
        'verify-hash wrong length',
        await q.signature.verifyHash({ hash: SHA256, hash_algorithm: 'SHA-384', signature: signed.signature, key_version: 1 }),
      ),
      'ERR_INVALID_001',
      /^Validation failed: hash must be 48 bytes for SHA-384, got 32$/,
    );

    // missing version, then lifecycle
    fails(
      t.record('sign-hash missing', await q.signature.signHash({ hash: SHA256, hash_algorithm: 'SHA-256', key_version: 4 })),
      'ERR_KEM_005',
    );
    fails(
      t.record(
        'verify-hash missing',
        await q.signature.verifyHash({ hash: SHA256, hash_algorithm: 'SHA-256', signature: 'AAAA', key_version: 4 }),
      ),
      'ERR_KEM_005',
    );
    ok(t.record('rotate', await q.kms.rotate({ algorithm: 'Dilithium3' })));
    fails(
      t.record('sign-hash retired', await q.signature.signHash({ hash: SHA256, hash_algorithm: 'SHA-256', key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /retired.*can still verify/,
    );
    expect(
      await check('verify-hash retired', { hash: SHA256, hash_algorithm: 'SHA-256', signature: signed.signature, key_version: 1 }),
    ).toBe(true);
    expect(
      await check('verify-hash with v2', { hash: SHA256, hash_algorithm: 'SHA-256', signature: signed.signature, key_version: 2 }),
    ).toBe(false);
    ok(t.record('archive', await q.kms.archive({ algorithm: 'Dilithium3', key_version: 1 })));
    fails(
      t.record(
        'verify-hash archived',
        await q.signature.verifyHash({ hash: SHA256, hash_algorithm: 'SHA-256', signature: signed.signature, key_version: 1 }),
      ),
      'ERR_FORBIDDEN_001',
      /archived/,
    );
  },

  async 'raw KEM [X-Wing]: encapsulate and decapsulate, implicit rejection, low-order X25519, lifecycle and sizes'(q, t) {
    const A = { algorithm: 'X-Wing' } as const;
    ok(t.record('generate', await q.kms.generate(A)));
    const sent = ok(t.record('encapsulate', await q.kem.encapsulate({ ...A, key_version: 1 })));
    expect(Object.keys(sent).sort()).toEqual(['algorithm', 'kem_ciphertext', 'key_version', 'shared_secret']);
    expect(sent).toMatchObject({ key_version: 1, algorithm: 'X-Wing' });
    expect(fromBase64(sent.kem_ciphertext).length).toBe(1120);
    expect(fromBase64(sent.shared_secret).length).toBe(32);
    const again = ok(t.record('encapsulate again', await q.kem.encapsulate({ ...A, key_version: 1 })));
    expect(again.shared_secret).not.toBe(sent.shared_secret);
    const got = ok(t.record('decapsulate', await q.kem.decapsulate({ ...A, kem_ciphertext: sent.kem_ciphertext, key_version: 1 })));
    expect(got).toEqual({ shared_secret: sent.shared_secret, key_version: 1, algorithm: 'X-Wing' });

    // A changed ML-KEM half is implicitly rejected (a pseudorandom secret, the same each time); a
    // changed X25519 half gives another secret too. Neither is an error.
    for (const [label, index] of [
      ['ML-KEM half', 17],
      ['X25519 half', 1088 + 5],
    ] as const) {
      const wrong = flipBit(sent.kem_ciphertext, index);
      const one = ok(t.record(`decapsulate tampered ${label}`, await q.kem.decapsulate({ ...A, kem_ciphertext: wrong, key_version: 1 })));
      const two = ok(
        t.record(`decapsulate tampered ${label} again`, await q.kem.decapsulate({ ...A, kem_ciphertext: wrong, key_version: 1 })),
      );
      expect(one.shared_secret).not.toBe(sent.shared_secret);
      expect(two.shared_secret).toBe(one.shared_secret);
    }
    // An X25519 half that is a low-order point (here u = 0) would make the X25519 secret all zeros: refused.
    const lowOrder = fromBase64(sent.kem_ciphertext);
    lowOrder.fill(0, 1088);
    fails(
      t.record('decapsulate low-order X25519', await q.kem.decapsulate({ ...A, kem_ciphertext: lowOrder, key_version: 1 })),
      'ERR_INVALID_001',
      /^Validation failed: kem_ciphertext is not a valid X-Wing ciphertext \(its X25519 part is a low-order point\)$/,
    );
    for (const [label, bad, length] of [
      ['an ML-KEM-768 ciphertext', new Uint8Array(1088), 1088],
      ['long', new Uint8Array(1121), 1121],
      ['empty', new Uint8Array(0), 0],
    ] as const) {
      fails(
        t.record(`decapsulate ${label}`, await q.kem.decapsulate({ ...A, kem_ciphertext: bad, key_version: 1 })),
        'ERR_INVALID_001',
        new RegExp(`^Validation failed: kem_ciphertext must be 1120 bytes for X-Wing, got ${length}$`),
      );
    }
    // An X-Wing kem_ciphertext is not one for the Kyber768 key of the same version: wrong length there.
    ok(t.record('generate Kyber768', await q.kms.generate({ algorithm: 'Kyber768' })));
    fails(
      t.record('decapsulate as Kyber768', await q.kem.decapsulate({ kem_ciphertext: sent.kem_ciphertext, key_version: 1 })),
      'ERR_INVALID_001',
      /^Validation failed: kem_ciphertext must be 1088 bytes for Kyber768, got 1120$/,
    );

    fails(t.record('encapsulate missing', await q.kem.encapsulate({ ...A, key_version: 9 })), 'ERR_KEM_005', /^Key version not found$/);
    ok(t.record('rotate', await q.kms.rotate(A)));
    fails(
      t.record('encapsulate retired', await q.kem.encapsulate({ ...A, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /retired.*can still decrypt/,
    );
    expect(
      ok(t.record('decapsulate retired', await q.kem.decapsulate({ ...A, kem_ciphertext: sent.kem_ciphertext, key_version: 1 })))
        .shared_secret,
    ).toBe(sent.shared_secret);
    ok(t.record('archive', await q.kms.archive({ ...A, key_version: 1 })));
    fails(
      t.record('decapsulate archived', await q.kem.decapsulate({ ...A, kem_ciphertext: sent.kem_ciphertext, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /archived/,
    );
  },

  async 'key wrap [X-Wing]: every allowed size round-trips; tampered, other-KEM and cross-used blobs fail one way'(q, t) {
    const A = { algorithm: 'X-Wing' } as const;
    ok(t.record('generate', await q.kms.generate(A)));
    let wrapped32 = '';
    for (const size of [16, 24, 32, 48, 64]) {
      const symmetricKey = bytesToBase64(new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff));
      const wrapped = ok(t.record(`wrap ${size}`, await q.kem.wrapKey({ ...A, symmetric_key: symmetricKey, key_version: 1 })));
      expect(wrapped).toMatchObject({ key_version: 1, algorithm: 'X-Wing', wrapping_method: 'KEM-DEM' });
      const bytes = fromBase64(wrapped.wrapped_key);
      expect(bytes.length).toBe(size + 1144);
      expect(Array.from(bytes.subarray(0, 8))).toEqual([0x02, 0x64, 0x7a, 0x02, 0, 0, 0, 1]); // names X-Wing, type key wrap, v1
      expect(ok(t.record(`unwrap ${size}`, await q.kem.unwrapKey({ ...A, wrapped_key: wrapped.wrapped_key, key_version: 1 })))).toEqual({
        symmetric_key: symmetricKey,
        key_version: 1,
        algorithm: 'X-Wing',
      });
      if (size === 32) wrapped32 = wrapped.wrapped_key;
    }
    for (const [label, bad] of [
      ['flip kem_id', flipBit(wrapped32, 2)],
      ['flip type byte', flipBit(wrapped32, 3)],
      ['flip enc ML-KEM half', flipBit(wrapped32, 8 + 500)],
      ['flip enc X25519 half', flipBit(wrapped32, 8 + 1100)],
      ['flip tag', flipBit(wrapped32, -1)],
      ['truncated', bytesToBase64(fromBase64(wrapped32).subarray(0, 1175))],
    ] as const) {
      fails(
        t.record(`unwrap ${label}`, await q.kem.unwrapKey({ ...A, wrapped_key: bad, key_version: 1 })),
        'ERR_INVALID_001',
        /^Unwrap failed$/,
      );
    }
    const relabelled = fromBase64(wrapped32);
    relabelled[7] = 3;
    fails(
      t.record('unwrap header version mismatch', await q.kem.unwrapKey({ ...A, wrapped_key: bytesToBase64(relabelled), key_version: 1 })),
      'ERR_INVALID_001',
      /^Validation failed: wrapped_key was wrapped with key_version 3, but key_version 1 was given$/,
    );
    // not a ciphertext, and an X-Wing ciphertext is not a wrapped key
    fails(
      t.record('decrypt a wrapped key', await q.kem.decrypt({ ...A, ciphertext: wrapped32, key_version: 1 })),
      'ERR_INVALID_001',
      /^Decryption failed$/,
    );
    const sealed = ok(t.record('encrypt 32 bytes', await q.kem.encrypt({ ...A, plaintext: new Uint8Array(32), key_version: 1 })));
    fails(
      t.record('unwrap a ciphertext', await q.kem.unwrapKey({ ...A, wrapped_key: sealed.ciphertext, key_version: 1 })),
      'ERR_INVALID_001',
      /^Unwrap failed$/,
    );
    // The header names the KEM: each KEM's key refuses the other's wrapped keys, one way.
    ok(t.record('generate Kyber768', await q.kms.generate({ algorithm: 'Kyber768' })));
    const mlKemWrapped = ok(t.record('wrap Kyber768', await q.kem.wrapKey({ symmetric_key: new Uint8Array(32), key_version: 1 })));
    fails(
      t.record(
        'unwrap a Kyber768 wrap with X-Wing',
        await q.kem.unwrapKey({ ...A, wrapped_key: mlKemWrapped.wrapped_key, key_version: 1 }),
      ),
      'ERR_INVALID_001',
      /^Unwrap failed$/,
    );
    fails(
      t.record('unwrap an X-Wing wrap with Kyber768', await q.kem.unwrapKey({ wrapped_key: wrapped32, key_version: 1 })),
      'ERR_INVALID_001',
      /^Unwrap failed$/,
    );

    fails(t.record('wrap missing', await q.kem.wrapKey({ ...A, symmetric_key: new Uint8Array(32), key_version: 5 })), 'ERR_KEM_005');
    ok(t.record('rotate', await q.kms.rotate(A)));
    fails(
      t.record('wrap retired', await q.kem.wrapKey({ ...A, symmetric_key: new Uint8Array(32), key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /retired.*can still decrypt/,
    );
    expect(ok(t.record('unwrap retired', await q.kem.unwrapKey({ ...A, wrapped_key: wrapped32, key_version: 1 }))).key_version).toBe(1);
    ok(t.record('archive', await q.kms.archive({ ...A, key_version: 1 })));
    fails(
      t.record('unwrap archived', await q.kem.unwrapKey({ ...A, wrapped_key: wrapped32, key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /archived/,
    );
  },

  async 'sign-hash [Composite-ML-DSA]: SHA-512 only, the same signature as over the message, both halves must hold'(q, t) {
    const A = { algorithm: 'Composite-ML-DSA' } as const;
    const key = ok(t.record('generate', await q.kms.generate(A)));
    const message = fromBase64(HELLO);
    const hash = bytesToBase64(sha512(message));
    const signed = ok(t.record('sign-hash', await q.signature.signHash({ ...A, hash, hash_algorithm: 'SHA-512', key_version: 1 })));
    expect(signed).toMatchObject({ key_version: 1, algorithm: 'Composite-ML-DSA', hash_algorithm: 'SHA-512', signature_type: 'detached' });
    const length = fromBase64(signed.signature).length;
    expect(length).toBeGreaterThanOrEqual(3317);
    expect(length).toBeLessThanOrEqual(3381);
    const check = async (label: string, request: Parameters<Qpher['signature']['verifyHash']>[0]) =>
      ok(t.record(label, await q.signature.verifyHash(request))).valid;
    expect(await check('verify-hash', { ...A, hash, hash_algorithm: 'SHA-512', signature: signed.signature, key_version: 1 })).toBe(true);

    // The draft signs SHA-512(M): a digest signature is a signature of M, both ways, online and offline.
    expect(
      ok(t.record('verify the message', await q.signature.verify({ ...A, message: HELLO, signature: signed.signature, key_version: 1 }))),
    ).toEqual({ valid: true, key_version: 1, algorithm: 'Composite-ML-DSA' });
    expect(await verify({ public_key: key.public_key, message: HELLO, signature: signed.signature })).toBe(true);
    const plain = ok(t.record('sign the message', await q.signature.sign({ ...A, message: HELLO, key_version: 1 })));
    expect(
      await check('verify-hash a message signature', { ...A, hash, hash_algorithm: 'SHA-512', signature: plain.signature, key_version: 1 }),
    ).toBe(true);
    expect(
      ok(
        t.record(
          'verify another message',
          await q.signature.verify({ ...A, message: text('other'), signature: signed.signature, key_version: 1 }),
        ),
      ).valid,
    ).toBe(false);

    // Both halves must verify: break either one, or send one alone.
    const bytes = fromBase64(signed.signature);
    for (const [label, broken] of [
      ['broken ML-DSA half', flipBit(signed.signature, 100)],
      ['broken ECDSA half', flipBit(signed.signature, -3)],
      ['ML-DSA half alone', bytesToBase64(bytes.subarray(0, 3309))],
      ['ECDSA half alone', bytesToBase64(bytes.subarray(3309))],
    ] as const) {
      expect(await check(`verify-hash ${label}`, { ...A, hash, hash_algorithm: 'SHA-512', signature: broken, key_version: 1 })).toBe(false);
    }
    expect(
      await check('other digest', { ...A, hash: SHA512, hash_algorithm: 'SHA-512', signature: signed.signature, key_version: 1 }),
    ).toBe(false);

    // Contexts bind, as for sign.
    const context = text('qpher-demo/v1');
    const withContext = ok(
      t.record('sign-hash ctx', await q.signature.signHash({ ...A, hash, hash_algorithm: 'SHA-512', key_version: 1, context })),
    );
    expect(
      await check('verify-hash ctx', { ...A, hash, hash_algorithm: 'SHA-512', signature: withContext.signature, key_version: 1, context }),
    ).toBe(true);
    expect(
      await check('verify-hash no ctx', { ...A, hash, hash_algorithm: 'SHA-512', signature: withContext.signature, key_version: 1 }),
    ).toBe(false);
    expect(
      ok(
        t.record(
          'verify ctx',
          await q.signature.verify({ ...A, message: HELLO, signature: withContext.signature, key_version: 1, context }),
        ),
      ).valid,
    ).toBe(true);

    // Any other pre-hash is a 400 naming the one accepted, before the key is looked up.
    for (const [hash_algorithm, digestBytes] of [
      ['SHA-256', SHA256],
      ['SHA-384', SHA384],
    ] as const) {
      fails(
        t.record(`sign-hash ${hash_algorithm}`, await q.signature.signHash({ ...A, hash: digestBytes, hash_algorithm, key_version: 1 })),
        'ERR_INVALID_001',
        /^Validation failed: hash_algorithm must be "SHA-512" for Composite-ML-DSA$/,
      );
      fails(
        t.record(
          `verify-hash ${hash_algorithm}`,
          await q.signature.verifyHash({ ...A, hash: digestBytes, hash_algorithm, signature: signed.signature, key_version: 9 }),
        ),
        'ERR_INVALID_001',
        /^Validation failed: hash_algorithm must be "SHA-512" for Composite-ML-DSA$/,
      );
    }
    fails(
      t.record('sign-hash short digest', await q.signature.signHash({ ...A, hash: SHA256, hash_algorithm: 'SHA-512', key_version: 1 })),
      'ERR_INVALID_001',
      /^Validation failed: hash must be 64 bytes for SHA-512, got 32$/,
    );

    fails(
      t.record('sign-hash missing', await q.signature.signHash({ ...A, hash, hash_algorithm: 'SHA-512', key_version: 4 })),
      'ERR_KEM_005',
    );
    ok(t.record('rotate', await q.kms.rotate(A)));
    fails(
      t.record('sign-hash retired', await q.signature.signHash({ ...A, hash, hash_algorithm: 'SHA-512', key_version: 1 })),
      'ERR_FORBIDDEN_001',
      /retired.*can still verify/,
    );
    expect(await check('verify-hash retired', { ...A, hash, hash_algorithm: 'SHA-512', signature: signed.signature, key_version: 1 })).toBe(
      true,
    );
    expect(await check('verify-hash with v2', { ...A, hash, hash_algorithm: 'SHA-512', signature: signed.signature, key_version: 2 })).toBe(
      false,
    );
  },
};
