/**
 * The public view of a stored key, as every key-management answer gives it.
 * @module
 */
import type { Algorithm } from '../contract/algorithms.js';
import type { KeyInfo } from '../contract/schemas.js';
import type { StoredKey } from '../stores/keystore.js';

/** Everything of a stored key but its wrapped seed. */
export function keyInfo(algorithm: Algorithm, key: StoredKey): KeyInfo {
  return {
    key_version: key.key_version,
    algorithm,
    status: key.status,
    public_key: key.public_key,
    created_at: key.created_at,
  };
}
