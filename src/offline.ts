/**
 * `qpher/offline`: seal or encapsulate to a published ML-KEM-768 key, and verify (a message or a
 * digest) against a published ML-DSA-65 key, with no backend, no key store and no Worker.
 * @module
 */
export {
  encapsulateWithPublicKey as encapsulate,
  sealWithPublicKey as seal,
  verifyHashWithPublicKey as verifyHash,
  verifyWithPublicKey as verify,
} from './crypto/seal.js';
export type { HashMlDsaAlgorithm as HashAlgorithm } from './crypto/hash-algorithms.js';
