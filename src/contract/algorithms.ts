/**
 * Algorithm names. The wire keeps the spec's names (`Kyber768`, `Dilithium3`); code and docs
 * say what they are: FIPS 203 ML-KEM-768 and FIPS 204 ML-DSA-65, the final standards.
 * @module
 */

export const ALGORITHMS = ['Kyber768', 'Dilithium3'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const KEM_ALGORITHM: Algorithm = 'Kyber768';
export const SIGNATURE_ALGORITHM: Algorithm = 'Dilithium3';

export function isAlgorithm(value: unknown): value is Algorithm {
  return (ALGORITHMS as readonly unknown[]).includes(value);
}

export const KEY_STATUSES = ['active', 'retired', 'archived'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** Largest key_version: versions are u32 in the ciphertext header. */
export const MAX_KEY_VERSION = 0xffff_ffff;
