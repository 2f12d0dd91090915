/**
 * Official conformance vectors (NIST ACVP and C2SP Wycheproof, test/vectors/ with their provenance) run through
 * OUR provider interface (`mlKem768` / `mlDsa65`) of every provider (noble, native, wasm; see
 * test/providers/available.ts) and our SPKI encoder.
 *
 * A missing file fails the run: silently skipping conformance tests is worse than failing.
 *
 * Groups that need an API our provider deliberately does not expose call noble directly:
 * - ACVP ML-DSA sigGen/sigVer v1.1.0.35 sign/verify M′ with the *internal* interface
 *   (FIPS 204 Algorithms 7/8), so they use `ml_dsa65.internal`.
 * - Wycheproof ML-DSA sign tests without `msg` give only µ, so they need external-µ signing
 *   (`ml_dsa65.internal.sign(mu, sk, { externalMu: true })`).
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { PrimitiveProvider } from '../../src/crypto/primitives.js';
import { decodeSpki, encodeSpki } from '../../src/crypto/spki.js';
import { providersUnderTest } from '../providers/available.js';

const VECTOR_DIR = new URL('../vectors/official/', import.meta.url);

// Loose JSON shapes: these files are data, read field by field.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function load(name: string): Json {
  const url = new URL(name, VECTOR_DIR);
  if (!existsSync(url)) throw new Error(`vector file missing: ${fileURLToPath(url)}`);
  return JSON.parse(readFileSync(url, 'utf8')) as Json;
}

const h = (hex: string): Uint8Array => hexToBytes(hex.toLowerCase());
const hx = (bytes: Uint8Array): string => bytesToHex(bytes);

function throws(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}

interface Tally {
  passed: number;
  total: number;
}
const tallies = new Map<string, Tally>();

/** Runs `check` on every test of every group; `check` returns an error string or undefined. */
let tallyPrefix = '';
function runFile(file: string, check: (group: Json, test: Json) => string | undefined): void {
  const data = load(file);
  const failures: string[] = [];
  let total = 0;
  for (const group of data.testGroups as Json[]) {
    for (const test of group.tests as Json[]) {
      total++;
      let problem: string | undefined;
      try {
        problem = check(group, test);
      } catch (error) {
        problem = `unexpected throw: ${(error as Error).message}`;
      }
      if (problem !== undefined) failures.push(`tcId ${test.tcId}: ${problem}`);
    }
  }
  tallies.set(tallyPrefix + file, { passed: total - failures.length, total });
  expect(failures).toEqual([]);
  expect(total).toBeGreaterThan(0);
}

function same(label: string, actual: Uint8Array, expectedHex: string): string | undefined {
  return hx(actual) === expectedHex.toLowerCase() ? undefined : `${label} mismatch`;
}

const firstProblem = (...problems: (string | undefined)[]): string | undefined => problems.find((p) => p !== undefined);

for (const { name, provider, missing } of await providersUnderTest()) {
  describe(`official vectors through the ${name} provider`, () => {
    if (provider !== undefined) return vectorSuite(name, provider);
    // Only native may be missing, and only where node:crypto really lacks ML-KEM (Node < 24): the
    // LTS legs of `npm test` (test/node-lts) run this file there with native required.
    it(`${name} is unavailable on Node ${process.version} because node:crypto has no ML-KEM (${missing})`, async () => {
      expect(name).toBe('native');
      expect(typeof ((await import('node:crypto')) as Record<string, unknown>).encapsulate).not.toBe('function');
    });
  });
}

