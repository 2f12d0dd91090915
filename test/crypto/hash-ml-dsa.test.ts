/**
 * HashML-DSA-65 over a caller-supplied digest (src/crypto/hash-ml-dsa.ts): NIST ACVP pre-hash
 * vectors (test/vectors/prehash/, SHA2-256/384/512, deterministic and hedged, expanded and seed
 * keys, valid and invalid sigVer cases), domain separation from pure ML-DSA, agreement with
 * noble's own `prehash()` where noble allows it, and argument errors.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { describe, expect, it } from 'vitest';
import {
  encodeHashMlDsaMessage,
  HASH_ML_DSA_ALGORITHMS,
  type HashMlDsaAlgorithm,
  hashMlDsaSign,
  hashMlDsaVerify,
} from '../../src/crypto/hash-ml-dsa.js';
import { nobleProvider } from '../../src/crypto/primitives.js';

const VECTOR_DIR = new URL('../vectors/prehash/', import.meta.url);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function load(name: string): Json {
  const url = new URL(name, VECTOR_DIR);
  if (!existsSync(url)) throw new Error(`vector file missing: ${fileURLToPath(url)}`);
  return JSON.parse(readFileSync(url, 'utf8')) as Json;
}

const h = (hex: string): Uint8Array => hexToBytes(hex.toLowerCase());

/** ACVP hashAlg names -> ours and the hash function the test applies before calling us. */
const ACVP_HASH: Record<string, { name: HashMlDsaAlgorithm; fn: (m: Uint8Array) => Uint8Array }> = {
  'SHA2-256': { name: 'SHA-256', fn: sha256 },
  'SHA2-384': { name: 'SHA-384', fn: sha384 },
  'SHA2-512': { name: 'SHA-512', fn: sha512 },
};

function digestOf(t: Json): { hashAlgorithm: HashMlDsaAlgorithm; hash: Uint8Array } {
  const entry = ACVP_HASH[t.hashAlg as string];
  if (entry === undefined) throw new Error(`unexpected hashAlg ${t.hashAlg}`);
  return { hashAlgorithm: entry.name, hash: entry.fn(h(t.message)) };
}

/** Runs every test of every group; returns the failures and the count. */
function run(file: string, check: (g: Json, t: Json) => string | undefined): { failures: string[]; total: number; hashes: Set<string> } {
  const failures: string[] = [];
  const hashes = new Set<string>();
  let total = 0;
  for (const g of load(file).testGroups as Json[]) {
    for (const t of g.tests as Json[]) {
      total++;
      hashes.add(t.hashAlg);
      try {
        const problem = check(g, t);
        if (problem !== undefined) failures.push(`tcId ${t.tcId}: ${problem}`);
      } catch (error) {
        failures.push(`tcId ${t.tcId}: unexpected throw: ${(error as Error).message}`);
      }
    }
  }
  return { failures, total, hashes };
}

