/**
 * The `kms.list` paging cursor: opaque to callers, here the position of the last key returned,
 * `(algorithm, key_version)` in the list's order, as unpadded base64url of a JSON pair. A page
 * starts strictly after it, so keys added or archived between pages neither repeat nor shift.
 * @module
 */
import { isAlgorithm, isKeyVersion, type Algorithm } from './algorithms.js';

export interface ListPosition {
  algorithm: Algorithm;
  key_version: number;
}

export const MAX_CURSOR_LENGTH = 128;

export function encodeListCursor(position: ListPosition): string {
  return btoa(JSON.stringify([position.algorithm, position.key_version]))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The position a cursor names, or `undefined` when it is not one this API made. */
export function decodeListCursor(cursor: string): ListPosition | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [algorithm, keyVersion] = value as unknown[];
    if (!isAlgorithm(algorithm) || !isKeyVersion(keyVersion)) return undefined;
    return { algorithm, key_version: keyVersion };
  } catch {
    return undefined;
  }
}
