/**
 * HPKE (RFC 9180) base mode, single shot, for suites that differ only in the KEM (each KEM row of
 * the algorithm table, src/contract/algorithms.ts, gives its `hpkeKemId`):
 *   KEM  0x0041 ML-KEM-768 (draft-ietf-hpke-pq §3)        or
 *        0x647a X-Wing = MLKEM768-X25519 (draft-connolly-cfrg-xwing-kem §6, draft-ietf-hpke-pq)
 *   KDF  0x0001 HKDF-SHA256 (RFC 9180 §7.2)
 *   AEAD 0x0002 AES-256-GCM (RFC 9180 §7.3)
 *
 * draft-ietf-hpke-pq §3 maps the HPKE KEM interface straight onto FIPS 203: Encap is
 * ML-KEM.Encaps (enc = the 1088-byte ciphertext, shared_secret = the 32-byte K, no
 * ExtractAndExpand step as in DHKEM) and an encapsulation-key check failure is an EncapError;
 * Decap expands the 64-byte seed dk = d‖z with ML-KEM.KeyGen_internal and runs ML-KEM.Decaps.
 * The private key form of the draft (Nsk = 64) is the seed, so `hpkeOpen` accepts either that
 * seed or the provider's expanded decapsulation key. X-Wing is used the same way: enc = the
 * 1120-byte X-Wing ciphertext, shared_secret = the X-Wing shared secret, private key = the
 * 32-byte X-Wing seed (./xwing.ts, loaded on first use).
 *
 * Single shot means one message per context, sequence number 0, so the AEAD nonce is
 * base_nonce itself (RFC 9180 §5.2: nonce = base_nonce XOR I2OSP(0, Nn)). Sealing and opening
 * derive no exporter secret; `hpkeKeySchedule` / `hpkeExport` do, for the draft's vectors.
 *
 * AES-GCM comes from WebCrypto (or the provider's synchronous `aes256Gcm`, same bytes), HKDF's
 * HMAC from `@noble/hashes` (or the provider's `hmacSha256`, same bytes), so this runs in
 * browsers, workers and Node without `Buffer`.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { type ALGORITHM_TABLE, factsOfKind, type KemFacts } from '../contract/algorithms.js';
import { loadKem } from './algorithm-primitives.js';
import { nobleProvider, requireBytes, type PrimitiveProvider } from './primitives.js';

/** The KEMs this HPKE layer speaks: the standard names of the table's KEM rows. */
export type HpkeKem = Extract<(typeof ALGORITHM_TABLE)[keyof typeof ALGORITHM_TABLE], { kind: 'kem' }>['standard'];

const KEM_ROWS: ReadonlyMap<string, KemFacts> = new Map(factsOfKind('kem').map((f) => [f.standard, f]));

/** HPKE KEM ids by standard name, from the table (draft-ietf-hpke-pq §8.1, draft-connolly-cfrg-xwing-kem §6). */
export const HPKE_KEM_IDS = Object.fromEntries([...KEM_ROWS].map(([name, f]) => [name, f.hpkeKemId])) as Readonly<Record<HpkeKem, number>>;

/** The table row of a KEM named by its standard name; a TypeError for anything else. */
export function kemFacts(kem: unknown): KemFacts {
  const facts = typeof kem === 'string' ? KEM_ROWS.get(kem) : undefined;
  if (facts === undefined) throw new TypeError(`"kem" must be one of ${[...KEM_ROWS.keys()].map((k) => `'${k}'`).join(', ')}`);
  return facts;
}
const KDF_ID = 0x0001; // RFC 9180 §7.2, HKDF-SHA256
const AEAD_ID = 0x0002; // RFC 9180 §7.3, AES-256-GCM
const MODE_BASE = 0x00; // RFC 9180 §5.1, Table 1
const NK = 32; // AES-256-GCM key length
const NN = 12; // AES-GCM nonce length
/** AES-GCM's 16-byte tag, appended to every AEAD output. */
export const AEAD_TAG_LENGTH = 16;

