/**
 * HPKE (RFC 9180) base mode, single shot, for one fixed suite:
 *   KEM  0x0041 ML-KEM-768 (draft-ietf-hpke-pq §3)
 *   KDF  0x0001 HKDF-SHA256 (RFC 9180 §7.2)
 *   AEAD 0x0002 AES-256-GCM (RFC 9180 §7.3)
 *
 * draft-ietf-hpke-pq §3 maps the HPKE KEM interface straight onto FIPS 203: Encap is
 * ML-KEM.Encaps (enc = the 1088-byte ciphertext, shared_secret = the 32-byte K, no
 * ExtractAndExpand step as in DHKEM) and an encapsulation-key check failure is an EncapError;
 * Decap expands the 64-byte seed dk = d‖z with ML-KEM.KeyGen_internal and runs ML-KEM.Decaps.
 * The private key form of the draft (Nsk = 64) is the seed, so `hpkeOpen` accepts either that
 * seed or the provider's expanded decapsulation key.
 *
 * Single shot means one message per context, sequence number 0, so the AEAD nonce is
 * base_nonce itself (RFC 9180 §5.2: nonce = base_nonce XOR I2OSP(0, Nn)). The exporter secret
 * is not derived: nothing here exports.
 *
 * AES-GCM comes from WebCrypto (or the provider's synchronous `aes256Gcm`, same bytes), HKDF's
 * HMAC from `@noble/hashes` (or the provider's `hmacSha256`, same bytes), so this runs in
 * browsers, workers and Node without `Buffer`.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ALGORITHM_TABLE, type KemFacts } from '../contract/algorithms.js';
import { kemOf, nobleProvider, requireBytes, type PrimitiveProvider } from './primitives.js';

const KEM: KemFacts = ALGORITHM_TABLE.Kyber768;
const KEM_ID = KEM.hpkeKemId; // draft-ietf-hpke-pq §8.1, ML-KEM-768
const KDF_ID = 0x0001; // RFC 9180 §7.2, HKDF-SHA256
const AEAD_ID = 0x0002; // RFC 9180 §7.3, AES-256-GCM
const MODE_BASE = 0x00; // RFC 9180 §5.1, Table 1
const NK = 32; // AES-256-GCM key length
const NN = 12; // AES-GCM nonce length
/** AES-GCM's 16-byte tag, appended to every AEAD output. */
export const AEAD_TAG_LENGTH = 16;

const HPKE_V1 = utf8ToBytes('HPKE-v1');
// RFC 9180 §5.1: suite_id = "HPKE" ‖ I2OSP(kem_id, 2) ‖ I2OSP(kdf_id, 2) ‖ I2OSP(aead_id, 2)
const SUITE_ID = concatBytes(utf8ToBytes('HPKE'), i2osp2(KEM_ID), i2osp2(KDF_ID), i2osp2(AEAD_ID));
const EMPTY = new Uint8Array(0);
const LABELS = {
  psk_id_hash: utf8ToBytes('psk_id_hash'),
  info_hash: utf8ToBytes('info_hash'),
  secret: utf8ToBytes('secret'),
  key: utf8ToBytes('key'),
  base_nonce: utf8ToBytes('base_nonce'),
};
const HASH_LENGTH = 32; // Nh of HKDF-SHA256

