/**
 * What the page says about each algorithm: its standard name and what it is for. Keyed by the
 * library's `Algorithm`, so an algorithm added to the library is a type error here until the page
 * knows how to name it.
 * @module
 */
import { ALGORITHMS, type Algorithm } from 'qpher';

export type AlgorithmUse = 'kem' | 'signature';

export const ALGORITHM_FACTS: Record<Algorithm, { label: string; use: AlgorithmUse }> = {
  Kyber768: { label: 'ML-KEM-768', use: 'kem' },
  Dilithium3: { label: 'ML-DSA-65', use: 'signature' },
  'X-Wing': { label: 'X-Wing (ML-KEM-768 + X25519)', use: 'kem' },
  'Composite-ML-DSA': { label: 'ML-DSA-65 + ECDSA P-256', use: 'signature' },
};

export function algorithmLabel(algorithm: Algorithm): string {
  return ALGORITHM_FACTS[algorithm].label;
}

/** Sorts the way the library lists its algorithms (the table's order). */
export function algorithmOrder(algorithm: Algorithm): number {
  return ALGORITHMS.indexOf(algorithm);
}

/** The algorithms of one use, in the library's order (the KEM and signature panels' choices). */
export function algorithmsOf(use: AlgorithmUse): Algorithm[] {
  return ALGORITHMS.filter((a) => ALGORITHM_FACTS[a].use === use);
}