const HPKE_V1 = utf8ToBytes('HPKE-v1');
const EMPTY = new Uint8Array(0);
const LABELS = {
  psk_id_hash: utf8ToBytes('psk_id_hash'),
  info_hash: utf8ToBytes('info_hash'),
  secret: utf8ToBytes('secret'),
  key: utf8ToBytes('key'),
  base_nonce: utf8ToBytes('base_nonce'),
  exp: utf8ToBytes('exp'),
  sec: utf8ToBytes('sec'),
};
const HASH_LENGTH = 32; // Nh of HKDF-SHA256

function i2osp2(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

/** RFC 9180 §5.1: suite_id = "HPKE" ‖ I2OSP(kem_id, 2) ‖ I2OSP(kdf_id, 2) ‖ I2OSP(aead_id, 2) */
export function hpkeSuiteId(kemId: number, kdfId: number, aeadId: number): Uint8Array {
  return concatBytes(utf8ToBytes('HPKE'), i2osp2(kemId), i2osp2(kdfId), i2osp2(aeadId));
}

const SUITE_IDS = new Map([...KEM_ROWS].map(([name, f]) => [name, hpkeSuiteId(f.hpkeKemId, KDF_ID, AEAD_ID)]));

type Hmac = (key: Uint8Array, ...messages: Uint8Array[]) => Uint8Array;

/** HMAC-SHA256 from `@noble/hashes`: the default when the provider brings none. */
function nobleHmac(key: Uint8Array, ...messages: Uint8Array[]): Uint8Array {
  const mac = hmac.create(sha256, key);
  for (const m of messages) mac.update(m);
  return mac.digest();
}

// HKDF (RFC 5869 §2.2, §2.3) written on HMAC so that each input part is fed as it is, without
// concatenating. Extract with an empty salt uses an empty HMAC key, which HMAC pads to the same
// block as HashLen zero bytes, so the result is RFC 5869's.
// RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm)
function labeledExtract(mac: Hmac, suiteId: Uint8Array, salt: Uint8Array, label: Uint8Array, ikm: Uint8Array): Uint8Array {
  return mac(salt, HPKE_V1, suiteId, label, ikm);
}

// RFC 9180 §4: LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L)
function labeledExpand(mac: Hmac, suiteId: Uint8Array, prk: Uint8Array, label: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let previous: Uint8Array = EMPTY;
  for (let i = 1, filled = 0; filled < length; i++) {
    const block = mac(prk, previous, i2osp2(length), HPKE_V1, suiteId, label, info, Uint8Array.of(i));
    out.set(block.subarray(0, Math.min(HASH_LENGTH, length - filled)), filled);
    filled += HASH_LENGTH;
    previous.fill(0);
    previous = block;
  }
  previous.fill(0);
  return out;
}

// psk_id_hash is the same for every message of mode_base under one suite, and info_hash for
// every message with the same suite and info (the ciphertext header, a handful of distinct
// values): both are public, so they are computed once each (a small bounded map).
const publicHashes = new Map<string, Uint8Array>();
const PUBLIC_HASHES = 64;

function publicHash(mac: Hmac, suiteId: Uint8Array, label: Uint8Array, input: Uint8Array): Uint8Array {
  if (input.length > 256) return labeledExtract(mac, suiteId, EMPTY, label, input);
  const id = String.fromCharCode.apply(null, [...suiteId, ...label, 0, ...input]);
  let found = publicHashes.get(id);
  if (found === undefined) {
    found = labeledExtract(mac, suiteId, EMPTY, label, input);
    if (publicHashes.size >= PUBLIC_HASHES) publicHashes.delete(publicHashes.keys().next().value!);
    publicHashes.set(id, found);
  }
  return found;
}

/**
 * RFC 9180 §5.1 KeySchedule for mode_base (psk = psk_id = "") with HKDF-SHA256, for any suite_id
 * and AEAD sizes. Sealing and opening use it with AES-256-GCM (Nk = 32, Nn = 12) and no exporter;
 * it is exported so the draft-ietf-hpke-pq vectors, which use other AEADs, can check it (and the
 * exporter secret).
 */
export function hpkeKeySchedule(args: {
  suiteId: Uint8Array;
  sharedSecret: Uint8Array;
  info: Uint8Array;
  nk: number;
  nn: number;
  provider?: PrimitiveProvider;
}): { key: Uint8Array; baseNonce: Uint8Array; exporterSecret: Uint8Array } {
  const { key, baseNonce, context, secret, mac } = schedule(args);
  const exporterSecret = labeledExpand(mac, args.suiteId, secret, LABELS.exp, context, HASH_LENGTH);
  secret.fill(0);
  return { key, baseNonce, exporterSecret };
}

/** RFC 9180 §5.3 Export with HKDF-SHA256: LabeledExpand(exporter_secret, "sec", exporter_context, L). */
export function hpkeExport(suiteId: Uint8Array, exporterSecret: Uint8Array, exporterContext: Uint8Array, length: number): Uint8Array {
  return labeledExpand(nobleHmac, suiteId, exporterSecret, LABELS.sec, exporterContext, length);
}

function schedule(args: {
  suiteId: Uint8Array;
  sharedSecret: Uint8Array;
  info: Uint8Array;
  nk: number;
  nn: number;
  provider?: PrimitiveProvider;
}) {
  const { suiteId, sharedSecret, info, nk, nn, provider } = args;
  const mac: Hmac = provider?.hmacSha256 ?? nobleHmac;
  const pskIdHash = publicHash(mac, suiteId, LABELS.psk_id_hash, EMPTY);
  const context = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, publicHash(mac, suiteId, LABELS.info_hash, info));
  const secret = labeledExtract(mac, suiteId, sharedSecret, LABELS.secret, EMPTY);
  const key = labeledExpand(mac, suiteId, secret, LABELS.key, context, nk);
  const baseNonce = labeledExpand(mac, suiteId, secret, LABELS.base_nonce, context, nn);
  return { key, baseNonce, context, secret, mac };
}

