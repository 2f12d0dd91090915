/**
 * Integrity of what the database holds, under keys only the master key can give: whoever can
 * write the database file but lacks the master key can neither mint an API key nor change a key
 * row (swap a public key, un-archive a version, move a key to another tenant) unnoticed.
 *
 * Two HMAC-SHA256 keys are derived from the master key with HKDF-SHA256 (RFC 5869), each under a
 * label of its own, so neither is the seed-wrapping key nor each other:
 * - the API-key digest key: an API key is stored as HMAC(key) instead of a plain SHA-256, which
 *   anyone could compute for a key of their own making and insert;
 * - the row MAC key: every key row and API-key row carries a MAC over all its fields, checked on
 *   every read. A row whose MAC does not match is refused (IntegrityError).
 *
 * Store-agnostic: a store calls `keyRowMac`/`apiKeyRowMac` when it writes a row and `check*` when
 * it reads one, and keeps the MAC in a column of the row (`mac`). The encoding is a JSON array of
 * the fields with a versioned label, so no two different rows encode alike. node:crypto with
 * KeyObjects, because SQLite transactions are synchronous (WebCrypto is not); the derived bytes
 * are wiped once imported.
 * @module
 */
import { createHash, createHmac, createSecretKey, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import { type Algorithm, bytesToBase64, type Scope, type StoredKey } from 'qpher/host';
import { generateApiKey, generateApiKeyId } from './auth.js';

import { IntegrityError } from './integrity-error.js';

export { IntegrityError };

const API_KEY_DIGEST_LABEL = 'qpher/v1 api-key digest';
const ROW_MAC_LABEL = 'qpher/v1 row mac';

/** The fields of an API-key row the MAC covers (everything but the MAC). */
export interface ApiKeyRowFields {
  id: string;
  /** HMAC digest of the key, or (legacy rows, before the upgrade) null. */
  digest: Uint8Array | null;
  /** Legacy SHA-256 of the key, kept until the key is next used; null otherwise. */
  hash: Uint8Array | null;
  tenant: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

/** A key row without a MAC, as `qpher migrate` checks it before sealing. */
export interface LegacyKeyRow {
  tenant: string;
  algorithm: Algorithm;
  key: StoredKey;
}

export class Integrity {
  readonly #digestKey: KeyObject;
  readonly #macKey: KeyObject;

  private constructor(digestKey: KeyObject, macKey: KeyObject) {
    this.#digestKey = digestKey;
    this.#macKey = macKey;
  }

  /**
   * Derives both keys from the 32 master-key bytes (the caller still owns and wipes those). After a
   * master-key rotation the API-key digest key is not derived but the one kept in the store
   * (`apiKeyDigestKey`, master-key.ts): API-key digests cannot be recomputed without the keys.
   */
  static fromMasterKey(masterKey: Uint8Array, apiKeyDigestKey?: Uint8Array): Integrity {
    const derive = (label: string): KeyObject => {
      const bytes = new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), label, 32));
      const key = createSecretKey(bytes);
      bytes.fill(0);
      return key;
    };
    return new Integrity(apiKeyDigestKey ? createSecretKey(apiKeyDigestKey) : derive(API_KEY_DIGEST_LABEL), derive(ROW_MAC_LABEL));
  }

  /** What is stored for an API key: HMAC-SHA256 under the digest key. */
  apiKeyDigest(apiKey: string): Uint8Array {
    return new Uint8Array(createHmac('sha256', this.#digestKey).update(apiKey, 'utf8').digest());
  }

  keyRowMac(tenant: string, algorithm: string, key: StoredKey): Uint8Array {
    return this.#mac([
      'qpher/v1 key row',
      tenant,
      algorithm,
      key.key_version,
      key.status,
      key.public_key,
      bytesToBase64(key.wrapped_seed),
      key.created_at,
    ]);
  }

  checkKeyRow(tenant: string, algorithm: string, key: StoredKey, mac: Uint8Array | null): boolean {
    return mac !== null && equal(this.keyRowMac(tenant, algorithm, key), mac);
  }

  /**
   * A new API key and the row that stores it (HMAC digest, never the key) with its MAC: what
   * every store's `issueApiKey` inserts. The key is shown once and kept nowhere.
   */
  newApiKeyRow(
    tenant: string,
    scopes: readonly Scope[],
    now: Date,
  ): { key: string; row: ApiKeyRowFields & { digest: Uint8Array }; mac: Uint8Array } {
    const key = generateApiKey();
    const row = {
      id: generateApiKeyId(),
      digest: this.apiKeyDigest(key),
      hash: null,
      tenant,
      scopes: scopes.join(','),
      created_at: now.toISOString(),
      revoked_at: null,
    };
    return { key, row, mac: this.apiKeyRowMac(row) };
  }

  apiKeyRowMac(row: ApiKeyRowFields): Uint8Array {
    return this.#mac([
      'qpher/v1 api-key row',
      row.id,
      row.digest ? bytesToBase64(row.digest) : null,
      row.hash ? bytesToBase64(row.hash) : null,
      row.tenant,
      row.scopes,
      row.created_at,
      row.revoked_at,
    ]);
  }

  checkApiKeyRow(row: ApiKeyRowFields, mac: Uint8Array | null): boolean {
    return mac !== null && equal(this.apiKeyRowMac(row), mac);
  }

  #mac(fields: unknown[]): Uint8Array {
    return new Uint8Array(createHmac('sha256', this.#macKey).update(JSON.stringify(fields), 'utf8').digest());
  }
}

/**
 * A store's hold on its Integrity, attached once the master key is known (until then every use
 * throws), and the one way a store checks a row it has read: a row whose MAC fails is named to
 * `onTamper` (never its data) and refused with IntegrityError.
 */
export class RowGuard {
  #integrity: Integrity | undefined;
  #onTamper: (row: string) => void = () => {};

  attach(integrity: Integrity, onTamper: (row: string) => void = () => {}): void {
    this.#integrity = integrity;
    this.#onTamper = onTamper;
  }

  /** Throws until attached: a store touches no key or API-key row before, not even to find none. */
  assertAttached(): void {
    if (!this.#integrity) throw new Error('the store was used before attachIntegrity');
  }

  get integrity(): Integrity {
    this.assertAttached();
    return this.#integrity!;
  }

  /** `key`, read from a key row of (tenant, algorithm) with this MAC, once the MAC checks out. */
  key(tenant: string, algorithm: string, key: StoredKey, mac: Uint8Array | null): StoredKey {
    if (!this.integrity.checkKeyRow(tenant, algorithm, key, mac)) this.#tampered(`key row ${tenant}/${algorithm}/v${key.key_version}`);
    return key;
  }

  /** An API-key row, once its MAC checks out. */
  apiKey<R extends ApiKeyRowFields & { mac: Uint8Array | null }>(row: R): R {
    if (!this.integrity.checkApiKeyRow(row, row.mac)) this.#tampered(`api key row ${row.id}`);
    return row;
  }

  #tampered(row: string): never {
    this.#onTamper(row);
    throw new IntegrityError();
  }
}

/** The API-key digest key a master key derives (what a store uses until its first rotation). */
export function deriveApiKeyDigestKey(masterKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), API_KEY_DIGEST_LABEL, 32));
}

/** The plain SHA-256 that API keys were stored as before (legacy rows only). */
export function legacyApiKeyHash(apiKey: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(apiKey, 'utf8').digest());
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
