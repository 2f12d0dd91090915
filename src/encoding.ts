/**
 * Strict standard base64 (RFC 4648 §4, padded) and small byte helpers.
 *
 * Strict means: only the standard alphabet, correct padding, no whitespace, and canonical
 * (the unused low bits of the last symbol are zero), so each byte string has exactly one
 * accepted encoding. `atob` alone accepts whitespace and missing padding, hence the checks.
 * Runs unchanged in browsers, workers and Node (no Buffer). Byte concatenation, UTF-8 and
 * constant-time comparison come from `@noble/hashes/utils` and `@noble/post-quantum/utils`.
 *
 * Where the runtime has the native `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64`
 * (Node 26, current browsers), they do the work, several times faster than `btoa`/`atob` and a
 * regular expression; whether they are there, and behave as specified, is found out once by
 * doing it (`nativeBase64()`), not by sniffing versions. Same strings, same bytes either way.
 * @module
 */

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CHUNK = 0x8000; // String.fromCharCode argument limit stays well clear of engine caps

interface NativeBase64 {
  encode(bytes: Uint8Array): string;
  /** Throws on anything but the standard alphabet, missing padding or non-zero pad bits; skips ASCII whitespace. */
  decode(text: string): Uint8Array;
}

let native: NativeBase64 | null | undefined;

/** The native base64 pair if this runtime has it and it gives the expected answers, else `undefined`. */
function nativeBase64(): NativeBase64 | undefined {
  if (native !== undefined) return native ?? undefined;
  native = null;
  const toBase64 = (Uint8Array.prototype as { toBase64?: (this: Uint8Array) => string }).toBase64;
  const fromBase64 = (Uint8Array as { fromBase64?: (text: string, options: { lastChunkHandling: 'strict' }) => Uint8Array }).fromBase64;
  if (typeof toBase64 !== 'function' || typeof fromBase64 !== 'function') return undefined;
  const candidate: NativeBase64 = {
    encode: (bytes) => toBase64.call(bytes),
    decode: (text) => fromBase64(text, { lastChunkHandling: 'strict' }),
  };
  try {
    const sample = Uint8Array.of(0xfb, 0xff, 0x00, 0x61);
    if (candidate.encode(sample) !== '+/8AYQ==') return undefined;
    const back = candidate.decode('+/8AYQ==');
    if (back.length !== 4 || back.some((b, i) => b !== sample[i])) return undefined;
    for (const bad of ['+/8AYR==', '+/8AYQ', '-_8AYQ==']) {
      try {
        candidate.decode(bad);
        return undefined; // accepted non-canonical bits, missing padding or the URL alphabet
      } catch {
        // expected
      }
    }
  } catch {
    return undefined;
  }
  native = candidate;
  return candidate;
}

export function bytesToBase64(bytes: Uint8Array): string {
  const fast = nativeBase64();
  if (fast) return fast.encode(bytes);
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

/** True when `text` is strict canonical base64; cheap enough to run on a 1.4 MB string. */
export function isBase64(text: string): boolean {
  const fast = nativeBase64();
  if (fast) {
    // The native decoder skips whitespace, which strict base64 refuses: any would make the
    // decoded length fall short of what the text's length promises.
    if (typeof text !== 'string' || text.length % 4 !== 0) return false;
    try {
      return fast.decode(text).length === decodedLength(text);
    } catch {
      return false;
    }
  }
  return BASE64_PATTERN.test(text) && hasZeroPadBits(text);
}

/** Returns the decoded bytes, or `undefined` when `text` is not strict canonical base64. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  return isBase64(text) ? decodeCheckedBase64(text) : undefined;
}

/** Decodes `text` that already passed `isBase64` (the schemas check every field once). */
export function decodeCheckedBase64(text: string): Uint8Array {
  const fast = nativeBase64();
  if (fast) return fast.decode(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Length in bytes that `text` decodes to (assumes it passed the pattern). */
export function decodedLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function hasZeroPadBits(text: string): boolean {
  if (text.endsWith('==')) return (ALPHABET.indexOf(text.charAt(text.length - 3)) & 0x0f) === 0;
  if (text.endsWith('=')) return (ALPHABET.indexOf(text.charAt(text.length - 2)) & 0x03) === 0;
  return true;
}
