/**
 * The engine: `(caller, operation, request) -> Envelope`, independent of runtime and store. The
 * in-process local backend, the Worker and the HTTP server all call `execute`, so all of them
 * validate, fail and answer the same way.
 *
 * `execute` never throws: an API outcome becomes an error envelope with its spec code, and
 * anything unexpected becomes ERR_INTERNAL_001 with a fixed message (no stack, no key material);
 * the original error goes to `onError` for the host to log as it sees fit.
 * @module
 */
import { ALGORITHMS, MAX_KEY_VERSION, algorithmsFor, factsOf, type Algorithm } from '../contract/algorithms.js';
import { errorEnvelope, successEnvelope, type Envelope } from '../contract/envelope.js';
import { OPERATIONS, type OperationName } from '../contract/operations.js';
import { DEFAULT_LIMITS, describeIssues, requestSchemas, type Limits, type Requests, type Responses } from '../contract/schemas.js';
import { bytesToBase64, decodeCheckedBase64 } from '../encoding.js';
import { NotFoundError, QpherError, ValidationError } from '../errors.js';
import { type CiphertextKem, deriveDeterministicRandomness, parseHeader } from '../crypto/format.js';
import { nobleProvider, type PrimitiveProvider } from '../crypto/primitives.js';
import type { KeyStore, StoredKey } from '../stores/keystore.js';
import { assertStoreCanKeepKeys } from '../backends/keeps-keys.js';
import { keyInfo } from './key-info.js';
import { KeyMaterial } from './key-material.js';
import { InlineCryptoRunner } from './inline-crypto-runner.js';
import type { CryptoRunner } from './crypto-runner.js';
import type { RawContext } from './raw-operations.js';
import * as lifecycle from './lifecycle.js';
import { aesGcmSeedWrapper, ephemeralSeedWrapper, type SeedWrapper } from './seed-wrapper.js';
import type { Argon2idParams } from '../crypto/backup.js';

/** Who is calling: keyrings are namespaced by tenant, and no tenant sees another's keys. */
export interface Caller {
  tenant: string;
}

export interface EngineOptions {
  /** Where keyrings live. Default: a new MemoryKeyStore. */
  store?: KeyStore;
  /**
   * Encrypts seeds at rest. Default: AES-256-GCM under the store's `wrappingKey()` when it has
   * one, else under a non-extractable key of this process, which only an `ephemeral` store (or
   * none) may use: any other store without a wrapper is a TypeError (keys would not survive).
   */
  wrapper?: SeedWrapper;
  provider?: PrimitiveProvider;
  /**
   * Where seal/open/sign/verify run (the server passes its worker-thread pool). Key generation
   * and everything else stays here. Default: an InlineCryptoRunner on this thread with `provider`.
   */
  crypto?: CryptoRunner;
  limits?: Partial<Limits>;
  /** Argon2id cost of the backups `kms.export` writes. Default DEFAULT_KDF_PARAMS (docs/backup.md). */
  backupKdf?: Argon2idParams;
  now?: () => Date;
  /**
   * Versions a keyring of one (tenant, algorithm) may hold; past it generate and rotate are 403
   * ERR_FORBIDDEN_001 naming the cap. Default DEFAULT_MAX_KEY_VERSIONS (10,000).
   */
  maxKeyVersions?: number;
  /** Sees unexpected errors (never API outcomes), so the host can log them its own way. */
  onError?: (error: unknown, operation: string) => void;
}

type Handlers = { [K in OperationName]: (caller: Caller, request: Requests[K]) => Promise<Responses[K]> };

export class Engine {
  readonly store: KeyStore;
  readonly provider: PrimitiveProvider;
  readonly limits: Limits;
  readonly maxKeyVersions: number;
  readonly #schemas: ReturnType<typeof requestSchemas>;
  readonly #keys: KeyMaterial;
  readonly #wrapper: SeedWrapper;
  readonly #backupKdf: Argon2idParams | undefined;
  readonly #crypto: CryptoRunner;
  readonly #now: () => Date;
  readonly #onError: (error: unknown, operation: string) => void;
  /** What the raw operations' handlers may use of this engine. */
  readonly #raw: RawContext;

