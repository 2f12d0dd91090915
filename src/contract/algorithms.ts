/**
 * The algorithm table: every fact about an algorithm, once. Schemas, SPKI encoding, the
 * ciphertext format, HPKE, the engine, the providers' size constants and key material all read
 * their numbers, names and OIDs from a row here, so adding an algorithm is one row plus the code
 * of its primitive (a `PrimitiveProvider` member, src/crypto/primitives.ts).
 *
 * The wire keeps the REST API's names (`Kyber768`, `Dilithium3`); code and docs say what they
 * are: FIPS 203 ML-KEM-768 and FIPS 204 ML-DSA-65, the final standards.
 *
 * Free of zod and crypto: the facade and the remote backend import this module.
 * @module
 */
import type { OperationName } from './operations.js';

const KMS_OPERATIONS = ['kms.generate', 'kms.list', 'kms.active', 'kms.get', 'kms.rotate', 'kms.retire', 'kms.archive'] as const;

interface CommonFacts {
  /** The name on the wire (request and response bodies, stores, seed bindings). */
  readonly wire: string;
  /** The standard's name, as SPKI decoding reports it. */
  readonly standard: string;
  /** Dotted OID of the SPKI AlgorithmIdentifier (parameters absent). */
  readonly oid: string;
  /**
   * The DER SubjectPublicKeyInfo up to the raw public key, in hex: SEQUENCE, AlgorithmIdentifier
   * and the BIT STRING header with 0 unused bits. With a fixed key length DER makes it constant.
   */
  readonly spkiPrefix: string;
  /**
   * What implements it (src/crypto/algorithm-primitives.ts): a `PrimitiveProvider` member
   * (`mlKem768`, `mlDsa65`), or a hybrid loaded on first use (`xWing`: src/crypto/xwing.ts;
   * `compositeMlDsa65`: src/crypto/composite-ml-dsa.ts, whose ML-DSA half is the provider's).
   */
  readonly primitive: 'mlKem768' | 'mlDsa65' | 'xWing' | 'compositeMlDsa65';
  /** The operations that accept a key of this algorithm. */
  readonly operations: readonly OperationName[];
}

export interface KemFacts extends CommonFacts {
  readonly kind: 'kem';
  readonly sizes: {
    readonly publicKey: number;
    /** What the key stores keep (the private key form). */
    readonly seed: number;
    /** The expanded decapsulation key a provider's keygen returns. */
    readonly secretKey: number;
    /** The KEM ciphertext (HPKE `enc`). */
    readonly ciphertext: number;
    readonly sharedSecret: number;
    /** Encapsulation randomness (deterministic mode derives this many bytes). */
    readonly encapRandomness: number;
  };
  /** RFC 9180 KEM identifier (the suite_id's kem_id). */
  readonly hpkeKemId: number;
  /** Ciphertext format version (docs/format.md): 1 has a 6-byte header, 2 an 8-byte one naming the KEM. */
  readonly formatVersion: 1 | 2;
}

export interface SignatureFacts extends CommonFacts {
  readonly kind: 'signature';
  readonly sizes: {
    readonly publicKey: number;
    readonly seed: number;
    readonly secretKey: number;
    /** Largest signature. */
    readonly signature: number;
    /** Shortest signature (equal to `signature` when the length is fixed). */
    readonly minSignature: number;
    /** Largest signing context. */
    readonly context: number;
  };
  /**
   * The pre-hash functions `signature/sign-hash` and `verify-hash` accept for a key of this row
   * (empty when the row does not list those operations).
   */
  readonly hashAlgorithms: readonly ('SHA-256' | 'SHA-384' | 'SHA-512')[];
}

export type AlgorithmFacts = KemFacts | SignatureFacts;

