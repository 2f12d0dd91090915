/**
 * X-Wing sizes and identifiers, without the implementation, so that modules which only need the
 * numbers (format.ts, hpke.ts) do not pull `@noble/post-quantum/hybrid.js` and the X25519 code
 * into bundles that never use X-Wing (./xwing.ts is loaded on first use).
 * @module
 */
/** Sizes of draft-connolly-cfrg-xwing-kem-10 §2 / §5. */
export const X_WING = {
  seedLength: 32,
  publicKeyLength: 1216,
  cipherTextLength: 1120,
  sharedSecretLength: 32,
  encapRandomnessLength: 64,
  /** HPKE KEM id (draft-connolly-cfrg-xwing-kem §6, draft-ietf-hpke-pq MLKEM768-X25519). */
  hpkeKemId: 0x647a,
  /** id-XWing, 1.3.6.1.4.1.62253.25722 (draft-connolly-cfrg-xwing-kem §7). */
  oid: '1.3.6.1.4.1.62253.25722',
} as const;