function keySchedule(
  kem: KemFacts,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  provider: PrimitiveProvider,
): { key: Uint8Array; baseNonce: Uint8Array } {
  const { key, baseNonce, secret } = schedule({ suiteId: SUITE_IDS.get(kem.standard)!, sharedSecret, info, nk: NK, nn: NN, provider });
  secret.fill(0);
  return { key, baseNonce };
}

/** WebCrypto wants ArrayBuffer-backed views; copy only when the input is backed by something else. */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

async function aesGcm(
  direction: 'encrypt' | 'decrypt',
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  data: Uint8Array,
  provider: PrimitiveProvider,
): Promise<Uint8Array> {
  const sync = provider.aes256Gcm;
  if (sync) {
    try {
      return direction === 'encrypt' ? sync.seal(key, nonce, aad, data) : sync.open(key, nonce, aad, data);
    } finally {
      key.fill(0);
      nonce.fill(0);
    }
  }
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) throw new TypeError('WebCrypto (globalThis.crypto.subtle) is required for AES-GCM');
  try {
    const cryptoKey = await subtle.importKey('raw', bufferSource(key), { name: 'AES-GCM' }, false, [direction]);
    const params: AesGcmParams = {
      name: 'AES-GCM',
      iv: bufferSource(nonce),
      additionalData: bufferSource(aad),
      tagLength: AEAD_TAG_LENGTH * 8,
    };
    const out =
      direction === 'encrypt'
        ? await subtle.encrypt(params, cryptoKey, bufferSource(data))
        : await subtle.decrypt(params, cryptoKey, bufferSource(data));
    return new Uint8Array(out);
  } finally {
    key.fill(0);
    nonce.fill(0);
  }
}

