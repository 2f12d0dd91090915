/**
 * HPKE (RFC 9180) base mode, single shot, for two fixed suites that differ only in the KEM:
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
 * 32-byte X-Wing seed (./xwing.ts).
 *
 * Single shot means one message per context, sequence number 0, so the AEAD nonce is
 * base_nonce itself (RFC 9180 §5.2: nonce = base_nonce XOR I2OSP(0, Nn)). The exporter secret
 * is not derived for sealing/opening: nothing here exports.
 *
 * AES-GCM comes from WebCrypto (or the provider's synchronous `aes256Gcm`, same bytes), HKDF from
 * `@noble/hashes`, so this runs in browsers, workers and Node without `Buffer`.
 * @module
 */
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ML_KEM_768, nobleProvider, requireBytes, type PrimitiveProvider } from './primitives.js';
import { X_WING } from './xwing-params.js';

/** X-Wing pulls in X25519 and the hybrid combiner: loaded on first use only (bundle size). */
const loadXWing = () => import('./xwing.js');

/** The KEMs this HPKE layer speaks. */
export type HpkeKem = 'ML-KEM-768' | 'X-Wing';

/** HPKE KEM ids: draft-ietf-hpke-pq §8.1 (ML-KEM-768), draft-connolly-cfrg-xwing-kem §6 (X-Wing). */
export const HPKE_KEM_IDS: Readonly<Record<HpkeKem, number>> = { 'ML-KEM-768': 0x0041, 'X-Wing': X_WING.hpkeKemId };

const KDF_ID = 0x0001; // RFC 9180 §7.2, HKDF-SHA256
const AEAD_ID = 0x0002; // RFC 9180 §7.3, AES-256-GCM
const MODE_BASE = 0x00; // RFC 9180 §5.1, Table 1
const NK = 32; // AES-256-GCM key length
const NN = 12; // AES-GCM nonce length
/** Expanded ML-KEM-768 decapsulation key length (FIPS 203 Table 3). */
const EXPANDED_SECRET_KEY_LENGTH = 2400;

const HPKE_V1 = utf8ToBytes('HPKE-v1');
const EMPTY = new Uint8Array(0);

function i2osp2(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

/** RFC 9180 §5.1: suite_id = "HPKE" ‖ I2OSP(kem_id, 2) ‖ I2OSP(kdf_id, 2) ‖ I2OSP(aead_id, 2) */
export function hpkeSuiteId(kemId: number, kdfId: number, aeadId: number): Uint8Array {
  return concatBytes(utf8ToBytes('HPKE'), i2osp2(kemId), i2osp2(kdfId), i2osp2(aeadId));
}

const SUITE_IDS: Readonly<Record<HpkeKem, Uint8Array>> = {
  'ML-KEM-768': hpkeSuiteId(HPKE_KEM_IDS['ML-KEM-768'], KDF_ID, AEAD_ID),
  'X-Wing': hpkeSuiteId(HPKE_KEM_IDS['X-Wing'], KDF_ID, AEAD_ID),
};

function requireKem(kem: unknown): asserts kem is HpkeKem {
  if (kem !== 'ML-KEM-768' && kem !== 'X-Wing') throw new TypeError(`"kem" must be 'ML-KEM-768' or 'X-Wing'`);
}

// RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm)
function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return extract(sha256, concatBytes(HPKE_V1, suiteId, utf8ToBytes(label), ikm), salt);
}

// RFC 9180 §4: LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L)
function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return expand(sha256, prk, concatBytes(i2osp2(length), HPKE_V1, suiteId, utf8ToBytes(label), info), length);
}

/**
 * RFC 9180 §5.1 KeySchedule for mode_base (psk = psk_id = "") with HKDF-SHA256, for any suite_id
 * and AEAD sizes. Sealing and opening use it with AES-256-GCM (Nk = 32, Nn = 12); it is exported
 * so the draft-ietf-hpke-pq vectors, which use other AEADs, can check it (and the exporter).
 */
export function hpkeKeySchedule(args: { suiteId: Uint8Array; sharedSecret: Uint8Array; info: Uint8Array; nk: number; nn: number }): {
  key: Uint8Array;
  baseNonce: Uint8Array;
  exporterSecret: Uint8Array;
} {
  const { suiteId, sharedSecret, info, nk, nn } = args;
  const pskIdHash = labeledExtract(suiteId, EMPTY, 'psk_id_hash', EMPTY);
  const infoHash = labeledExtract(suiteId, EMPTY, 'info_hash', info);
  const context = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, infoHash);
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', EMPTY);
  const key = labeledExpand(suiteId, secret, 'key', context, nk);
  const baseNonce = labeledExpand(suiteId, secret, 'base_nonce', context, nn);
  const exporterSecret = labeledExpand(suiteId, secret, 'exp', context, 32); // Nh of SHA-256
  secret.fill(0);
  return { key, baseNonce, exporterSecret };
}

