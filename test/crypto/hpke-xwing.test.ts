/**
 * HPKE with X-Wing (KEM 0x647a): round trips and failures through src/crypto/hpke.ts, interop
 * with an independent implementation (hpke-js: @hpke/core + @hpke/hybridkem-x-wing, whose ML-KEM
 * is the `mlkem` package and whose X25519 is @hpke/dhkem-x25519), and the draft-ietf-hpke-pq-04
 * test vectors (test/vectors/hybrid/hpke_pq_test_vectors.json) for the parts we implement.
 *
 * The HPKE-PQ vectors pair ML-KEM-768 / X-Wing with AES-128-GCM and ChaCha20Poly1305, never with
 * our AES-256-GCM, so from them we check: the KEM (keys from skRm, enc and shared_secret from
 * ikmE, decapsulation), suite_id, the HKDF-SHA256 key schedule (key, base_nonce, exporter_secret
 * with that AEAD's Nk), every encryption (with @noble/ciphers' AEADs and nonce = base_nonce XOR
 * seq) and every export. The SHAKE256 (KDF 0x0011) entry uses the one-stage key schedule, which
 * we do not implement: only its KEM part is checked. DeriveKeyPair (SHAKE256 LabeledDerive) is
 * computed here to check that skRm follows from ikmR as the draft says.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { HPKE_KEM_IDS, hpkeExport, hpkeKeySchedule, hpkeOpen, hpkeSeal, hpkeSuiteId } from '../../src/crypto/hpke.js';
import { nobleProvider } from '../../src/crypto/primitives.js';
import { xwingDecapsulate, xwingEncapsulate, xwingKeygen } from '../../src/crypto/xwing.js';

const seed = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
const { publicKey } = xwingKeygen(seed);
const info = utf8ToBytes('qpher hpke x-wing test info');
const aad = utf8ToBytes('qpher hpke x-wing test aad');
const plaintext = utf8ToBytes('attack at dusk');
const kem = 'X-Wing' as const;

const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;
const makeSuite = () => new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const flip = (bytes: Uint8Array, i: number): Uint8Array => {
  const copy = bytes.slice();
  copy[i]! ^= 1;
  return copy;
};

describe('hpkeSeal / hpkeOpen with X-Wing', () => {
  it('round trips; enc is the 1120-byte X-Wing ciphertext', async () => {
    const { enc, ciphertext } = await hpkeSeal({ kem, publicKey, info, aad, plaintext });
    expect(enc.length).toBe(1120);
    expect(ciphertext.length).toBe(plaintext.length + 16);
    expect(await hpkeOpen({ kem, secretKey: seed, enc, info, aad, ciphertext })).toEqual(plaintext);
  });

  it('fixed eseed gives identical bytes; the suite differs from ML-KEM-768 (suite_id in the key schedule)', async () => {
    const eseed = new Uint8Array(64).fill(7);
    const a = await hpkeSeal({ kem, publicKey, info, aad, plaintext, encapRandomness: eseed });
    const b = await hpkeSeal({ kem, publicKey, info, aad, plaintext, encapRandomness: eseed });
    expect(a).toEqual(b);
    expect(bytesToHex(hpkeSuiteId(HPKE_KEM_IDS['X-Wing'], 1, 2))).toBe('48504b45647a00010002');
    expect(bytesToHex(hpkeSuiteId(HPKE_KEM_IDS['ML-KEM-768'], 1, 2))).toBe('48504b45004100010002');
  });

  it('fails on wrong info, aad, key, enc or ciphertext, and on the wrong KEM', async () => {
    const { enc, ciphertext } = await hpkeSeal({ kem, publicKey, info, aad, plaintext });
    const open = (o: Partial<Parameters<typeof hpkeOpen>[0]>) => hpkeOpen({ kem, secretKey: seed, enc, info, aad, ciphertext, ...o });
    await expect(open({ info: flip(info, 0) })).rejects.toThrow();
    await expect(open({ aad: flip(aad, 2) })).rejects.toThrow();
    await expect(open({ secretKey: flip(seed, 0) })).rejects.toThrow();
    await expect(open({ enc: flip(enc, 5) })).rejects.toThrow(); // ML-KEM half
    await expect(open({ enc: flip(enc, 1110) })).rejects.toThrow(); // X25519 half
    await expect(open({ ciphertext: flip(ciphertext, 0) })).rejects.toThrow();
    await expect(open({ enc: enc.subarray(1) })).rejects.toThrow(RangeError);
    await expect(open({ kem: 'ML-KEM-768', secretKey: new Uint8Array(64), enc: enc.subarray(0, 1088) })).rejects.toThrow();
    await expect(open({ kem: 'Kyber' as 'X-Wing' })).rejects.toThrow(TypeError);
  });

  it('refuses invalid public keys with a RangeError', async () => {
    const bad = publicKey.slice();
    bad.fill(0, 1184);
    await expect(hpkeSeal({ kem, publicKey: bad, info, aad, plaintext })).rejects.toThrow(RangeError);
    await expect(hpkeSeal({ kem, publicKey: publicKey.subarray(0, 1184), info, aad, plaintext })).rejects.toThrow(RangeError);
  });
});

describe('interop with hpke-js (@hpke/core + @hpke/hybridkem-x-wing)', () => {
  it('KEM id 0x647a, 32-byte private key, same public key from the seed', async () => {
    const x = new XWing();
    expect(x.id).toBe(0x647a);
    expect(x.privateKeySize).toBe(32);
    expect(x.publicKeySize).toBe(1216);
    expect(x.encSize).toBe(1120);
  });

  it('hpke-js opens what we seal', async () => {
    const suite = makeSuite();
    const recipientKey = await suite.kem.importKey('raw', arrayBuffer(seed), false);
    for (const pt of [plaintext, new Uint8Array(0), new Uint8Array(70_000).fill(0x5a)]) {
      const { enc, ciphertext } = await hpkeSeal({ kem, publicKey, info, aad, plaintext: pt });
      const opened = await suite.open({ recipientKey, enc: enc.slice(), info: info.slice() }, ciphertext.slice(), aad.slice());
      expect(new Uint8Array(opened)).toEqual(pt);
    }
  });

  it('we open what hpke-js seals', async () => {
    const suite = makeSuite();
    const recipientPublicKey = await suite.kem.importKey('raw', arrayBuffer(publicKey), true);
    const { ct, enc } = await suite.seal({ recipientPublicKey, info: info.slice() }, plaintext.slice(), aad.slice());
    const opened = await hpkeOpen({ kem, secretKey: seed, enc: new Uint8Array(enc), info, aad, ciphertext: new Uint8Array(ct) });
    expect(opened).toEqual(plaintext);
  });

  it('with the same eseed both produce identical bytes', async () => {
    const suite = makeSuite();
    const recipientPublicKey = await suite.kem.importKey('raw', arrayBuffer(publicKey), true);
    const eseed = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
    const ctx = await suite.createSenderContext({ recipientPublicKey, info: info.slice(), ekm: eseed.slice() });
    const theirs = new Uint8Array(await ctx.seal(plaintext.slice(), aad.slice()));
    const ours = await hpkeSeal({ kem, publicKey, info, aad, plaintext, encapRandomness: eseed });
    expect(ours.enc).toEqual(new Uint8Array(ctx.enc));
    expect(ours.ciphertext).toEqual(theirs);
  });
});

interface HpkePqVector {
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  ikmE: string;
  ikmR: string;
  skRm: string;
  pkRm: string;
  enc: string;
  shared_secret: string;
  suite_id: string;
  key: string;
  base_nonce: string;
  exporter_secret: string;
  encryptions: { aad: string; ct: string; nonce: string; pt: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

const hpkePq = JSON.parse(readFileSync(new URL('../vectors/hybrid/hpke_pq_test_vectors.json', import.meta.url), 'utf8')) as HpkePqVector[];

const lp = (bytes: Uint8Array) => concatBytes(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes);

/** draft-ietf-hpke-hpke-03 DeriveKeyPair for these KEMs: LabeledDerive(ikm, "DeriveKeyPair", "", Nsk) with SHAKE256. */
function deriveKeyPairSeed(kemId: number, ikm: Uint8Array, nsk: number): Uint8Array {
  const suiteId = concatBytes(utf8ToBytes('KEM'), Uint8Array.of(kemId >> 8, kemId & 0xff));
  const labeled = concatBytes(
    ikm,
    utf8ToBytes('HPKE-v1'),
    suiteId,
    lp(utf8ToBytes('DeriveKeyPair')),
    Uint8Array.of(0, nsk),
    new Uint8Array(0),
  );
  return shake256(labeled, { dkLen: nsk });
}

