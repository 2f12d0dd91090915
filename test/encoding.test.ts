import { describe, expect, test } from 'vitest';
import { base64ToBytes, bytesToBase64, decodedLength, isBase64 } from '../src/encoding.js';

describe('strict base64', () => {
  test('round-trips every length and byte value, including 1 MiB', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = bytesToBase64(bytes);
      expect(base64ToBytes(text)).toEqual(bytes);
      expect(decodedLength(text)).toBe(n);
    }
    const big = new Uint8Array(1_048_576).map((_, i) => i % 251);
    expect(base64ToBytes(bytesToBase64(big))).toEqual(big);
  });

  test.each([
    ['missing padding', 'aGk'],
    ['url-safe alphabet', 'a-_b'],
    ['whitespace', 'aGk=\n'],
    ['inner whitespace', 'aG k='],
    ['non-canonical pad bits (1 pad)', 'aGl='],
    ['non-canonical pad bits (2 pads)', 'aR=='],
    ['padding in the middle', 'aG==aGk='],
    ['too much padding', 'a==='],
    ['non-ASCII', 'aGk＝'],
    // Whitespace that keeps the length a multiple of 4 (the native decoder skips whitespace).
    ['trailing whitespace, length 8', 'aGk= \n\t\r'],
    ['leading whitespace, length 8', ' aGkAAA='],
    ['inner whitespace, length 8', 'aGk AAA='],
  ])('rejects %s', (_, text) => {
    expect(isBase64(text)).toBe(false);
    expect(base64ToBytes(text)).toBeUndefined();
  });

  test("same strings and bytes as Node's own base64 (Buffer), whichever path this runtime takes", () => {
    for (let n = 0; n < 300; n += 7) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
      const text = Buffer.from(bytes).toString('base64');
      expect(bytesToBase64(bytes)).toBe(text);
      expect(base64ToBytes(text)).toEqual(bytes);
    }
  });

  test('accepts the empty string as zero bytes', () => {
    expect(base64ToBytes('')).toEqual(new Uint8Array());
  });
});