/** RFC 9180 §5.3 Export with HKDF-SHA256: LabeledExpand(exporter_secret, "sec", exporter_context, L). */
export function hpkeExport(suiteId: Uint8Array, exporterSecret: Uint8Array, exporterContext: Uint8Array, length: number): Uint8Array {
  return labeledExpand(suiteId, exporterSecret, 'sec', exporterContext, length);
}

function keySchedule(kem: HpkeKem, sharedSecret: Uint8Array, info: Uint8Array): { key: Uint8Array; baseNonce: Uint8Array } {
  const { key, baseNonce, exporterSecret } = hpkeKeySchedule({ suiteId: SUITE_IDS[kem], sharedSecret, info, nk: NK, nn: NN });
  exporterSecret.fill(0);
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
      tagLength: 128,
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
 * RFC 9180 §6.1 SealBase: SetupBaseS + ContextS.Seal with sequence number 0. `kem` defaults to
 * ML-KEM-768; `encapRandomness` is m (32 bytes) for ML-KEM-768 and eseed (64 bytes) for X-Wing.
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
  const { kem = 'ML-KEM-768', publicKey, info, aad, plaintext, encapRandomness, provider = nobleProvider } = args;
  requireKem(kem);
  requireBytes(publicKey, 'publicKey');
  requireBytes(info, 'info');
  requireBytes(aad, 'aad');
  requireBytes(plaintext, 'plaintext');
  // An invalid public key is a RangeError from either KEM (HPKE EncapError).
  const { cipherText: enc, sharedSecret } =
    kem === 'X-Wing'
      ? (await loadXWing()).xwingEncapsulate(publicKey, encapRandomness)
      : mlKemEncapsulate(publicKey, encapRandomness, provider);
  const { key, baseNonce } = keySchedule(kem, sharedSecret, info);
  sharedSecret.fill(0);
  const ciphertext = await aesGcm('encrypt', key, baseNonce, aad, plaintext, provider);
  return { enc, ciphertext };
}

/**
 * RFC 9180 §6.1 OpenBase. For ML-KEM-768 (the default) `secretKey` is the 64-byte seed d‖z (the
 * draft-ietf-hpke-pq private key) or the provider's expanded 2400-byte decapsulation key; for
 * X-Wing it is the 32-byte seed. Throws on authentication failure.
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
  const { kem = 'ML-KEM-768', secretKey, enc, info, aad, ciphertext, provider = nobleProvider } = args;
  requireKem(kem);
  requireBytes(secretKey, 'secretKey');
  requireBytes(enc, 'enc');
  requireBytes(info, 'info');
  requireBytes(aad, 'aad');
  requireBytes(ciphertext, 'ciphertext');
  const sharedSecret = kem === 'X-Wing' ? (await loadXWing()).xwingDecapsulate(enc, secretKey) : mlKemDecapsulate(secretKey, enc, provider);
  const { key, baseNonce } = keySchedule(kem, sharedSecret, info);
  sharedSecret.fill(0);
  return aesGcm('decrypt', key, baseNonce, aad, ciphertext, provider);
}

function mlKemEncapsulate(
  publicKey: Uint8Array,
  encapRandomness: Uint8Array | undefined,
  provider: PrimitiveProvider,
): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (publicKey.length !== ML_KEM_768.publicKeyLength) {
    throw new RangeError(`"publicKey" must be ${ML_KEM_768.publicKeyLength} bytes, got ${publicKey.length}`);
  }
  try {
    return provider.mlKem768.encapsulate(publicKey, encapRandomness);
  } catch (cause) {
    if (cause instanceof RangeError || cause instanceof TypeError) throw cause; // our own argument checks
    // draft-ietf-hpke-pq §3: a failed FIPS 203 §7.2 encapsulation key check is an EncapError.
    throw new RangeError('"publicKey" is not a valid ML-KEM-768 encapsulation key', { cause });
  }
}

function mlKemDecapsulate(secretKey: Uint8Array, enc: Uint8Array, provider: PrimitiveProvider): Uint8Array {
  let decapsulationKey: Uint8Array;
  if (secretKey.length === ML_KEM_768.seedLength) {
    // draft-ietf-hpke-pq §3 Decap: expand the seed with ML-KEM.KeyGen_internal(d, z).
    decapsulationKey = provider.mlKem768.keygen(secretKey).secretKey;
  } else if (secretKey.length === EXPANDED_SECRET_KEY_LENGTH) {
    decapsulationKey = secretKey;
  } else {
    throw new RangeError(
      `"secretKey" must be the ${ML_KEM_768.seedLength}-byte seed or the ${EXPANDED_SECRET_KEY_LENGTH}-byte decapsulation key`,
    );
  }
  const sharedSecret = provider.mlKem768.decapsulate(enc, decapsulationKey);
  if (decapsulationKey !== secretKey) decapsulationKey.fill(0);
  return sharedSecret;
}
