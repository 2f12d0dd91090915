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
};

export function algorithmLabel(algorithm: Algorithm): string {
  return ALGORITHM_FACTS[algorithm].label;
}

/** Sorts the way the library lists its algorithms (ML-KEM first, then ML-DSA). */
export function algorithmOrder(algorithm: Algorithm): number {
  return ALGORITHMS.indexOf(algorithm);
}
