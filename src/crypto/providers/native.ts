/**
 * The `native` provider: ML-KEM-768 and ML-DSA-65 from `node:crypto` (OpenSSL 3.5+, Node 24.7+).
 *
 * Availability is decided by doing it once (`nativeProvider()` derives key pairs from fixed seeds,
 * compares the public keys with noble's, and round-trips encapsulations and signatures with keys
 * built from the seed and from the expanded form), never by sniffing versions. `node:crypto` is
 * reached through `process.getBuiltinModule`, so this file has no static `node:*` import and a
 * browser bundle that contains it simply gets `undefined`.
 *
 * Keys go INTO OpenSSL only, in standard encodings, and nothing is read back out of a private key
 * export: what Node exports for an ML-KEM/ML-DSA private key has changed between releases (the
 * expanded key, later the seed only), while imports of the seed-only and expanded-only PKCS#8
 * forms (draft-ietf-lamps-kyber-certificates §6, RFC 9881 §6) work on every release that has the
 * algorithms. So:
 * - `keygen(seed)` imports the seed (seed-only PKCS#8), takes the raw public key from the public
 *   key's SPKI (a fixed DER prefix, src/crypto/spki.ts), and returns a pair whose expanded
 *   `secretKey` (2400 / 4032 bytes, the same bytes as noble's, so keys stay interchangeable) is
 *   computed by noble on first read only: the engine reads it once per key (for its key cache),
 *   key generation never does;
 * - decapsulate and sign with an expanded key from `keygen` use the OpenSSL key built from the
 *   seed; a foreign expanded key (another provider's, a vector's) is checked and imported in the
 *   expanded-only PKCS#8 form.
 * OpenSSL key objects are cached per Uint8Array (a WeakMap, like noble's prepared keys) and
 * checked byte for byte.
 *
 * What OpenSSL does not expose through Node, noble does (same bytes, same checks):
 * - encapsulation with caller-given randomness m (the engine's deterministic mode, the vectors);
 * - signing with caller-given randomness or `randomness: false` (deterministic ML-DSA).
 * Everything else (hedged signing with any context, verify, random encapsulation, decapsulation,
 * AES-256-GCM and HMAC-SHA256 for HPKE) runs in OpenSSL.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { equalBytes } from '@noble/post-quantum/utils.js';
import { checkDsaSecretKey } from './checks.js';
import {
  isVerifiable,
  ML_DSA_65,
  ML_KEM_768,
  nobleProvider,
  requireBytes,
  type Aes256Gcm,
  type KeyPair,
  type MlDsa65,
  type MlKem768,
  type PrimitiveProvider,
} from '../primitives.js';
import { decodeSpki, encodeSpki, type PqAlgorithm } from '../spki.js';

type KeyObject = import('node:crypto').KeyObject;
type SignKey = KeyObject | { key: KeyObject; context: Buffer };
/** The parts of `node:crypto` used here; `encapsulate`/`decapsulate` and ML-DSA contexts are Node 24 APIs (@types/node is 20). */
interface NodeCrypto {
  createPrivateKey(input: { key: Buffer; format: 'der'; type: 'pkcs8' }): KeyObject;
  createPublicKey(input: KeyObject | { key: Buffer; format: 'der'; type: 'spki' }): KeyObject;
  encapsulate?(key: KeyObject): { sharedKey: Buffer; ciphertext: Buffer };
  decapsulate?(key: KeyObject, ciphertext: Buffer): Buffer;
  sign(algorithm: null, data: Buffer, key: SignKey): Buffer;
  verify(algorithm: null, data: Buffer, key: SignKey, signature: Buffer): boolean;
  createCipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: 16 }): GcmCipher;
  createDecipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: 16 }): GcmDecipher;
  createHmac(algorithm: 'sha256', key: Uint8Array): { update(data: Uint8Array): unknown; digest(): Buffer };
}
interface GcmCipher {
  setAAD(aad: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
  getAuthTag(): Buffer;
}
interface GcmDecipher {
  setAAD(aad: Uint8Array): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}
type SignOptions = { context?: Uint8Array; randomness?: Uint8Array | false };

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const cat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

// PKCS#8 OneAsymmetricKey prefixes (draft-ietf-lamps-kyber-certificates §6, RFC 9881 §6):
// seed-only form `[0] IMPLICIT OCTET STRING` and expanded-only form `OCTET STRING`. The same
// prefixes are in test/vectors/official/README.md.
const KEM_SEED_PKCS8 = hex('3054020100300b060960864801650304040204428040'); // ‖ d‖z (64)
const KEM_EXPANDED_PKCS8 = hex('30820978020100300b0609608648016503040402048209640482' + '0960'); // ‖ dk (2400)
const DSA_SEED_PKCS8 = hex('3034020100300b060960864801650304031204228020'); // ‖ ξ (32)
const DSA_EXPANDED_PKCS8 = hex('30820fd8020100300b060960864801650304031204820fc404820fc0'); // ‖ sk (4032)
const KEM_SECRET_KEY_LENGTH = ML_KEM_768.secretKeyLength;
const DSA_SECRET_KEY_LENGTH = ML_DSA_65.secretKeyLength;

/** KeyObjects per Uint8Array, checked against a private copy of the bytes they came from. */
class KeyCache {
  readonly #map = new WeakMap<Uint8Array, { bytes: Uint8Array; key: KeyObject }>();
  get(bytes: Uint8Array, make: () => KeyObject): KeyObject {
    const hit = this.#map.get(bytes);
    if (hit && equalBytes(hit.bytes, bytes)) return hit.key;
    const key = make();
    this.#map.set(bytes, { bytes: bytes.slice(), key });
    return key;
  }
  set(bytes: Uint8Array, key: KeyObject): void {
    this.#map.set(bytes, { bytes: bytes.slice(), key });
  }
}

const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes); // out of Node's Buffer pool

