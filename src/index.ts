/**
 * Qpher: post-quantum encryption (ML-KEM-768 + HPKE) and signatures (ML-DSA-65) behind one API,
 * run locally or against a Qpher REST server.
 * @module
 */
export * from './remote.js';
export * from './local.js';
export * from './offline.js';