describe('ACVP HashML-DSA-65 vectors (test/vectors/prehash/)', () => {
  it('the directory holds exactly the three files this suite runs', () => {
    expect(readdirSync(VECTOR_DIR).sort()).toEqual([
      'README.md',
      'acvp_ML-DSA-sigGen-FIPS204-tr1-preHash-65.json',
      'acvp_ML-DSA-sigGen-preHash-65.json',
      'acvp_ML-DSA-sigVer-preHash-65.json',
    ]);
  });

  it('sigGen (expanded 4032-byte sk): deterministic and hedged signatures match byte for byte and verify', () => {
    const { failures, total, hashes } = run('acvp_ML-DSA-sigGen-preHash-65.json', (g, t) => {
      const { hashAlgorithm, hash } = digestOf(t);
      const secretKey = h(t.sk);
      expect(secretKey.length).toBe(4032);
      const signature = hashMlDsaSign({
        secretKey,
        hashAlgorithm,
        hash,
        context: h(t.context),
        randomness: g.deterministic ? false : h(t.rnd),
      });
      // This file has no public key; the seed-format file and sigVer below cover verification.
      return bytesToHex(signature) === t.signature.toLowerCase() ? undefined : 'signature mismatch';
    });
    expect(failures).toEqual([]);
    expect(total).toBe(7);
    expect([...hashes].sort()).toEqual(['SHA2-256', 'SHA2-384', 'SHA2-512']);
  });

  it('sigGen FIPS204-tr1 (32-byte seed, the form the key store keeps): signatures match and verify', () => {
    const { failures, total, hashes } = run('acvp_ML-DSA-sigGen-FIPS204-tr1-preHash-65.json', (g, t) => {
      expect(g.keyFormat).toBe('seed');
      const { hashAlgorithm, hash } = digestOf(t);
      const seed = h(t.seed);
      const context = h(t.context);
      const signature = hashMlDsaSign({ secretKey: seed, hashAlgorithm, hash, context, randomness: g.deterministic ? false : h(t.rnd) });
      if (bytesToHex(signature) !== t.signature.toLowerCase()) return 'signature mismatch';
      const { publicKey } = nobleProvider.mlDsa65.keygen(seed);
      if (!hashMlDsaVerify({ publicKey, hashAlgorithm, hash, signature, context })) return 'does not verify';
      // One flipped digest bit must not verify.
      const other = hash.slice();
      other[0]! ^= 1;
      if (hashMlDsaVerify({ publicKey, hashAlgorithm, hash: other, signature, context })) return 'verifies a different digest';
      return undefined;
    });
    expect(failures).toEqual([]);
    expect(total).toBe(8);
    expect([...hashes].sort()).toEqual(['SHA2-256', 'SHA2-384', 'SHA2-512']);
  });

  it('sigVer: the valid signature verifies, modified signature (hint, z) and modified message do not', () => {
    const outcomes: boolean[] = [];
    const { failures, total } = run('acvp_ML-DSA-sigVer-preHash-65.json', (_g, t) => {
      const { hashAlgorithm, hash } = digestOf(t);
      const ok = hashMlDsaVerify({ publicKey: h(t.pk), hashAlgorithm, hash, signature: h(t.signature), context: h(t.context) });
      outcomes.push(ok);
      return ok === t.testPassed ? undefined : `verify=${ok}, testPassed=${t.testPassed} (${t.reason})`;
    });
    expect(failures).toEqual([]);
    expect(total).toBe(4);
    expect(outcomes.filter(Boolean).length).toBe(1);
  });
});

