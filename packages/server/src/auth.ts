/**
 * API keys: `qph_` + 32 random bytes in base64url (43 characters). A key belongs to one tenant
 * and carries scopes (the `scope` column of the operations table). The key itself is never
 * stored: a lookup gets the presented key and finds its row by a digest of it (the SQLite store:
 * an HMAC under a key derived from the master key, see integrity.ts; MemoryApiKeys: SHA-256).
 *
 * Why a digest lookup is safe: any timing difference of the index lookup depends on a digest the
 * caller cannot steer bit by bit toward a stored one (preimage resistance; for the HMAC, the
 * caller does not even know the key).
 * Web Crypto only: this module runs wherever the app does.
 * @module
 */
import { SCOPES, type Scope } from 'qpher/host';

export const API_KEY_PREFIX = 'qph_';
const API_KEY_RANDOM_BYTES = 32;
/** `qph_` + base64url of at least 32 bytes (43+ characters), nothing else. */
const API_KEY_PATTERN = /^qph_[A-Za-z0-9_-]{43,128}$/;
const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ApiKeyRecord {
  /** Public identifier, shown by `api-key list` and used by `api-key revoke`; not a secret. */
  id: string;
  tenant: string;
  scopes: readonly Scope[];
  created_at: string;
  revoked_at: string | null;
}

/** Where the app looks API keys up. The SQLite store implements it; tests use MemoryApiKeys. */
export interface ApiKeyLookup {
  /** The record of a well-formed presented key, revoked or not; undefined when unknown. */
  findApiKey(apiKey: string): Promise<ApiKeyRecord | undefined> | ApiKeyRecord | undefined;
}

export function generateApiKey(): string {
  return API_KEY_PREFIX + base64url(globalThis.crypto.getRandomValues(new Uint8Array(API_KEY_RANDOM_BYTES)));
}

export function generateApiKeyId(): string {
  return `key_${hex(globalThis.crypto.getRandomValues(new Uint8Array(8)))}`;
}

export function isWellFormedApiKey(value: string): boolean {
  return API_KEY_PATTERN.test(value);
}

export async function hashApiKey(key: string): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Returns the key's record when the key is well-formed, known, not revoked; else undefined. */
export async function authenticate(lookup: ApiKeyLookup, presented: string | undefined): Promise<ApiKeyRecord | undefined> {
  if (presented === undefined || !isWellFormedApiKey(presented)) return undefined;
  const record = await lookup.findApiKey(presented);
  if (!record || record.revoked_at !== null) return undefined;
  return record;
}

/**
 * Parses `kem:encrypt,kms:read`. Only an absent list (`undefined`: no `--scopes` flag) means every
 * scope; an empty list (`--scopes ""`, e.g. from an unset shell variable) or an unknown scope is a
 * TypeError, so a typo can never mint an all-scopes key.
 */
export function parseScopes(text: string | undefined): Scope[] {
  if (text === undefined) return [...SCOPES];
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (scopes.length === 0) throw new TypeError(`the scope list is empty; name at least one of: ${SCOPES.join(', ')}`);
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) {
      throw new TypeError(`unknown scope "${scope}"; known scopes: ${SCOPES.join(', ')}`);
    }
  }
  return [...new Set(scopes)] as Scope[];
}

export function assertTenantName(tenant: string): void {
  if (!TENANT_PATTERN.test(tenant)) {
    throw new TypeError('tenant must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
}

/** An in-memory key table (SHA-256 digests: nothing persists), for the in-process app and tests. */
export class MemoryApiKeys implements ApiKeyLookup {
  readonly #records: (ApiKeyRecord & { hash: Uint8Array })[] = [];

  async create(tenant: string, scopes: readonly Scope[] = SCOPES): Promise<{ key: string; record: ApiKeyRecord }> {
    assertTenantName(tenant);
    const key = generateApiKey();
    const record = {
      id: generateApiKeyId(),
      tenant,
      scopes: [...scopes],
      hash: await hashApiKey(key),
      created_at: new Date().toISOString(),
      revoked_at: null as string | null,
    };
    this.#records.push(record);
    return { key, record };
  }

  revoke(id: string): boolean {
    const record = this.#records.find((r) => r.id === id);
    if (!record || record.revoked_at !== null) return false;
    record.revoked_at = new Date().toISOString();
    return true;
  }

  async findApiKey(apiKey: string): Promise<ApiKeyRecord | undefined> {
    const hash = await hashApiKey(apiKey);
    // Visit every record, so the time taken does not say which one matched.
    let found: ApiKeyRecord | undefined;
    for (const { hash: stored, ...record } of this.#records) if (constantTimeEqual(stored, hash)) found = record;
    return found;
  }
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
