/**
 * Old names of ./crypto-runner.ts, kept only so src/server (pool.ts) compiles until it imports
 * `CryptoRunner` from there. Nothing else may import this module.
 * @module
 */
export type { CryptoRunner as CryptoOffload, KeyRef, PublicKeyRef } from './crypto-runner.js';