/**
 * A key pair from a seed: the public key now, the expanded secret key (noble's, byte for byte the
 * FIPS 203/204 encoding) on first read, registered with `secrets` so that decapsulate/sign with it
 * use the OpenSSL key built from the seed. The pair keeps a private copy of the seed until then.
 * `expanded` (when the caller already has it) skips the computation.
 */
function seededPair(
  seed: Uint8Array,
  publicKey: Uint8Array,
  privateKey: KeyObject,
  secrets: KeyCache,
  expand: (seed: Uint8Array) => Uint8Array,
  expanded?: Uint8Array,
): KeyPair {
  let pending: Uint8Array | undefined = expanded ? undefined : seed.slice();
  let secretKey = expanded;
  if (secretKey) secrets.set(secretKey, privateKey);
  return {
    publicKey,
    get secretKey(): Uint8Array {
      if (!secretKey) {
        secretKey = expand(pending!);
        pending!.fill(0);
        pending = undefined;
        secrets.set(secretKey, privateKey);
      }
      return secretKey;
    },
  };
}

/** The provider, plus keygen with an already-known expanded key (the probe has noble's). */
interface Built {
  provider: PrimitiveProvider;
  kemPair(seed: Uint8Array, expanded?: Uint8Array): KeyPair;
  dsaPair(seed: Uint8Array, expanded?: Uint8Array): KeyPair;
}

