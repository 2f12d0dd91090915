/**
 * Strict standard base64 (RFC 4648 §4, padded) and small byte helpers.
 *
 * Strict means: only the standard alphabet, correct padding, no whitespace, and canonical
 * (the unused low bits of the last symbol are zero), so each byte string has exactly one
 * accepted encoding. `atob` alone accepts whitespace and missing padding, hence the checks.
 * Runs unchanged in browsers, workers and Node (no Buffer). Byte concatenation, UTF-8 and
 * constant-time comparison come from `@noble/hashes/utils` and `@noble/post-quantum/utils`.
 * @module
 */

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CHUNK = 0x8000; // String.fromCharCode argument limit stays well clear of engine caps

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

/** True when `text` is strict canonical base64; cheap enough to run on a 1.4 MB string. */
export function isBase64(text: string): boolean {
  return BASE64_PATTERN.test(text) && hasZeroPadBits(text);
}

/** Returns the decoded bytes, or `undefined` when `text` is not strict canonical base64. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  return isBase64(text) ? decodeCheckedBase64(text) : undefined;
}

/** Decodes `text` that already passed `isBase64` (the schemas check every field once). */
export function decodeCheckedBase64(text: string): Uint8Array {
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
