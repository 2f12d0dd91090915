/**
 * The `wasm` provider: ML-KEM-768 and ML-DSA-65 from liboqs compiled to WebAssembly
 * (`@oqs/liboqs-js`, the Open Quantum Safe project's own build; ML-KEM from mlkem-native,
 * ML-DSA from mldsa-native). Opt-in: `@oqs/liboqs-js` is an optional peer dependency, loaded by a
 * dynamic import only when `wasmProvider()` is called, so users who do not opt in download
 * nothing. Each algorithm is one ~60 KB JavaScript file with the WebAssembly inlined.
 *
 * liboqs-js exposes only the randomized entry points (`OQS_KEM_keypair`, `OQS_KEM_encaps`,
 * `OQS_SIG_sign`), and liboqs draws every random byte through one function. To run the
 * derandomized algorithms the interface needs (keygen from a seed, encapsulation with m, signing
 * with rnd), the provider lends that function a tape of exactly the bytes FIPS 203/204 take
 * (d‖z, m, ξ, rnd) for the duration of one synchronous call, then checks that exactly the whole
 * tape was read; anything else throws and the result is discarded. Outside those calls liboqs
 * reads the platform CSPRNG as usual.
 *
 * Not exposed by liboqs-js, so done by noble (same bytes): ML-DSA signing and verification with a
 * non-empty context string. Encapsulation key and decapsulation key checks (FIPS 203 §7.2/§7.3)
 * are done by liboqs; the official vectors prove the two agree (test/crypto/vectors.test.ts runs
 * them per provider, test/providers/cross.test.ts crosses providers). In browser bundles pass the
 * Emscripten factories to `wasmProvider()` (docs/performance.md, bench/browser/wasm-worker.ts).
 * @module
 */
import { checkDsaSecretKey, trustDsaSecretKey } from './checks.js';
import {
  isVerifiable,
  ML_DSA_65,
  ML_KEM_768,
  nobleProvider,
  requireBytes,
  type KeyPair,
  type MlDsa65,
  type MlKem768,
  type PrimitiveProvider,
} from '../primitives.js';

/** The parts of an Emscripten liboqs module (one algorithm per module) that this file uses. */
export interface OqsModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _OQS_init(): void;
  stringToUTF8(text: string, ptr: number, max: number): void;
  _OQS_KEM_new?(namePtr: number): number;
  _OQS_KEM_keypair?(kem: number, pk: number, sk: number): number;
  _OQS_KEM_encaps?(kem: number, ct: number, ss: number, pk: number): number;
  _OQS_KEM_decaps?(kem: number, ss: number, ct: number, sk: number): number;
  _OQS_SIG_new?(namePtr: number): number;
  _OQS_SIG_keypair?(sig: number, pk: number, sk: number): number;
  _OQS_SIG_sign?(sig: number, out: number, outLen: number, msg: number, msgLen: number, sk: number): number;
  _OQS_SIG_verify?(sig: number, msg: number, msgLen: number, signature: number, sigLen: number, pk: number): number;
}
/** Emscripten factories: `dist/ml-kem-768.min.js` and `dist/ml-dsa-65.min.js` of @oqs/liboqs-js. */
export interface OqsFactories {
  mlKem768: () => Promise<OqsModule>;
  mlDsa65: () => Promise<OqsModule>;
}

type Fill = (bytes: Uint8Array) => Uint8Array;

/**
 * Where Emscripten's runtime reads random bytes: `crypto.getRandomValues` in browsers and
 * workers, `node:crypto`'s `randomFillSync` in Node. Returns a function that runs `fn` with the
 * source replaced by `tape`.
 */
function tapeRunner(): <T>(tape: Uint8Array, fn: () => T) => T {
  const getBuiltin = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  const nodeCrypto =
    getBuiltin?.versions?.node && typeof getBuiltin.getBuiltinModule === 'function'
      ? (getBuiltin.getBuiltinModule('node:crypto') as { randomFillSync: Fill })
      : undefined;
  const host: { randomFillSync?: Fill; getRandomValues?: Fill } = nodeCrypto ?? (globalThis.crypto as unknown as { getRandomValues: Fill });
  const slot = nodeCrypto ? 'randomFillSync' : 'getRandomValues';
  return <T>(tape: Uint8Array, fn: () => T): T => {
    let offset = 0;
    let overrun = false;
    const fake: Fill = (bytes) => {
      if (offset + bytes.length > tape.length) {
        overrun = true;
        throw new Error('liboqs asked for more randomness than the algorithm takes');
      }
      bytes.set(tape.subarray(offset, offset + bytes.length));
      offset += bytes.length;
      return bytes;
    };
    const own = Object.hasOwn(host, slot);
    const previous = host[slot];
    host[slot] = fake;
    let result: T;
    try {
      result = fn();
    } finally {
      if (own) host[slot] = previous;
      else delete host[slot];
    }
    if (overrun || offset !== tape.length) throw new Error(`liboqs read ${offset} of ${tape.length} bytes of given randomness`);
    return result;
  };
}

