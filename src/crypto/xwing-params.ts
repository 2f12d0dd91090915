/**
 * X-Wing sizes and identifiers in the primitive's words, read from the algorithm table's `X-Wing`
 * row (src/contract/algorithms.ts), without the implementation: modules that only need the
 * numbers do not pull `@noble/post-quantum/hybrid.js` and the X25519 code into bundles that never
 * use X-Wing (./xwing.ts is loaded on first use).
 * @module
 */
import { ALGORITHM_TABLE } from '../contract/algorithms.js';

const ROW = ALGORITHM_TABLE['X-Wing'];

/** Sizes of draft-connolly-cfrg-xwing-kem-10 §2 / §5, HPKE KEM id (§6) and OID (§7). */
export const X_WING = {
  seedLength: ROW.sizes.seed,
  publicKeyLength: ROW.sizes.publicKey,
  cipherTextLength: ROW.sizes.ciphertext,
  sharedSecretLength: ROW.sizes.sharedSecret,
  encapRandomnessLength: ROW.sizes.encapRandomness,
  hpkeKemId: ROW.hpkeKemId,
  oid: ROW.oid,
} as const;