function vectorSuite(providerName: string, provider: PrimitiveProvider): void {
  const kem = provider.mlKem768;
  const dsa = provider.mlDsa65;
  const file = (name: string) => {
    tallyPrefix = `${providerName}: `;
    return name;
  };
  it('every vector file in the directory is exercised', () => {
    const files = readdirSync(VECTOR_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual([...FILES].sort());
  });

  it('ACVP ML-KEM keyGen: keygen(d‖z)', () => {
    runFile(file('acvp_ML-KEM-keyGen-FIPS203_768.json'), (_g, t) => {
      const kp = kem.keygen(h(t.d + t.z));
      return firstProblem(same('ek', kp.publicKey, t.ek), same('dk', kp.secretKey, t.dk));
    });
  });

  it('ACVP ML-KEM encapDecap: encapsulate(ek, m), decapsulate incl. implicit rejection, key checks', () => {
    runFile(file('acvp_ML-KEM-encapDecap-FIPS203_768.json'), (g, t) => {
      switch (g.function) {
        case 'encapsulation': {
          const { cipherText, sharedSecret } = kem.encapsulate(h(t.ek), h(t.m));
          return firstProblem(
            same('c', cipherText, t.c),
            same('k', sharedSecret, t.k),
            same('decapsulated k', kem.decapsulate(cipherText, h(t.dk)), t.k),
          );
        }
        case 'decapsulation': // "modified ciphertext" cases expect the implicit-rejection key
          return same('k', kem.decapsulate(h(t.c), h(t.dk)), t.k);
        case 'decapsulationKeyCheck': {
          const threw = throws(() => kem.decapsulate(new Uint8Array(1088), h(t.dk)));
          return threw === !t.testPassed ? undefined : `decapsulate threw=${threw}, testPassed=${t.testPassed}`;
        }
        case 'encapsulationKeyCheck': {
          const threw = throws(() => kem.encapsulate(h(t.ek), new Uint8Array(32)));
          return threw === !t.testPassed ? undefined : `encapsulate threw=${threw}, testPassed=${t.testPassed}`;
        }
        default:
          return `unknown function ${g.function}`;
      }
    });
  });

  it('Wycheproof mlkem_768_keygen_seed: keygen(seed)', () => {
    runFile(file('wycheproof_mlkem_768_keygen_seed_test.json'), (_g, t) => {
      const kp = kem.keygen(h(t.seed));
      return firstProblem(same('ek', kp.publicKey, t.ek), same('dk', kp.secretKey, t.dk));
    });
  });

  it('Wycheproof mlkem_768: keygen(seed) + decapsulate, wrong seed/ciphertext lengths throw', () => {
    runFile(file('wycheproof_mlkem_768_test.json'), (_g, t) => {
      if (t.result === 'valid') {
        const kp = kem.keygen(h(t.seed));
        return firstProblem(
          t.ek === undefined ? undefined : same('ek', kp.publicKey, t.ek),
          same('K', kem.decapsulate(h(t.c), kp.secretKey), t.K),
        );
      }
      return throws(() => kem.decapsulate(h(t.c), kem.keygen(h(t.seed)).secretKey)) ? undefined : 'expected a throw';
    });
  });

  it('Wycheproof mlkem_768_encaps: encapsulate(ek, m), invalid ek throws', () => {
    runFile(file('wycheproof_mlkem_768_encaps_test.json'), (_g, t) => {
      if (t.result === 'valid') {
        const { cipherText, sharedSecret } = kem.encapsulate(h(t.ek), h(t.m));
        return firstProblem(same('c', cipherText, t.c), same('K', sharedSecret, t.K));
      }
      return throws(() => kem.encapsulate(h(t.ek), h(t.m))) ? undefined : 'expected a throw';
    });
  });

  it('Wycheproof mlkem_768_semi_expanded_decaps: decapsulate(c, dk), bad lengths and H(ek) throw', () => {
    runFile(file('wycheproof_mlkem_768_semi_expanded_decaps_test.json'), (_g, t) => {
      if (t.result === 'valid') return same('K', kem.decapsulate(h(t.c), h(t.dk)), t.K);
      return throws(() => kem.decapsulate(h(t.c), h(t.dk))) ? undefined : 'expected a throw';
    });
  });

  it('ACVP ML-DSA keyGen: keygen(ξ)', () => {
    runFile(file('acvp_ML-DSA-keyGen-FIPS204_65.json'), (_g, t) => {
      const kp = dsa.keygen(h(t.seed));
      return firstProblem(same('pk', kp.publicKey, t.pk), same('sk', kp.secretKey, t.sk));
    });
  });

  it('ACVP ML-DSA sigGen v1.1.0.35 (noble internal interface on M′)', () => {
    runFile(file('acvp_ML-DSA-sigGen-FIPS204_65_v1.1.0.35.json'), (g, t) => {
      const extraEntropy = g.deterministic ? false : h(t.rnd);
      const sig = ml_dsa65.internal.sign(h(t.message), h(t.sk), { extraEntropy });
      return same('signature', sig, t.signature);
    });
  });

  it('ACVP ML-DSA sigVer v1.1.0.35 (noble internal interface on M′)', () => {
    runFile(file('acvp_ML-DSA-sigVer-FIPS204_65_v1.1.0.35.json'), (g, t) => {
      let ok: boolean;
      try {
        ok = ml_dsa65.internal.verify(h(t.signature), h(t.message), h(g.pk));
      } catch {
        ok = false;
      }
      return ok === t.testPassed ? undefined : `verify=${ok}, testPassed=${t.testPassed} (${t.reason})`;
    });
  });

  /** Shared by the seed and no-seed Wycheproof sign files. */
  function checkSign(secretKey: Uint8Array | undefined, publicKey: Uint8Array | undefined, t: Json): string | undefined {
    const valid = t.result === 'valid';
    const sign = (): Uint8Array => {
      if (secretKey === undefined) throw new Error('no key');
      if (t.msg === undefined) {
        // Only µ is given: external-µ signing, which our provider does not expose.
        return ml_dsa65.internal.sign(h(t.mu), secretKey, {
          externalMu: true,
          extraEntropy: t.rnd === undefined ? false : h(t.rnd),
        });
      }
      return dsa.sign(h(t.msg), secretKey, {
        ...(t.ctx !== undefined && { context: h(t.ctx) }),
        randomness: t.rnd === undefined ? false : h(t.rnd),
      });
    };
    if (!valid) return throws(sign) ? undefined : 'expected a throw';
    const sig = sign();
    const problem = same('sig', sig, t.sig);
    if (problem !== undefined || t.msg === undefined || publicKey === undefined) return problem;
    const verified = dsa.verify(sig, h(t.msg), publicKey, t.ctx === undefined ? {} : { context: h(t.ctx) });
    return verified ? undefined : 'own signature did not verify';
  }

  it('Wycheproof mldsa_65_sign_seed: keygen(ξ) + sign with context, deterministic and randomized', () => {
    runFile(file('wycheproof_mldsa_65_sign_seed_test.json'), (g, t) => {
      let kp: { publicKey: Uint8Array; secretKey: Uint8Array } | undefined;
      try {
        kp = dsa.keygen(h(g.privateSeed));
      } catch {
        // Wrong seed lengths must be refused; then every test of the group is expected invalid.
        return t.result === 'invalid' ? undefined : 'keygen threw for a valid group';
      }
      if (typeof g.publicKey === 'string') {
        const problem = same('publicKey', kp.publicKey, g.publicKey);
        if (problem !== undefined) return problem;
      }
      return checkSign(kp.secretKey, kp.publicKey, t);
    });
  });

  it('Wycheproof mldsa_65_sign_noseed: sign with an expanded sk, malformed sk throws', () => {
    runFile(file('wycheproof_mldsa_65_sign_noseed_test.json'), (g, t) =>
      checkSign(h(g.privateKey), typeof g.publicKey === 'string' ? h(g.publicKey) : undefined, t),
    );
  });

  it('Wycheproof mldsa_65_verify: verify(sig, msg, pk, {context}) never throws', () => {
    runFile(file('wycheproof_mldsa_65_verify_test.json'), (g, t) => {
      const opts = t.ctx === undefined ? {} : { context: h(t.ctx) };
      const ok = dsa.verify(h(t.sig), h(t.msg), h(g.publicKey), opts);
      return ok === (t.result === 'valid') ? undefined : `verify=${ok}, expected ${t.result}`;
    });
  });

  it('SPKI: encodeSpki/decodeSpki against every publicKeyDer in mldsa_65_verify', () => {
    const data = load('wycheproof_mldsa_65_verify_test.json');
    let checked = 0;
    let refused = 0;
    for (const g of data.testGroups as Json[]) {
      const publicKey = h(g.publicKey);
      const der = h(g.publicKeyDer);
      if (publicKey.length === 1952) {
        expect(hx(encodeSpki('ML-DSA-65', publicKey))).toBe(g.publicKeyDer.toLowerCase());
        const decoded = decodeSpki(der);
        expect(decoded?.algorithm).toBe('ML-DSA-65');
        expect(hx(decoded!.publicKey)).toBe(hx(publicKey));
        checked++;
      } else {
        // Wrong-length keys: the DER is well formed but not an ML-DSA-65 key.
        expect(decodeSpki(der)).toBeUndefined();
        expect(() => encodeSpki('ML-DSA-65', publicKey)).toThrow(RangeError);
        refused++;
      }
    }
    tallies.set(`${providerName}: SPKI publicKeyDer (ML-DSA-65 prefix)`, { passed: checked, total: checked });
    tallies.set(`${providerName}: SPKI wrong-length keys refused`, { passed: refused, total: refused });
    expect(checked).toBeGreaterThan(0);
  });
}

const FILES = [
  'acvp_ML-DSA-keyGen-FIPS204_65.json',
  'acvp_ML-DSA-sigGen-FIPS204_65_v1.1.0.35.json',
  'acvp_ML-DSA-sigVer-FIPS204_65_v1.1.0.35.json',
  'acvp_ML-KEM-encapDecap-FIPS203_768.json',
  'acvp_ML-KEM-keyGen-FIPS203_768.json',
  'wycheproof_mldsa_65_sign_noseed_test.json',
  'wycheproof_mldsa_65_sign_seed_test.json',
  'wycheproof_mldsa_65_verify_test.json',
  'wycheproof_mlkem_768_encaps_test.json',
  'wycheproof_mlkem_768_keygen_seed_test.json',
  'wycheproof_mlkem_768_semi_expanded_decaps_test.json',
  'wycheproof_mlkem_768_test.json',
];

afterAll(() => {
  let passed = 0;
  let total = 0;
  const lines: string[] = [];
  for (const [name, t] of tallies) {
    passed += t.passed;
    total += t.total;
    lines.push(`  ${name}: ${t.passed}/${t.total}`);
  }
  console.log(`conformance vectors: ${passed}/${total} passed\n${lines.join('\n')}`);
});