const KEM_SECRET_KEY_LENGTH = ML_KEM_768.secretKeyLength;
const DSA_SECRET_KEY_LENGTH = ML_DSA_65.secretKeyLength;
const ZERO_RND = new Uint8Array(32);

/** Calls into one module with fixed scratch buffers (JavaScript is single-threaded per module). */
class Heap {
  readonly #m: OqsModule;
  constructor(m: OqsModule) {
    this.#m = m;
  }
  alloc(size: number): number {
    const ptr = this.#m._malloc(Math.max(size, 1));
    if (!ptr) throw new Error('liboqs: out of WebAssembly memory');
    return ptr;
  }
  /** The heap view is re-read on every access: it is replaced when memory grows. */
  write(ptr: number, bytes: Uint8Array): void {
    this.#m.HEAPU8.set(bytes, ptr);
  }
  read(ptr: number, length: number): Uint8Array {
    return this.#m.HEAPU8.slice(ptr, ptr + length);
  }
  wipe(ptr: number, length: number): void {
    this.#m.HEAPU8.fill(0, ptr, ptr + length);
  }
  instance(kind: 'KEM' | 'SIG', name: string): number {
    const namePtr = this.alloc(name.length + 1);
    this.#m.stringToUTF8(name, namePtr, name.length + 1);
    const ptr = kind === 'KEM' ? this.#m._OQS_KEM_new!(namePtr) : this.#m._OQS_SIG_new!(namePtr);
    this.#m._free(namePtr);
    if (!ptr) throw new Error(`liboqs: ${name} is not in this build`);
    return ptr;
  }
}

function build(kemModule: OqsModule, sigModule: OqsModule): PrimitiveProvider {
  const withTape = tapeRunner();
  kemModule._OQS_init();
  sigModule._OQS_init();
  const k = new Heap(kemModule);
  const s = new Heap(sigModule);
  const kem = k.instance('KEM', 'ML-KEM-768');
  const sig = s.instance('SIG', 'ML-DSA-65');
  const kPk = k.alloc(ML_KEM_768.publicKeyLength);
  const kSk = k.alloc(KEM_SECRET_KEY_LENGTH);
  const kCt = k.alloc(ML_KEM_768.cipherTextLength);
  const kSs = k.alloc(ML_KEM_768.sharedSecretLength);
  const sPk = s.alloc(ML_DSA_65.publicKeyLength);
  const sSk = s.alloc(DSA_SECRET_KEY_LENGTH);
  const sSig = s.alloc(ML_DSA_65.signatureLength);
  const sLen = s.alloc(8);
  let sMsg = s.alloc(4096);
  let sMsgSize = 4096;
  const message = (bytes: Uint8Array): number => {
    if (bytes.length > sMsgSize) {
      sigModule._free(sMsg);
      sMsgSize = bytes.length;
      sMsg = s.alloc(sMsgSize);
    }
    s.write(sMsg, bytes);
    return sMsg;
  };
  const check = (rc: number, what: string) => {
    if (rc !== 0) throw new RangeError(`liboqs ${what} failed (${rc})`);
  };

  const mlKem768: MlKem768 = Object.freeze({
    name: 'wasm',
    keygen(seed: Uint8Array): KeyPair {
      requireBytes(seed, 'seed', ML_KEM_768.seedLength);
      try {
        check(
          withTape(seed, () => kemModule._OQS_KEM_keypair!(kem, kPk, kSk)),
          'ML-KEM keypair',
        ); // reads d‖z in one call
        return { publicKey: k.read(kPk, ML_KEM_768.publicKeyLength), secretKey: k.read(kSk, KEM_SECRET_KEY_LENGTH) };
      } finally {
        k.wipe(kSk, KEM_SECRET_KEY_LENGTH);
      }
    },
    encapsulate(publicKey: Uint8Array, randomness?: Uint8Array) {
      requireBytes(publicKey, 'publicKey', ML_KEM_768.publicKeyLength);
      if (randomness !== undefined) requireBytes(randomness, 'randomness', 32);
      k.write(kPk, publicKey);
      // liboqs runs the FIPS 203 §7.2 modulus check and fails on a bad key.
      const run = () => kemModule._OQS_KEM_encaps!(kem, kCt, kSs, kPk);
      try {
        check(randomness === undefined ? run() : withTape(randomness, run), 'ML-KEM encapsulation (invalid encapsulation key?)');
        return { cipherText: k.read(kCt, ML_KEM_768.cipherTextLength), sharedSecret: k.read(kSs, ML_KEM_768.sharedSecretLength) };
      } finally {
        k.wipe(kSs, ML_KEM_768.sharedSecretLength);
      }
    },
    decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
      requireBytes(cipherText, 'cipherText', ML_KEM_768.cipherTextLength);
      requireBytes(secretKey, 'secretKey', KEM_SECRET_KEY_LENGTH);
      k.write(kCt, cipherText);
      k.write(kSk, secretKey);
      try {
        // FIPS 203 §7.3 hash check inside; a wrong ciphertext gives the implicit-rejection key.
        check(kemModule._OQS_KEM_decaps!(kem, kSs, kCt, kSk), 'ML-KEM decapsulation (invalid decapsulation key?)');
        return k.read(kSs, ML_KEM_768.sharedSecretLength);
      } finally {
        k.wipe(kSk, KEM_SECRET_KEY_LENGTH);
        k.wipe(kSs, ML_KEM_768.sharedSecretLength);
      }
    },
  });

  const mlDsa65: MlDsa65 = Object.freeze({
    name: 'wasm',
    keygen(seed: Uint8Array): KeyPair {
      requireBytes(seed, 'seed', ML_DSA_65.seedLength);
      try {
        check(
          withTape(seed, () => sigModule._OQS_SIG_keypair!(sig, sPk, sSk)),
          'ML-DSA keypair',
        );
        const pair = { publicKey: s.read(sPk, ML_DSA_65.publicKeyLength), secretKey: s.read(sSk, DSA_SECRET_KEY_LENGTH) };
        trustDsaSecretKey(pair.secretKey);
        return pair;
      } finally {
        s.wipe(sSk, DSA_SECRET_KEY_LENGTH);
      }
    },
    sign(msg: Uint8Array, secretKey: Uint8Array, opts: { context?: Uint8Array; randomness?: Uint8Array | false } = {}) {
      requireBytes(msg, 'message');
      requireBytes(secretKey, 'secretKey');
      const { context, randomness } = opts;
      // liboqs-js exports no context entry point: a non-empty context is signed by noble.
      if (context !== undefined && context.length > 0) return nobleProvider.mlDsa65.sign(msg, secretKey, opts);
      if (randomness !== undefined && randomness !== false) requireBytes(randomness, 'randomness', 32);
      if (secretKey.length !== DSA_SECRET_KEY_LENGTH) {
        throw new RangeError(`"secretKey" must be ${DSA_SECRET_KEY_LENGTH} bytes, got ${secretKey.length}`);
      }
      checkDsaSecretKey(secretKey);
      const msgPtr = message(msg);
      s.write(sSk, secretKey);
      const run = () => sigModule._OQS_SIG_sign!(sig, sSig, sLen, msgPtr, msg.length, sSk);
      try {
        check(
          randomness === undefined ? run() : withTape(randomness === false ? ZERO_RND : randomness, run),
          'ML-DSA sign (invalid secret key?)',
        );
        return s.read(sSig, ML_DSA_65.signatureLength);
      } finally {
        s.wipe(sSk, DSA_SECRET_KEY_LENGTH);
      }
    },
    verify(signature: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, opts: { context?: Uint8Array } = {}) {
      try {
        const { context } = opts;
        if (!isVerifiable(signature, msg, publicKey, context)) return false;
        if (context !== undefined && context.length > 0) return nobleProvider.mlDsa65.verify(signature, msg, publicKey, opts);
        const msgPtr = message(msg);
        s.write(sSig, signature);
        s.write(sPk, publicKey);
        return sigModule._OQS_SIG_verify!(sig, msgPtr, msg.length, sSig, ML_DSA_65.signatureLength, sPk) === 0;
      } catch {
        return false;
      }
    },
  });

  return Object.freeze({ name: 'wasm', mlKem768, mlDsa65 });
}