export const ALGORITHM_TABLE = {
  Kyber768: {
    wire: 'Kyber768',
    standard: 'ML-KEM-768',
    kind: 'kem',
    // FIPS 203 Table 3; the seed is d‖z (§7.1); dk = dk_PKE ‖ ek ‖ H(ek) ‖ z.
    // m is 32 bytes (FIPS 203 Algorithm 17).
    sizes: { publicKey: 1184, seed: 64, secretKey: 2400, ciphertext: 1088, sharedSecret: 32, encapRandomness: 32 },
    // id-alg-ml-kem-768 (draft-ietf-lamps-kyber-certificates §4)
    oid: '2.16.840.1.101.3.4.4.2',
    spkiPrefix: '308204b2300b0609608648016503040402038204a100',
    hpkeKemId: 0x0041, // draft-ietf-hpke-pq §8.1
    formatVersion: 1,
    primitive: 'mlKem768',
    operations: ['kem.encrypt', 'kem.decrypt', 'kem.encapsulate', 'kem.decapsulate', 'kem.wrapKey', 'kem.unwrapKey', ...KMS_OPERATIONS],
  },
  Dilithium3: {
    wire: 'Dilithium3',
    standard: 'ML-DSA-65',
    kind: 'signature',
    // FIPS 204 Table 2; the seed is ξ (§5.1); contexts are at most 255 bytes (§5.2).
    sizes: { publicKey: 1952, seed: 32, secretKey: 4032, signature: 3309, minSignature: 3309, context: 255 },
    // id-ml-dsa-65 (RFC 9881 §2)
    oid: '2.16.840.1.101.3.4.3.18',
    spkiPrefix: '308207b2300b0609608648016503040312038207a100',
    primitive: 'mlDsa65',
    // HashML-DSA (FIPS 204 §5.4) with any approved hash; src/crypto/hash-algorithms.ts has their OIDs.
    hashAlgorithms: ['SHA-256', 'SHA-384', 'SHA-512'],
    operations: ['signature.sign', 'signature.verify', 'signature.signHash', 'signature.verifyHash', ...KMS_OPERATIONS],
  },
  'X-Wing': {
    wire: 'X-Wing',
    standard: 'X-Wing',
    kind: 'kem',
    // draft-connolly-cfrg-xwing-kem-10 §2/§5: pk = pk_M(1184) ‖ pk_X(32), ct = ct_M(1088) ‖ ct_X(32);
    // the private key is the 32-byte seed itself (expanded by SHAKE256 on use); eseed is 64 bytes.
    // secretKey: the seed's expansion kept by key caches, sk_M (2400) ‖ sk_X (32) ‖ pk_X (32) (src/crypto/xwing.ts).
    sizes: { publicKey: 1216, seed: 32, secretKey: 2464, ciphertext: 1120, sharedSecret: 32, encapRandomness: 64 },
    // id-XWing (draft-connolly-cfrg-xwing-kem §7)
    oid: '1.3.6.1.4.1.62253.25722',
    spkiPrefix: '308204d4300d060b2b0601040183e62d81c87a038204c100',
    hpkeKemId: 0x647a, // draft-connolly-cfrg-xwing-kem §6 (MLKEM768-X25519)
    formatVersion: 2,
    primitive: 'xWing',
    operations: ['kem.encrypt', 'kem.decrypt', 'kem.encapsulate', 'kem.decapsulate', 'kem.wrapKey', 'kem.unwrapKey', ...KMS_OPERATIONS],
  },
  'Composite-ML-DSA': {
    wire: 'Composite-ML-DSA',
    standard: 'MLDSA65-ECDSA-P256-SHA512',
    kind: 'signature',
    // draft-ietf-lamps-pq-composite-sigs-19: pk = ML-DSA-65 pk (1952) ‖ uncompressed P-256 point (65);
    // signature = ML-DSA-65 signature (3309) ‖ DER ECDSA P-256 (8..72 bytes); one 32-byte seed
    // derives both halves (src/crypto/composite-ml-dsa.ts), and it is the private key. secretKey: the
    // derived halves kept by key caches, expanded ML-DSA-65 key (4032) ‖ P-256 scalar (32).
    sizes: { publicKey: 2017, seed: 32, secretKey: 4032 + 32, signature: 3309 + 72, minSignature: 3309 + 8, context: 255 },
    // id-MLDSA65-ECDSA-P256-SHA512 (draft-ietf-lamps-pq-composite-sigs §7)
    oid: '1.3.6.1.5.5.7.6.45',
    spkiPrefix: '308207f2300a06082b0601050507062d038207e200',
    primitive: 'compositeMlDsa65',
    // The draft's own pre-hash: M′ ends with SHA-512(M), so a caller's SHA-512 digest signs M itself.
    hashAlgorithms: ['SHA-512'],
    operations: ['signature.sign', 'signature.verify', 'signature.signHash', 'signature.verifyHash', ...KMS_OPERATIONS],
  },
} as const satisfies Record<string, AlgorithmFacts>;

export type Algorithm = keyof typeof ALGORITHM_TABLE;
export const ALGORITHMS = Object.keys(ALGORITHM_TABLE) as [Algorithm, ...Algorithm[]];

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && Object.hasOwn(ALGORITHM_TABLE, value);
}

export function factsOf<A extends Algorithm>(algorithm: A): (typeof ALGORITHM_TABLE)[A] {
  return ALGORITHM_TABLE[algorithm];
}

/** The algorithms an operation accepts, in table order; the first is its default. */
export function algorithmsFor(operation: OperationName): [Algorithm, ...Algorithm[]] {
  const accepted = ALGORITHMS.filter((a) => (ALGORITHM_TABLE[a].operations as readonly string[]).includes(operation));
  if (accepted.length === 0) throw new Error(`no algorithm supports ${operation}`);
  return accepted as [Algorithm, ...Algorithm[]];
}

/** Rows of one kind, e.g. every KEM (for limits that must hold for all of them). */
export function factsOfKind<K extends AlgorithmFacts['kind']>(kind: K): Extract<AlgorithmFacts, { kind: K }>[] {
  const rows: readonly AlgorithmFacts[] = ALGORITHMS.map((a) => ALGORITHM_TABLE[a]);
  return rows.filter((f): f is Extract<AlgorithmFacts, { kind: K }> => f.kind === kind);
}

export const KEY_STATUSES = ['active', 'retired', 'archived'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** Largest key_version: versions are u32 in the ciphertext header. */
export const MAX_KEY_VERSION = 0xffff_ffff;

export function isKeyVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_KEY_VERSION;
}
