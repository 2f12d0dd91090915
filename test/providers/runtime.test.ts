/**
 * Which runtime this suite runs on, and that the automatic choice follows it: in the LTS legs
 * (test/node-lts, QPHER_EXPECT_AUTO_PROVIDER=native) `auto` must pick native; where node:crypto
 * lacks ML-KEM it must pick noble. Probing, never version sniffing, picks the provider; this test only checks the outcome.
 */
import { describe, expect, it } from 'vitest';
import { selectProvider } from '../../src/crypto/select-provider.js';
import { nativeProvider } from '../../src/crypto/providers/native.js';

describe('provider selection on this runtime', () => {
  it(`runs on the expected Node (${process.version})`, () => {
    const expected = process.env.QPHER_EXPECT_NODE_MAJOR;
    if (expected) expect(process.versions.node.split('.')[0]).toBe(expected);
  });

  it('auto picks native exactly where the probe succeeds, noble elsewhere', async () => {
    const auto = await selectProvider('auto');
    expect(auto.name).toBe(nativeProvider() ? 'native' : 'noble');
    const expected = process.env.QPHER_EXPECT_AUTO_PROVIDER;
    if (expected) expect(auto.name).toBe(expected);
  });

  it('an explicit choice never falls back', async () => {
    expect((await selectProvider('noble')).name).toBe('noble');
    if (nativeProvider()) expect((await selectProvider('native')).name).toBe('native');
    else await expect(selectProvider('native')).rejects.toThrow(/Node 24/);
    await expect(selectProvider('bogus' as never)).rejects.toThrow(TypeError);
  });
});