/** Node (and runtimes with `import.meta.resolve`): the two dist files of the installed package. */
function defaultFactories(): OqsFactories {
  const load = async (file: string): Promise<OqsModule> => {
    const specifier = '@oqs/liboqs-js';
    const entry = import.meta.resolve(specifier); // src/index.js; the dist files are not in its exports map
    const factory = ((await import(/* @vite-ignore */ new URL(`../dist/${file}`, entry).href)) as { default: () => Promise<OqsModule> })
      .default;
    return factory();
  };
  return { mlKem768: () => load('ml-kem-768.min.js'), mlDsa65: () => load('ml-dsa-65.min.js') };
}

let loading: Promise<PrimitiveProvider> | undefined;

/**
 * Loads liboqs and returns the wasm provider (cached per process). In Node the installed
 * `@oqs/liboqs-js` is found by itself; in a browser bundle pass the two factories, e.g.
 * `{ mlKem768: () => import('…/dist/ml-kem-768.min.js').then((m) => m.default()), … }` (see
 * docs/performance.md), because the package's own loader builds its import paths at run time,
 * which bundlers cannot follow. Rejects when the package is missing or WebAssembly cannot run; a
 * failed load is retried by the next call.
 */
export function wasmProvider(factories?: OqsFactories): Promise<PrimitiveProvider> {
  if (factories) return Promise.all([factories.mlKem768(), factories.mlDsa65()]).then(([kem, sig]) => build(kem, sig));
  loading ??= (async () => {
    const { mlKem768, mlDsa65 } = defaultFactories();
    const [kem, sig] = await Promise.all([mlKem768(), mlDsa65()]);
    return build(kem, sig);
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}