/**
 * RFC 9180 §6.1 SealBase: SetupBaseS + ContextS.Seal with sequence number 0. `kem` (a standard
 * name of a KEM row: 'ML-KEM-768', the default, or 'X-Wing') picks the suite; `encapRandomness`
 * is that row's `sizes.encapRandomness` bytes (m for ML-KEM-768, eseed for X-Wing).
 */
export async function hpkeSeal(args: {
  kem?: HpkeKem;
  publicKey: Uint8Array;
  info: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
  encapRandomness?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<{ enc: Uint8Array; ciphertext: Uint8Array }> {
  const { publicKey, info, aad, plaintext, encapRandomness, provider = nobleProvider } = args;
  const facts = kemFacts(args.kem ?? 'ML-KEM-768');
  requireBytes(publicKey, 'publicKey');
  requireBytes(info, 'info');
  requireBytes(aad, 'aad');
  requireBytes(plaintext, 'plaintext');
  if (publicKey.length !== facts.sizes.publicKey) {
    throw new RangeError(`"publicKey" must be ${facts.sizes.publicKey} bytes, got ${publicKey.length}`);
  }
  const kem = await loadKem(provider, facts);
  let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    encapsulated = kem.encapsulate(publicKey, encapRandomness);
  } catch (cause) {
    if (cause instanceof RangeError || cause instanceof TypeError) throw cause; // our own argument checks
    // draft-ietf-hpke-pq §3: a failed FIPS 203 §7.2 encapsulation key check is an EncapError.
    throw new RangeError(`"publicKey" is not a valid ${facts.standard} public key`, { cause });
  }
  const { cipherText: enc, sharedSecret } = encapsulated;
  const { key, baseNonce } = keySchedule(facts, sharedSecret, info, provider);
  sharedSecret.fill(0);
  const ciphertext = await aesGcm('encrypt', key, baseNonce, aad, plaintext, provider);
  return { enc, ciphertext };
}

/**
 * RFC 9180 §6.1 OpenBase. `secretKey` is the row's seed (`sizes.seed`: ML-KEM-768's d‖z, the
 * draft-ietf-hpke-pq private key; X-Wing's 32-byte seed) or, where it differs, the provider's
 * expanded decapsulation key (`sizes.secretKey`). Throws on authentication failure.
 */
export async function hpkeOpen(args: {
  kem?: HpkeKem;
  secretKey: Uint8Array;
  enc: Uint8Array;
  info: Uint8Array;
  aad: Uint8Array;
  ciphertext: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { secretKey, enc, info, aad, ciphertext, provider = nobleProvider } = args;
  const facts = kemFacts(args.kem ?? 'ML-KEM-768');
  requireBytes(secretKey, 'secretKey');
  requireBytes(enc, 'enc');
  requireBytes(info, 'info');
  requireBytes(aad, 'aad');
  requireBytes(ciphertext, 'ciphertext');
  const kem = await loadKem(provider, facts);
  let decapsulationKey: Uint8Array;
  if (secretKey.length === facts.sizes.secretKey) {
    decapsulationKey = secretKey;
  } else if (secretKey.length === facts.sizes.seed) {
    // draft-ietf-hpke-pq §3 Decap: expand the seed with ML-KEM.KeyGen_internal(d, z).
    decapsulationKey = kem.keygen(secretKey).secretKey;
  } else {
    throw new RangeError(
      facts.sizes.seed === facts.sizes.secretKey
        ? `"secretKey" must be the ${facts.sizes.seed}-byte ${facts.standard} seed`
        : `"secretKey" must be the ${facts.sizes.seed}-byte seed or the ${facts.sizes.secretKey}-byte decapsulation key`,
    );
  }
  const sharedSecret = kem.decapsulate(enc, decapsulationKey);
  if (decapsulationKey !== secretKey) decapsulationKey.fill(0);
  const { key, baseNonce } = keySchedule(facts, sharedSecret, info, provider);
  sharedSecret.fill(0);
  return aesGcm('decrypt', key, baseNonce, aad, ciphertext, provider);
}