const AEADS: Record<number, { nk: number; seal: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array) => Uint8Array }> = {
  1: { nk: 16, seal: (k, n, a, p) => gcm(k, n, a).encrypt(p) },
  3: { nk: 32, seal: (k, n, a, p) => chacha20poly1305(k, n, a).encrypt(p) },
};

describe('draft-ietf-hpke-pq-04 test vectors (ML-KEM-768 0x0041, X-Wing 0x647a)', () => {
  it('holds the three upstream base-mode entries', () => {
    expect(hpkePq.map((v) => [v.mode, v.kem_id, v.kdf_id, v.aead_id])).toEqual([
      [0, 0x0041, 1, 1],
      [0, 0x647a, 1, 3],
      [0, 0x647a, 0x11, 3],
    ]);
  });

  it.each(hpkePq.map((v) => [`kem ${v.kem_id.toString(16)} kdf ${v.kdf_id} aead ${v.aead_id}`, v] as const))(
    '%s: DeriveKeyPair, keys, encaps from ikmE, decaps',
    (_, v) => {
      const skRm = hexToBytes(v.skRm);
      expect(bytesToHex(deriveKeyPairSeed(v.kem_id, hexToBytes(v.ikmR), skRm.length))).toBe(v.skRm);
      if (v.kem_id === HPKE_KEM_IDS['X-Wing']) {
        expect(bytesToHex(xwingKeygen(skRm).publicKey)).toBe(v.pkRm);
        const { cipherText, sharedSecret } = xwingEncapsulate(hexToBytes(v.pkRm), hexToBytes(v.ikmE));
        expect([bytesToHex(cipherText), bytesToHex(sharedSecret)]).toEqual([v.enc, v.shared_secret]);
        expect(bytesToHex(xwingDecapsulate(hexToBytes(v.enc), skRm))).toBe(v.shared_secret);
      } else {
        expect(v.kem_id).toBe(HPKE_KEM_IDS['ML-KEM-768']);
        const { publicKey: pk, secretKey: sk } = nobleProvider.mlKem768.keygen(skRm);
        expect(bytesToHex(pk)).toBe(v.pkRm);
        const { cipherText, sharedSecret } = nobleProvider.mlKem768.encapsulate(pk, hexToBytes(v.ikmE));
        expect([bytesToHex(cipherText), bytesToHex(sharedSecret)]).toEqual([v.enc, v.shared_secret]);
        expect(bytesToHex(nobleProvider.mlKem768.decapsulate(hexToBytes(v.enc), sk))).toBe(v.shared_secret);
      }
    },
  );

  const twoStage = hpkePq.filter((v) => v.kdf_id === 0x0001);
  it.each(twoStage.map((v) => [`kem ${v.kem_id.toString(16)} aead ${v.aead_id}`, v] as const))(
    '%s: suite_id, HKDF-SHA256 key schedule, all encryptions and exports',
    (_, v) => {
      const suiteId = hpkeSuiteId(v.kem_id, v.kdf_id, v.aead_id);
      expect(bytesToHex(suiteId)).toBe(v.suite_id);
      const aead = AEADS[v.aead_id]!;
      const ks = hpkeKeySchedule({ suiteId, sharedSecret: hexToBytes(v.shared_secret), info: hexToBytes(v.info), nk: aead.nk, nn: 12 });
      expect(bytesToHex(ks.key)).toBe(v.key);
      expect(bytesToHex(ks.baseNonce)).toBe(v.base_nonce);
      expect(bytesToHex(ks.exporterSecret)).toBe(v.exporter_secret);
      expect(v.encryptions.length).toBe(10);
      v.encryptions.forEach((e, seq) => {
        const nonce = ks.baseNonce.slice();
        nonce[11]! ^= seq; // RFC 9180 §5.2: base_nonce XOR I2OSP(seq, Nn); seq < 256 here
        expect(bytesToHex(nonce)).toBe(e.nonce);
        expect(bytesToHex(aead.seal(ks.key, nonce, hexToBytes(e.aad), hexToBytes(e.pt)))).toBe(e.ct);
      });
      for (const x of v.exports) {
        expect(bytesToHex(hpkeExport(suiteId, ks.exporterSecret, hexToBytes(x.exporter_context), x.L))).toBe(x.exported_value);
      }
    },
  );
});