describe('hashMlDsaSign / hashMlDsaVerify', () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  const { publicKey, secretKey } = nobleProvider.mlDsa65.keygen(seed);
  const message = utf8ToBytes('a document the client hashed itself');
  const context = utf8ToBytes('qpher test context');
  const digests: Record<HashMlDsaAlgorithm, Uint8Array> = {
    'SHA-256': sha256(message),
    'SHA-384': sha384(message),
    'SHA-512': sha512(message),
  };

  it('round trips for every hash algorithm, with and without context, seed or expanded key', () => {
    for (const [hashAlgorithm, hash] of Object.entries(digests) as [HashMlDsaAlgorithm, Uint8Array][]) {
      for (const ctx of [undefined, new Uint8Array(0), context, new Uint8Array(255).fill(7)]) {
        const signature = hashMlDsaSign({ secretKey: seed, hashAlgorithm, hash, context: ctx });
        expect(signature.length).toBe(3309);
        expect(hashMlDsaVerify({ publicKey, hashAlgorithm, hash, signature, context: ctx })).toBe(true);
      }
      const signature = hashMlDsaSign({ secretKey, hashAlgorithm, hash, context });
      expect(hashMlDsaVerify({ publicKey, hashAlgorithm, hash, signature, context })).toBe(true);
    }
  });

  it('is hedged by default and deterministic with randomness: false; seed and expanded key agree', () => {
    const args = { hashAlgorithm: 'SHA-256' as const, hash: digests['SHA-256'], context };
    expect(hashMlDsaSign({ ...args, secretKey: seed })).not.toEqual(hashMlDsaSign({ ...args, secretKey: seed }));
    const a = hashMlDsaSign({ ...args, secretKey: seed, randomness: false });
    expect(hashMlDsaSign({ ...args, secretKey, randomness: false })).toEqual(a);
    const rnd = new Uint8Array(32).fill(9);
    expect(hashMlDsaSign({ ...args, secretKey: seed, randomness: rnd })).toEqual(hashMlDsaSign({ ...args, secretKey, randomness: rnd }));
    expect(hashMlDsaSign({ ...args, secretKey: seed, randomness: rnd })).not.toEqual(a);
  });

  it('does not leave the caller key changed (the expanded copy is wiped, not the input)', () => {
    const seedCopy = seed.slice();
    const skCopy = secretKey.slice();
    hashMlDsaSign({ secretKey: seed, hashAlgorithm: 'SHA-512', hash: digests['SHA-512'] });
    hashMlDsaSign({ secretKey, hashAlgorithm: 'SHA-512', hash: digests['SHA-512'] });
    expect(seed).toEqual(seedCopy);
    expect(secretKey).toEqual(skCopy);
  });

  it('binds the hash algorithm, the context and the key', () => {
    const hash = digests['SHA-512'];
    const signature = hashMlDsaSign({ secretKey: seed, hashAlgorithm: 'SHA-512', hash, context });
    const h256 = digests['SHA-256'];
    const s256 = hashMlDsaSign({ secretKey: seed, hashAlgorithm: 'SHA-256', hash: h256 });
    expect(hashMlDsaVerify({ publicKey, hashAlgorithm: 'SHA-256', hash: h256, signature: s256 })).toBe(true);
    expect(hashMlDsaVerify({ publicKey, hashAlgorithm: 'SHA-256', hash: h256, signature: s256, context })).toBe(false);
    expect(hashMlDsaVerify({ publicKey, hashAlgorithm: 'SHA-512', hash, signature })).toBe(false); // context missing
    expect(hashMlDsaVerify({ publicKey, hashAlgorithm: 'SHA-512', hash, signature, context: utf8ToBytes('other') })).toBe(false);
    const otherKey = nobleProvider.mlDsa65.keygen(new Uint8Array(32).fill(1)).publicKey;
    expect(hashMlDsaVerify({ publicKey: otherKey, hashAlgorithm: 'SHA-512', hash, signature, context })).toBe(false);
    // The OID is part of M′: the same M′ tail with a different OID is a different message.
    const m512 = encodeHashMlDsaMessage('SHA-512', hash, context);
    expect(bytesToHex(m512.subarray(2 + context.length, 2 + context.length + 11))).toBe('0609608648016503040203');
  });

  it('pure ML-DSA and HashML-DSA signatures never verify as each other', () => {
    for (const [hashAlgorithm, hash] of Object.entries(digests) as [HashMlDsaAlgorithm, Uint8Array][]) {
      // Pure signature over the digest bytes as the message, and over M′ itself.
      const pureOverDigest = nobleProvider.mlDsa65.sign(hash, secretKey, { context });
      expect(nobleProvider.mlDsa65.verify(pureOverDigest, hash, publicKey, { context })).toBe(true);
      expect(hashMlDsaVerify({ publicKey, hashAlgorithm, hash, signature: pureOverDigest, context })).toBe(false);
      const mPrime = encodeHashMlDsaMessage(hashAlgorithm, hash, context);
      const pureOverMPrime = nobleProvider.mlDsa65.sign(mPrime, secretKey);
      expect(hashMlDsaVerify({ publicKey, hashAlgorithm, hash, signature: pureOverMPrime, context })).toBe(false);

      const prehashed = hashMlDsaSign({ secretKey: seed, hashAlgorithm, hash, context });
      expect(nobleProvider.mlDsa65.verify(prehashed, hash, publicKey, { context })).toBe(false);
      expect(nobleProvider.mlDsa65.verify(prehashed, message, publicKey, { context })).toBe(false);
      expect(nobleProvider.mlDsa65.verify(prehashed, mPrime, publicKey)).toBe(false);
    }
  });

  it("matches noble's prehash() for SHA-384 and SHA-512; noble refuses SHA-256 for ML-DSA-65, FIPS 204 does not", () => {
    for (const [name, fn] of [
      ['SHA-384', sha384],
      ['SHA-512', sha512],
    ] as const) {
      const theirs = ml_dsa65.prehash(fn).sign(message, secretKey, { context, extraEntropy: false });
      const ours = hashMlDsaSign({ secretKey: seed, hashAlgorithm: name, hash: fn(message), context, randomness: false });
      expect(ours).toEqual(theirs);
      expect(ml_dsa65.prehash(fn).verify(ours, message, publicKey, { context })).toBe(true);
    }
    expect(() => ml_dsa65.prehash(sha256)).toThrow(/strength/);
  });

  it('M′ = 0x01 ‖ len(ctx) ‖ ctx ‖ DER(OID) ‖ digest', () => {
    const hash = new Uint8Array(32).fill(0xab);
    expect(bytesToHex(encodeHashMlDsaMessage('SHA-256', hash))).toBe(`0100${'0609608648016503040201'}${'ab'.repeat(32)}`);
    expect(bytesToHex(encodeHashMlDsaMessage('SHA-384', new Uint8Array(48), Uint8Array.of(0xcc, 0xdd)))).toBe(
      `0102ccdd0609608648016503040202${'00'.repeat(48)}`,
    );
    for (const [name, { digestLength, oidDer }] of Object.entries(HASH_ML_DSA_ALGORITHMS)) {
      expect([name, digestLength, oidDer.length]).toEqual([name, { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }[name], 11]);
    }
  });
});