function build(c: NodeCrypto): Built {
  const kemPrivate = new KeyCache();
  const kemPublic = new KeyCache();
  const dsaPrivate = new KeyCache();
  const dsaPublic = new KeyCache();

  const der = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const privateKey = (prefix: Uint8Array, body: Uint8Array) => {
    const pkcs8 = Buffer.from(cat(prefix, body));
    try {
      return c.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    } finally {
      pkcs8.fill(0);
    }
  };
  const publicKey = (algorithm: PqAlgorithm, raw: Uint8Array) =>
    c.createPublicKey({ key: Buffer.from(encodeSpki(algorithm, raw)), format: 'der', type: 'spki' });
  /** The raw public key of a private key object, out of its SPKI (fixed DER prefix, checked). */
  function rawPublicKey(key: KeyObject, algorithm: PqAlgorithm): { raw: Uint8Array; pub: KeyObject } {
    const pub = c.createPublicKey(key);
    const decoded = decodeSpki(copy(pub.export({ format: 'der', type: 'spki' })));
    if (decoded?.algorithm !== algorithm) throw new Error(`node:crypto exported no canonical ${algorithm} SPKI`);
    return { raw: decoded.publicKey, pub };
  }

  function kemPair(seed: Uint8Array, expanded?: Uint8Array): KeyPair {
    requireBytes(seed, 'seed', ML_KEM_768.seedLength);
    const key = privateKey(KEM_SEED_PKCS8, seed);
    const { raw, pub } = rawPublicKey(key, 'ML-KEM-768');
    kemPublic.set(raw, pub);
    return seededPair(seed, raw, key, kemPrivate, (s) => nobleProvider.mlKem768.keygen(s).secretKey, expanded);
  }

  function dsaPair(seed: Uint8Array, expanded?: Uint8Array): KeyPair {
    requireBytes(seed, 'seed', ML_DSA_65.seedLength);
    const key = privateKey(DSA_SEED_PKCS8, seed);
    const { raw, pub } = rawPublicKey(key, 'ML-DSA-65');
    dsaPublic.set(raw, pub);
    return seededPair(seed, raw, key, dsaPrivate, (s) => nobleProvider.mlDsa65.keygen(s).secretKey, expanded);
  }

  const mlKem768: MlKem768 = Object.freeze({
    name: 'native',
    keygen: (seed: Uint8Array): KeyPair => kemPair(seed),
    encapsulate(ek: Uint8Array, randomness?: Uint8Array) {
      requireBytes(ek, 'publicKey', ML_KEM_768.publicKeyLength);
      // OpenSSL takes no caller-given m; noble does the deterministic variant (same FIPS 203 checks).
      if (randomness !== undefined) return nobleProvider.mlKem768.encapsulate(ek, randomness);
      // Importing the SPKI runs the FIPS 203 §7.2 modulus check; a failure throws here.
      const key = kemPublic.get(ek, () => publicKey('ML-KEM-768', ek));
      const { sharedKey, ciphertext } = c.encapsulate!(key);
      return { cipherText: copy(ciphertext), sharedSecret: copy(sharedKey) };
    },
    decapsulate(cipherText: Uint8Array, dk: Uint8Array): Uint8Array {
      requireBytes(cipherText, 'cipherText', ML_KEM_768.cipherTextLength);
      requireBytes(dk, 'secretKey', KEM_SECRET_KEY_LENGTH);
      const key = kemPrivate.get(dk, () => {
        // FIPS 203 §7.3 hash check: dk = dk_PKE ‖ ek ‖ H(ek) ‖ z.
        const ek = dk.subarray(1152, 1152 + ML_KEM_768.publicKeyLength);
        if (!equalBytes(sha3_256(ek), dk.subarray(2336, 2368))) throw new RangeError('"secretKey" fails the FIPS 203 hash check');
        return privateKey(KEM_EXPANDED_PKCS8, dk);
      });
      return copy(c.decapsulate!(key, der(cipherText)));
    },
  });

  const mlDsa65: MlDsa65 = Object.freeze({
    name: 'native',
    keygen: (seed: Uint8Array): KeyPair => dsaPair(seed),
    sign(message: Uint8Array, secretKey: Uint8Array, opts: SignOptions = {}) {
      requireBytes(message, 'message');
      requireBytes(secretKey, 'secretKey');
      const { context, randomness } = opts;
      if (context !== undefined) {
        requireBytes(context, 'context');
        if (context.length > ML_DSA_65.maxContextLength) {
          throw new RangeError(`"context" must be ${ML_DSA_65.maxContextLength} bytes or less`);
        }
      }
      // OpenSSL through Node signs hedged only; caller-given rnd (or deterministic) goes to noble.
      if (randomness !== undefined) return nobleProvider.mlDsa65.sign(message, secretKey, opts);
      if (secretKey.length !== DSA_SECRET_KEY_LENGTH) {
        throw new RangeError(`"secretKey" must be ${DSA_SECRET_KEY_LENGTH} bytes, got ${secretKey.length}`);
      }
      const key = dsaPrivate.get(secretKey, () => {
        checkDsaSecretKey(secretKey); // OpenSSL accepts some keys FIPS 204 skDecode refuses
        return privateKey(DSA_EXPANDED_PKCS8, secretKey);
      });
      const signature = c.sign(null, der(message), context && context.length > 0 ? { key, context: der(context) } : key);
      return copy(signature);
    },
    verify(signature: Uint8Array, message: Uint8Array, pk: Uint8Array, opts: { context?: Uint8Array } = {}) {
      try {
        const { context } = opts;
        if (!isVerifiable(signature, message, pk, context)) return false;
        const key = dsaPublic.get(pk, () => publicKey('ML-DSA-65', pk));
        return c.verify(null, der(message), context && context.length > 0 ? { key, context: der(context) } : key, der(signature));
      } catch {
        return false;
      }
    },
  });

  // HPKE's AEAD (RFC 9180 0x0002) without WebCrypto's async importKey/encrypt (~100 µs a call).
  const GCM = { authTagLength: 16 } as const;
  const aes256Gcm: Aes256Gcm = Object.freeze({
    seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
      const cipher = c.createCipheriv('aes-256-gcm', key, nonce, GCM);
      cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      const tag = cipher.getAuthTag();
      const out = new Uint8Array(head.length + tail.length + tag.length);
      out.set(head);
      out.set(tail, head.length);
      out.set(tag, head.length + tail.length);
      return out;
    },
    open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
      if (ciphertext.length < 16) throw new RangeError('ciphertext is shorter than the GCM tag');
      const decipher = c.createDecipheriv('aes-256-gcm', key, nonce, GCM);
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      const head = decipher.update(ciphertext.subarray(0, ciphertext.length - 16));
      const tail = decipher.final(); // throws when the tag does not verify
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      head.fill(0);
      return out;
    },
  });

  // HPKE's HKDF (RFC 9180 0x0001) is five HMAC-SHA256 calls per message; OpenSSL's are cheaper than noble's.
  function hmacSha256(key: Uint8Array, ...messages: Uint8Array[]): Uint8Array {
    const mac = c.createHmac('sha256', key);
    for (const m of messages) mac.update(m);
    return copy(mac.digest());
  }

  return {
    provider: Object.freeze({ name: 'native', mlKem768, mlDsa65, aes256Gcm, hmacSha256 }),
    kemPair,
    dsaPair,
  };
}