  private constructor(options: EngineOptions, store: KeyStore, wrapper: SeedWrapper) {
    this.store = store;
    this.provider = options.provider ?? nobleProvider;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const maxKeyVersions = options.maxKeyVersions ?? lifecycle.DEFAULT_MAX_KEY_VERSIONS;
    if (!Number.isInteger(maxKeyVersions) || maxKeyVersions < 1 || maxKeyVersions > MAX_KEY_VERSION) {
      throw new RangeError(`maxKeyVersions must be a whole number from 1 to ${MAX_KEY_VERSION}`);
    }
    this.maxKeyVersions = maxKeyVersions;
    this.#schemas = requestSchemas(this.limits);
    this.#keys = new KeyMaterial(wrapper, this.provider);
    this.#wrapper = wrapper;
    this.#backupKdf = options.backupKdf;
    this.#crypto = options.crypto ?? new InlineCryptoRunner(this.provider);
    this.#now = options.now ?? (() => new Date());
    this.#onError = options.onError ?? (() => {});
    this.#raw = { find: (caller, algorithm, version) => this.#find(caller, algorithm, version), keys: this.#keys, crypto: this.#crypto };
  }

  /** The provider that does this engine's per-request crypto (the pool's, when the server passes one). */
  get providerName(): string {
    return this.#crypto.provider;
  }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const { store, wrapper } = options;
    assertStoreCanKeepKeys(store, wrapper);
    // The default store loads on first need: the browser Worker brings its own (IndexedDB), so its
    // chunk does not carry this one (docs/bundles.md).
    const keys: KeyStore = store ?? new (await import('../stores/memory.js')).MemoryKeyStore();
    if (wrapper) return new Engine(options, keys, wrapper);
    if (keys.wrappingKey) return new Engine(options, keys, aesGcmSeedWrapper(await keys.wrappingKey()));
    return new Engine(options, keys, await ephemeralSeedWrapper());
  }

  async execute(caller: Caller, operation: string, request: unknown, requestId: string): Promise<Envelope> {
    try {
      if (!Object.hasOwn(OPERATIONS, operation)) throw new NotFoundError(`Unknown operation "${operation}"`);
      const data = await this.#run(caller, operation as OperationName, request);
      return successEnvelope(data, requestId, this.#now());
    } catch (error) {
      if (error instanceof QpherError) return errorEnvelope(error.code as never, error.message, requestId, this.#now());
      this.#onError(error, operation);
      return errorEnvelope('ERR_INTERNAL_001', 'Internal server error', requestId, this.#now());
    }
  }

  async #run<K extends OperationName>(caller: Caller, operation: K, request: unknown): Promise<Responses[K]> {
    const parsed = this.#schemas[operation].safeParse(request, { reportInput: true });
    if (!parsed.success) throw new ValidationError(describeIssues(parsed.error));
    const handler = this.#handlers[operation] as (caller: Caller, request: unknown) => Promise<Responses[K]>;
    return handler(caller, parsed.data);
  }

  readonly #handlers: Handlers = {
    'kem.encrypt': async (caller, req) => {
      const algorithm = req.algorithm ?? algorithmsFor('kem.encrypt')[0];
      const stored = await this.#find(caller, algorithm, req.key_version);
      lifecycle.assertUsable(stored, 'encrypt');
      const key = await this.#keys.ref(caller.tenant, algorithm, stored);
      const plaintext = decode(req.plaintext);
      const aad = req.aad === undefined ? new Uint8Array() : decode(req.aad);
      const deterministic = req.mode === 'deterministic';
      const ciphertext = await this.#crypto.seal(key, {
        keyVersion: stored.key_version,
        plaintext,
        aad,
        mode: deterministic ? 'deterministic' : 'standard',
        ...(deterministic
          ? { encapRandomness: deriveDeterministicRandomness(key.seed, decode(req.salt!), aad, plaintext, kemName(algorithm)) }
          : {}),
      });
      return { ciphertext: bytesToBase64(ciphertext), key_version: stored.key_version, algorithm };
    },

    'kem.decrypt': async (caller, req) => {
      const algorithm = req.algorithm ?? algorithmsFor('kem.decrypt')[0];
      // The named version must exist before anything about the ciphertext is looked at: a missing
      // version is 404 ERR_KEM_005 whatever the header says.
      const stored = await this.#find(caller, algorithm, req.key_version);
      const ciphertext = decode(req.ciphertext);
      const header = parseHeader(ciphertext);
      if (!header) throw new ValidationError('Decryption failed');
      if (header.keyVersion !== req.key_version) {
        throw new ValidationError(
          `Validation failed: ciphertext was encrypted with key_version ${header.keyVersion}, but key_version ${req.key_version} was given`,
        );
      }
      lifecycle.assertUsable(stored, 'decrypt');
      const key = await this.#keys.ref(caller.tenant, algorithm, stored);
      const aad = req.aad === undefined ? new Uint8Array() : decode(req.aad);
      try {
        const plaintext = await this.#crypto.open(key, { ciphertext, aad });
        return { plaintext: bytesToBase64(plaintext), key_version: stored.key_version, algorithm };
      } catch (error) {
        if (error instanceof QpherError) throw error; // the pool is busy or past the deadline: not a bad ciphertext
        // One way to fail: a wrong key, a wrong aad and tampered bytes are indistinguishable.
        throw new ValidationError('Decryption failed');
      }
    },

    'signature.sign': async (caller, req) => {
      const algorithm = req.algorithm ?? algorithmsFor('signature.sign')[0];
      const stored = await this.#find(caller, algorithm, req.key_version);
      lifecycle.assertUsable(stored, 'sign');
      const key = await this.#keys.ref(caller.tenant, algorithm, stored);
      const context = req.context === undefined ? undefined : decode(req.context);
      const signature = await this.#crypto.sign(key, decode(req.message), context);
      return { signature: bytesToBase64(signature), key_version: stored.key_version, algorithm };
    },

    'signature.verify': async (caller, req) => {
      const algorithm = req.algorithm ?? algorithmsFor('signature.verify')[0];
      const stored = await this.#find(caller, algorithm, req.key_version);
      lifecycle.assertUsable(stored, 'verify');
      const key = this.#keys.publicRef(caller.tenant, algorithm, stored);
      const context = req.context === undefined ? undefined : decode(req.context);
      const valid = await this.#crypto.verify(key, decode(req.signature), decode(req.message), context);
      return { valid, key_version: stored.key_version, algorithm };
    },

    // Raw KEM, key wrap and HashML-DSA: their handlers load on first use (./raw-operations.ts).
    'kem.encapsulate': async (caller, req) => (await rawOperations()).encapsulate(this.#raw, caller, req),
    'kem.decapsulate': async (caller, req) => (await rawOperations()).decapsulate(this.#raw, caller, req),
    'kem.wrapKey': async (caller, req) => (await rawOperations()).wrapKey(this.#raw, caller, req),
    'kem.unwrapKey': async (caller, req) => (await rawOperations()).unwrapKey(this.#raw, caller, req),
    'signature.signHash': async (caller, req) => (await rawOperations()).signHash(this.#raw, caller, req),
    'signature.verifyHash': async (caller, req) => (await rawOperations()).verifyHash(this.#raw, caller, req),

    'kms.generate': async (caller, req) => {
      const fresh = await this.#keys.create(caller.tenant, req.algorithm, this.#now());
      const change = lifecycle.generate(req.algorithm, fresh, this.maxKeyVersions);
      return keyInfo(req.algorithm, await this.store.update(caller.tenant, req.algorithm, change));
    },

    'kms.rotate': async (caller, req) => {
      const fresh = await this.#keys.create(caller.tenant, req.algorithm, this.#now());
      const change = lifecycle.rotate(req.algorithm, fresh, this.maxKeyVersions);
      const { created, retiredVersion } = await this.store.update(caller.tenant, req.algorithm, change);
      return { ...keyInfo(req.algorithm, created), old_key_version: retiredVersion ?? null };
    },

    'kms.retire': async (caller, req) => {
      const change = lifecycle.retire(req.key_version);
      return keyInfo(req.algorithm, await this.store.update(caller.tenant, req.algorithm, change, req.key_version));
    },

    'kms.archive': async (caller, req) => {
      const key = await this.store.update(caller.tenant, req.algorithm, lifecycle.archive(req.key_version), req.key_version);
      this.#keys.forget(caller.tenant, req.algorithm, req.key_version); // an archived seed is never needed again here
      return keyInfo(req.algorithm, key);
    },

    // Loads on first use (./list-keys.ts), like the raw operations.
    'kms.list': async (caller, req) => (await import('./list-keys.js')).listKeys(this.store, caller.tenant, req),

    'kms.active': async (caller, req) => {
      const active = await this.store.active(caller.tenant, req.algorithm);
      if (!active) throw new NotFoundError(`No active ${req.algorithm} key`);
      return keyInfo(req.algorithm, active);
    },

    'kms.get': async (caller, req) => keyInfo(req.algorithm, await this.#find(caller, req.algorithm, req.key_version)),

    'kms.export': async (caller, req) => {
      const { encodeBackup, readBackupKeys, wipeSeeds } = await loadBackups();
      const algorithms = req.algorithm === undefined ? ALGORITHMS : [req.algorithm];
      const keys = await readBackupKeys(this.store, caller.tenant, algorithms, await this.#seeds(caller));
      try {
        const backup = await encodeBackup(keys, req.passphrase, this.#backupKdf ? { kdf: this.#backupKdf } : {});
        return { backup, keys: keys.length };
      } finally {
        wipeSeeds(keys);
      }
    },

    'kms.import': async (caller, req) => {
      const { decodeBackup, importBackupKeys, wipeSeeds } = await loadBackups();
      // A wrong passphrase or any changed byte fails here, before a key ring is read (ERR_INVALID_001).
      const keys = await decodeBackup(req.backup, req.passphrase);
      try {
        return await importBackupKeys(this.store, caller.tenant, keys, await this.#seeds(caller));
      } finally {
        wipeSeeds(keys);
      }
    },
  };

  async #seeds(caller: Caller) {
    const { seedAccess } = await loadBackups();
    return seedAccess(this.#wrapper, caller.tenant, this.provider);
  }

  async #find(caller: Caller, algorithm: Algorithm, version: number): Promise<StoredKey> {
    return lifecycle.requireKey(await this.store.get(caller.tenant, algorithm, version));
  }
}

/**
 * The backup code (Argon2id, the format, the import rules), loaded on the first export or import:
 * a dynamic import, so the browser's Worker chunk does not carry it for apps that never back up.
 */
async function loadBackups() {
  const [backup, keyExport, keyImport] = await Promise.all([
    import('../crypto/backup.js'),
    import('./key-export.js'),
    import('./key-import.js'),
  ]);
  return {
    encodeBackup: backup.encodeBackup,
    decodeBackup: backup.decodeBackup,
    readBackupKeys: keyExport.readBackupKeys,
    wipeSeeds: keyExport.wipeSeeds,
    importBackupKeys: keyImport.importBackupKeys,
    seedAccess: keyImport.seedAccess,
  };
}

/** The ciphertext format's name of a KEM row (its standard name). */
function kemName(algorithm: Algorithm): CiphertextKem {
  return factsOf(algorithm).standard as CiphertextKem;
}

/** Decodes a field the schema already checked. */
const decode = decodeCheckedBase64;

/** The raw operations' handlers, loaded once on first use. */
const rawOperations = () => import('./raw-operations.js');