describe('argument errors', () => {
  const seed = new Uint8Array(32).fill(5);
  const { publicKey } = nobleProvider.mlDsa65.keygen(seed);
  const hash = new Uint8Array(32);

  it('sign: unknown algorithm, wrong digest length, long context, bad key or randomness throw, naming the argument', () => {
    const sign = (over: Record<string, unknown>) => () =>
      hashMlDsaSign({ secretKey: seed, hashAlgorithm: 'SHA-256', hash, ...over } as never);
    expect(sign({ hashAlgorithm: 'SHA-1' })).toThrow(new TypeError('"hashAlgorithm" must be one of SHA-256, SHA-384, SHA-512'));
    expect(sign({ hashAlgorithm: 'sha256' })).toThrow(TypeError);
    expect(sign({ hashAlgorithm: 'toString' })).toThrow(TypeError);
    expect(sign({ hash: new Uint8Array(31) })).toThrow(new RangeError('"hash" must be 32 bytes for SHA-256, got 31'));
    expect(sign({ hashAlgorithm: 'SHA-384', hash })).toThrow(new RangeError('"hash" must be 48 bytes for SHA-384, got 32'));
    expect(sign({ hashAlgorithm: 'SHA-512', hash: new Uint8Array(48) })).toThrow(
      new RangeError('"hash" must be 64 bytes for SHA-512, got 48'),
    );
    expect(sign({ hash: '00'.repeat(32) })).toThrow(new TypeError('"hash" must be a Uint8Array'));
    expect(sign({ context: new Uint8Array(256) })).toThrow(new RangeError('"context" must be 255 bytes or less'));
    expect(sign({ secretKey: new Uint8Array(64) })).toThrow(
      new RangeError('"secretKey" must be the 32-byte ML-DSA-65 seed or the 4032-byte secret key, got 64'),
    );
    expect(sign({ secretKey: publicKey })).toThrow(RangeError);
    expect(sign({ randomness: new Uint8Array(16) })).toThrow(new RangeError('"randomness" must be 32 bytes, got 16'));
  });

  it('verify: request errors throw, signature and key problems are false', () => {
    const signature = hashMlDsaSign({ secretKey: seed, hashAlgorithm: 'SHA-256', hash });
    const verify = (over: Record<string, unknown>) =>
      hashMlDsaVerify({ publicKey, hashAlgorithm: 'SHA-256', hash, signature, ...over } as never);
    expect(verify({})).toBe(true);
    expect(() => verify({ hashAlgorithm: 'SHA3-256' })).toThrow(TypeError);
    expect(() => verify({ hash: new Uint8Array(64) })).toThrow(/"hash" must be 32 bytes/);
    expect(() => verify({ context: new Uint8Array(256) })).toThrow(/"context"/);
    expect(verify({ signature: signature.subarray(1) })).toBe(false);
    expect(verify({ signature: new Uint8Array(0) })).toBe(false);
    expect(verify({ signature: new Uint8Array(3309).fill(0xff) })).toBe(false);
    expect(verify({ publicKey: publicKey.subarray(1) })).toBe(false);
    expect(verify({ publicKey: 'nope' })).toBe(false);
  });
});
