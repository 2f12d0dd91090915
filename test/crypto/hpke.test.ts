/**
 * HPKE base mode with KEM 0x0041 / KDF 0x0001 / AEAD 0x0002: round trips, failure cases and
 * interop with an independent implementation, hpke-js (@hpke/core + @hpke/ml-kem, whose ML-KEM
 * comes from the `mlkem` package rather than noble).
 *
 * hpke-js takes the private key in the draft-ietf-hpke-pq form: the 64-byte seed d‖z
 * (`MlKem768.privateKeySize === 64`; `importKey('raw', seed, false)`), and expands it itself.
 * @module
 */
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { MlKem768 } from '@hpke/ml-kem';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { hpkeOpen, hpkeSeal } from '../../src/crypto/hpke.js';
import { nobleProvider } from '../../src/crypto/primitives.js';

const seed = Uint8Array.from({ length: 64 }, (_, i) => i);
const { publicKey, secretKey } = nobleProvider.mlKem768.keygen(seed);
const info = utf8ToBytes('qpher hpke test info');
const aad = utf8ToBytes('qpher hpke test aad');
const plaintext = utf8ToBytes('attack at dawn');

/** hpke-js's importKey is typed for ArrayBuffer (it accepts views at runtime too). */
const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;

function makeSuite(): CipherSuite {
  return new CipherSuite({ kem: new MlKem768(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

describe('hpkeSeal / hpkeOpen', () => {
  it('round trips with the expanded key and with the 64-byte seed', async () => {
    const { enc, ciphertext } = await hpkeSeal({ publicKey, info, aad, plaintext });
    expect(enc.length).toBe(1088);
    expect(ciphertext.length).toBe(plaintext.length + 16);
    expect(await hpkeOpen({ secretKey, enc, info, aad, ciphertext })).toEqual(plaintext);
    expect(await hpkeOpen({ secretKey: seed, enc, info, aad, ciphertext })).toEqual(plaintext);
  });

  it('round trips an empty plaintext with empty info and aad', async () => {
    const empty = new Uint8Array(0);
    const { enc, ciphertext } = await hpkeSeal({ publicKey, info: empty, aad: empty, plaintext: empty });
    expect(ciphertext.length).toBe(16);
    expect(await hpkeOpen({ secretKey, enc, info: empty, aad: empty, ciphertext })).toEqual(empty);
  });

  it('is randomized unless encapRandomness is fixed', async () => {
    const a = await hpkeSeal({ publicKey, info, aad, plaintext });
    const b = await hpkeSeal({ publicKey, info, aad, plaintext });
    expect(a.enc).not.toEqual(b.enc);
    const m = new Uint8Array(32).fill(7);
    const c = await hpkeSeal({ publicKey, info, aad, plaintext, encapRandomness: m });
    const d = await hpkeSeal({ publicKey, info, aad, plaintext, encapRandomness: m });
    expect(c).toEqual(d);
  });

  it('fails on wrong info, aad, key, enc or ciphertext', async () => {
    const { enc, ciphertext } = await hpkeSeal({ publicKey, info, aad, plaintext });
    const other = nobleProvider.mlKem768.keygen(new Uint8Array(64).fill(9));
    const flip = (bytes: Uint8Array, i: number): Uint8Array => {
      const copy = bytes.slice();
      copy[i]! ^= 1;
      return copy;
    };
    await expect(hpkeOpen({ secretKey, enc, info: flip(info, 0), aad, ciphertext })).rejects.toThrow();
    await expect(hpkeOpen({ secretKey, enc, info, aad: flip(aad, 3), ciphertext })).rejects.toThrow();
    await expect(hpkeOpen({ secretKey: other.secretKey, enc, info, aad, ciphertext })).rejects.toThrow();
    await expect(hpkeOpen({ secretKey, enc: flip(enc, 100), info, aad, ciphertext })).rejects.toThrow();
    await expect(hpkeOpen({ secretKey, enc, info, aad, ciphertext: flip(ciphertext, 0) })).rejects.toThrow();
    await expect(hpkeOpen({ secretKey, enc: enc.subarray(1), info, aad, ciphertext })).rejects.toThrow();
  });

  it('refuses an encapsulation key that fails the FIPS 203 §7.2 modulus check', async () => {
    const bad = publicKey.slice();
    bad[0] = 0xff;
    bad[1] = 0xff; // first 12-bit coefficient = 4095 >= q
    await expect(hpkeSeal({ publicKey: bad, info, aad, plaintext })).rejects.toThrow(RangeError);
    await expect(hpkeSeal({ publicKey: publicKey.subarray(1), info, aad, plaintext })).rejects.toThrow(RangeError);
  });

  it('rejects secret keys of any other length', async () => {
    const { enc, ciphertext } = await hpkeSeal({ publicKey, info, aad, plaintext });
    await expect(hpkeOpen({ secretKey: seed.subarray(1), enc, info, aad, ciphertext })).rejects.toThrow(RangeError);
  });
});

describe('interop with hpke-js (@hpke/core + @hpke/ml-kem)', () => {
  it('uses KEM id 0x0041 and a 64-byte private key', () => {
    const k = new MlKem768();
    expect(k.id).toBe(0x0041);
    expect(k.privateKeySize).toBe(64);
  });

  it('hpke-js opens what we seal, given the 64-byte seed', async () => {
    const suite = makeSuite();
    const recipientKey = await suite.kem.importKey('raw', arrayBuffer(seed), false);
    for (const pt of [plaintext, new Uint8Array(0), new Uint8Array(70_000).fill(0xab)]) {
      const { enc, ciphertext } = await hpkeSeal({ publicKey, info, aad, plaintext: pt });
      const opened = await suite.open({ recipientKey, enc: enc.slice(), info: info.slice() }, ciphertext.slice(), aad.slice());
      expect(new Uint8Array(opened)).toEqual(pt);
    }
  });

  it('we open what hpke-js seals', async () => {
    const suite = makeSuite();
    const recipientPublicKey = await suite.kem.importKey('raw', arrayBuffer(publicKey), true);
    const { ct, enc } = await suite.seal({ recipientPublicKey, info: info.slice() }, plaintext.slice(), aad.slice());
    const opened = await hpkeOpen({ secretKey: seed, enc: new Uint8Array(enc), info, aad, ciphertext: new Uint8Array(ct) });
    expect(opened).toEqual(plaintext);
  });

  it('with the same encapsulation randomness both produce identical bytes', async () => {
    const suite = makeSuite();
    const recipientPublicKey = await suite.kem.importKey('raw', arrayBuffer(publicKey), true);
    const m = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const ctx = await suite.createSenderContext({ recipientPublicKey, info: info.slice(), ekm: m.slice() });
    const theirs = new Uint8Array(await ctx.seal(plaintext.slice(), aad.slice()));
    const ours = await hpkeSeal({ publicKey, info, aad, plaintext, encapRandomness: m });
    expect(ours.enc).toEqual(new Uint8Array(ctx.enc));
    expect(ours.ciphertext).toEqual(theirs);
  });
});
