/**
 * The server's wrapped-seed format: which master key wrapped a seed is written next to it, so a
 * store can tell seeds of the old and the new master key apart (master-key rotation,
 * master-key-rotate.ts) and a wrong key is named rather than guessed.
 *
 *   version 1:  0x01 ‖ key_id (8) ‖ iv (12) ‖ AES-256-GCM(master key, iv, aad = 0x01 ‖ key_id ‖ binding, seed) ‖ tag (16)
 *   legacy:     iv (12) ‖ AES-256-GCM(master key, iv, aad = binding, seed) ‖ tag (16)   (rows written before version 1)
 *
 * `binding` is the engine's seedBinding (tenant, algorithm, public key: src/engine/seed-wrapper.ts).
 * The AES key is the master key itself, as before, so legacy rows keep reading. `key_id` is the
 * first 8 bytes of SHA-256 over a key derived from the master key with HKDF-SHA256 (RFC 5869;
 * info "qpher master key id v1"): it names a key in logs and errors without revealing it (the
 * derived key is one-way from the master key, and 64 bits of its hash say nothing usable about it).
 *
 * Telling the two apart: a version-1 blob starts with 0x01 and this key's id. A legacy blob
 * starts with a random IV, so it could start with 0x01 too; it is read as version 1 only if the
 * next 8 bytes are also this key's id (a 2^-64 chance), and otherwise tried as legacy. A blob of
 * another key's id fails both ways, and `wrappedKeyId` names the key it needs.
 * @module
 */
import type { SeedWrapper } from 'qpher/host';

export const WRAPPED_SEED_VERSION = 1;
export const MASTER_KEY_ID_LENGTH = 8;
const HEADER_LENGTH = 1 + MASTER_KEY_ID_LENGTH;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const ID_INFO = new TextEncoder().encode('qpher master key id v1');

export interface MasterKeyWrapper extends SeedWrapper {
  /** This master key's id (see the module comment), never the key. */
  readonly id: Uint8Array;
  readonly idHex: string;
}

/** The id of a master key: SHA-256(HKDF-SHA256(key, info "qpher master key id v1"))[0..8]. */
export async function masterKeyId(keyBytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  const ikm = await subtle.importKey('raw', keyBytes as Uint8Array<ArrayBuffer>, 'HKDF', false, ['deriveBits']);
  const derived = new Uint8Array(
    await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: ID_INFO }, ikm, 256),
  );
  const digest = new Uint8Array(await subtle.digest('SHA-256', derived));
  derived.fill(0);
  return digest.slice(0, MASTER_KEY_ID_LENGTH);
}

/**
 * Imports the 32 key bytes (non-extractable) and zeroes them; the wrapper writes version 1 and
 * reads version 1 of this key and legacy blobs.
 */
export async function masterKeyWrapperOf(keyBytes: Uint8Array): Promise<MasterKeyWrapper> {
  const subtle = globalThis.crypto.subtle;
  let id: Uint8Array;
  let key: CryptoKey;
  try {
    id = await masterKeyId(keyBytes);
    key = await subtle.importKey('raw', keyBytes as Uint8Array<ArrayBuffer>, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  } finally {
    keyBytes.fill(0);
  }
  const header = Uint8Array.of(WRAPPED_SEED_VERSION, ...id);
  const decrypt = async (iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array) =>
    new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: buffer(iv), additionalData: buffer(aad) }, key, buffer(sealed)));
  return {
    id,
    idHex: toHex(id),
    async wrap(seed, binding) {
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_LENGTH));
      const sealed = new Uint8Array(
        await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: buffer(concat(header, binding)) }, key, buffer(seed)),
      );
      return concat(header, iv, sealed);
    },
    async unwrap(wrapped, binding) {
      if (isVersion1Of(wrapped, id)) {
        return decrypt(
          wrapped.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH),
          wrapped.subarray(HEADER_LENGTH + IV_LENGTH),
          concat(header, binding),
        );
      }
      return decrypt(wrapped.subarray(0, IV_LENGTH), wrapped.subarray(IV_LENGTH), binding);
    },
  };
}

/**
 * The id of the master key a blob needs, as hex, if it looks like version 1 (for error messages:
 * a legacy blob starting with 0x01 reads as some id too, so this is a hint, never a decision).
 */
export function wrappedKeyId(wrapped: Uint8Array): string | undefined {
  if (wrapped[0] !== WRAPPED_SEED_VERSION || wrapped.length < HEADER_LENGTH + IV_LENGTH + TAG_LENGTH) return undefined;
  return toHex(wrapped.subarray(1, HEADER_LENGTH));
}

/** Whether a blob is in version 1 (any key): for tests and `qpher master-key rotate`'s report. */
export function isVersion1(wrapped: Uint8Array): boolean {
  return wrappedKeyId(wrapped) !== undefined;
}

function isVersion1Of(wrapped: Uint8Array, id: Uint8Array): boolean {
  if (wrapped.length < HEADER_LENGTH + IV_LENGTH + TAG_LENGTH || wrapped[0] !== WRAPPED_SEED_VERSION) return false;
  for (let i = 0; i < MASTER_KEY_ID_LENGTH; i++) if (wrapped[1 + i] !== id[i]) return false;
  return true;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** WebCrypto's types want an ArrayBuffer-backed view; ours always are. */
function buffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}