function i2osp2(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

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
function labeledExtract(mac: Hmac, salt: Uint8Array, label: Uint8Array, ikm: Uint8Array): Uint8Array {
  return mac(salt, HPKE_V1, SUITE_ID, label, ikm);
}

// RFC 9180 §4: LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L)
function labeledExpand(mac: Hmac, prk: Uint8Array, label: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let previous: Uint8Array = EMPTY;
  for (let i = 1, filled = 0; filled < length; i++) {
    const block = mac(prk, previous, i2osp2(length), HPKE_V1, SUITE_ID, label, info, Uint8Array.of(i));
    out.set(block.subarray(0, Math.min(HASH_LENGTH, length - filled)), filled);
    filled += HASH_LENGTH;
    previous.fill(0);
    previous = block;
  }
  previous.fill(0);
  return out;
}

// psk_id_hash is the same for every message of mode_base, and info_hash for every message with
// the same info (the ciphertext header, a handful of distinct values): both are public, so they
// are computed once each (a small bounded map for the latter).
let pskIdHash: Uint8Array | undefined;
const infoHashes = new Map<string, Uint8Array>();
const INFO_HASHES = 64;

function infoHash(mac: Hmac, info: Uint8Array): Uint8Array {
  const id = String.fromCharCode.apply(null, info as unknown as number[]);
  let found = info.length <= 256 ? infoHashes.get(id) : undefined;
  if (found === undefined) {
    found = labeledExtract(mac, EMPTY, LABELS.info_hash, info);
    if (info.length <= 256) {
      if (infoHashes.size >= INFO_HASHES) infoHashes.delete(infoHashes.keys().next().value!);
      infoHashes.set(id, found);
    }
  }
  return found;
}

/** RFC 9180 §5.1 KeySchedule for mode_base with default psk = psk_id = "". */
function keySchedule(sharedSecret: Uint8Array, info: Uint8Array, provider: PrimitiveProvider): { key: Uint8Array; baseNonce: Uint8Array } {
  const mac: Hmac = provider.hmacSha256 ?? nobleHmac;
  pskIdHash ??= labeledExtract(mac, EMPTY, LABELS.psk_id_hash, EMPTY);
  const context = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, infoHash(mac, info));
  const secret = labeledExtract(mac, sharedSecret, LABELS.secret, EMPTY);
  const key = labeledExpand(mac, secret, LABELS.key, context, NK);
  const baseNonce = labeledExpand(mac, secret, LABELS.base_nonce, context, NN);
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

/** RFC 9180 §6.1 SealBase: SetupBaseS + ContextS.Seal with sequence number 0. */
export async function hpkeSeal(args: {
  publicKey: Uint8Array;
  info: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
  encapRandomness?: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<{ enc: Uint8Array; ciphertext: Uint8Array }> {
  const { publicKey, info, aad, plaintext, encapRandomness, provider = nobleProvider } = args;
  requireBytes(publicKey, 'publicKey');
  requireBytes(info, 'info');
  requireBytes(aad, 'aad');
  requireBytes(plaintext, 'plaintext');
  if (publicKey.length !== KEM.sizes.publicKey) {
    throw new RangeError(`"publicKey" must be ${KEM.sizes.publicKey} bytes, got ${publicKey.length}`);
  }
  let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    encapsulated = kemOf(provider, KEM).encapsulate(publicKey, encapRandomness);
  } catch (cause) {
    if (cause instanceof RangeError || cause instanceof TypeError) throw cause; // our own argument checks
    // draft-ietf-hpke-pq §3: a failed FIPS 203 §7.2 encapsulation key check is an EncapError.
    throw new RangeError('"publicKey" is not a valid ML-KEM-768 encapsulation key', { cause });
  }
  const { cipherText: enc, sharedSecret } = encapsulated;
  const { key, baseNonce } = keySchedule(sharedSecret, info, provider);
  sharedSecret.fill(0);
  const ciphertext = await aesGcm('encrypt', key, baseNonce, aad, plaintext, provider);
  return { enc, ciphertext };
}

/**
 * RFC 9180 §6.1 OpenBase. `secretKey` is the seed d‖z (the draft-ietf-hpke-pq private key) or
 * the provider's expanded decapsulation key (`sizes.seed` / `sizes.secretKey` of the table). Throws on authentication failure.
 */
export async function hpkeOpen(args: {
  secretKey: Uint8Array;
  enc: Uint8Array;
  info: Uint8Array;
  aad: Uint8Array;
  ciphertext: Uint8Array;
  provider?: PrimitiveProvider;
}): Promise<Uint8Array> {
  const { secretKey, enc, info, aad, ciphertext, provider = nobleProvider } = args;
  requireBytes(secretKey, 'secretKey');
  requireBytes(enc, 'enc');
  requireBytes(info, 'info');
  requireBytes(aad, 'aad');
  requireBytes(ciphertext, 'ciphertext');
  let decapsulationKey: Uint8Array;
  const kem = kemOf(provider, KEM);
  if (secretKey.length === KEM.sizes.seed) {
    // draft-ietf-hpke-pq §3 Decap: expand the seed with ML-KEM.KeyGen_internal(d, z).
    decapsulationKey = kem.keygen(secretKey).secretKey;
  } else if (secretKey.length === KEM.sizes.secretKey) {
    decapsulationKey = secretKey;
  } else {
    throw new RangeError(`"secretKey" must be the ${KEM.sizes.seed}-byte seed or the ${KEM.sizes.secretKey}-byte decapsulation key`);
  }
  const sharedSecret = kem.decapsulate(enc, decapsulationKey);
  if (decapsulationKey !== secretKey) decapsulationKey.fill(0);
  const { key, baseNonce } = keySchedule(sharedSecret, info, provider);
  sharedSecret.fill(0);
  return aesGcm('decrypt', key, baseNonce, aad, ciphertext, provider);
}
