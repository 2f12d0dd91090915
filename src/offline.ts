/**
 * `qpher/offline`: seal to a published ML-KEM-768 key and verify against a published ML-DSA-65
 * key, with no backend, no key store and no Worker.
 * @module
 */
export { sealWithPublicKey as seal, verifyWithPublicKey as verify } from './crypto/seal.js';