let probed: PrimitiveProvider | null | undefined;

/**
 * The native provider if this runtime's `node:crypto` really does ML-KEM-768 and ML-DSA-65,
 * else `undefined`. Probed once per process, with noble as the reference: fixed-seed keys give
 * noble's public keys; an encapsulation decapsulates to the same secret with the key built from
 * the seed and with noble's expanded key imported; a signature from each verifies; HMAC gives
 * noble's bytes. About 10-20 ms, most of it noble's.
 */
export function nativeProvider(): PrimitiveProvider | undefined {
  if (probed !== undefined) return probed ?? undefined;
  probed = null;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const c = typeof getBuiltin === 'function' ? (getBuiltin('node:crypto') as NodeCrypto | undefined) : undefined;
  if (!c || typeof c.encapsulate !== 'function' || typeof c.decapsulate !== 'function') return undefined;
  try {
    const built = build(c);
    const { provider } = built;
    const kemSeed = new Uint8Array(64).fill(7);
    const dsaSeed = new Uint8Array(32).fill(9);
    const nobleKem = nobleProvider.mlKem768.keygen(kemSeed);
    const nobleDsa = nobleProvider.mlDsa65.keygen(dsaSeed);
    // The pairs use noble's expanded keys (copies: those arrays must not be registered twice).
    const kem = built.kemPair(kemSeed, nobleKem.secretKey.slice());
    const dsa = built.dsaPair(dsaSeed, nobleDsa.secretKey.slice());
    if (!equalBytes(kem.publicKey, nobleKem.publicKey) || !equalBytes(dsa.publicKey, nobleDsa.publicKey)) return undefined;
    const { cipherText, sharedSecret } = provider.mlKem768.encapsulate(kem.publicKey);
    if (!equalBytes(provider.mlKem768.decapsulate(cipherText, kem.secretKey), sharedSecret)) return undefined; // key from the seed
    if (!equalBytes(provider.mlKem768.decapsulate(cipherText, nobleKem.secretKey), sharedSecret)) return undefined; // expanded key imported
    if (!equalBytes(nobleProvider.mlKem768.decapsulate(cipherText, nobleKem.secretKey), sharedSecret)) return undefined;
    const message = Uint8Array.of(1, 2, 3);
    for (const secretKey of [dsa.secretKey, nobleDsa.secretKey]) {
      if (!nobleProvider.mlDsa65.verify(provider.mlDsa65.sign(message, secretKey), message, dsa.publicKey)) return undefined;
    }
    if (!provider.mlDsa65.verify(nobleProvider.mlDsa65.sign(message, nobleDsa.secretKey), message, dsa.publicKey)) return undefined;
    const mac = provider.hmacSha256!(kemSeed, message, dsaSeed);
    if (!equalBytes(mac, hmac(sha256, kemSeed, cat(message, dsaSeed)))) return undefined;
    probed = provider;
    return provider;
  } catch {
    return undefined;
  }
}
