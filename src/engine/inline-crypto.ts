/**
 * Old name of ./inline-crypto-runner.ts, kept only so src/server (crypto-worker.ts) compiles
 * until it imports `InlineCryptoRunner` from there. Nothing else may import this module.
 * @module
 */
export { InlineCryptoRunner as InlineCrypto } from './inline-crypto-runner.js';
