/**
 * Text and bytes for the playground: what a person types is UTF-8, what the API carries is
 * base64, and what a person compares is a short fingerprint.
 * @module
 */

const encoder = new TextEncoder();

/** UTF-8 bytes of what was typed (the facade base64-encodes them for the wire). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Standard padded base64 of bytes made in the page (a random key, a digest). */
export function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** Decodes base64 from an envelope; undefined when it is not base64. */
export function base64Bytes(value: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The text a plaintext spells, or a note when it is not UTF-8. */
export function describePlaintext(base64: string): string {
  const bytes = base64Bytes(base64);
  if (bytes === undefined) return '(not base64)';
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return `(${bytes.length} bytes, not UTF-8 text)`;
  }
}

/** First 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo, as colon-separated hex. */
export async function fingerprint(publicKeyBase64: string): Promise<{ short: string; full: string }> {
  const spki = base64Bytes(publicKeyBase64);
  if (spki === undefined) return { short: '(invalid public key)', full: '' };
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', spki as Uint8Array<ArrayBuffer>));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0'));
  return { short: hex.slice(0, 8).join(':'), full: hex.join('') };
}

/** An optional text field's bytes: undefined when it is empty, so the request leaves the field out. */
export function optionalUtf8(text: string): Uint8Array | undefined {
  return text === '' ? undefined : utf8(text);
}
