/**
 * The providers this runtime can run, for suites that run per provider. noble is always there;
 * wasm needs the `@oqs/liboqs-js` devDependency; native needs Node 24.7+ (OpenSSL 3.5), so under
 * Node 20 it is reported missing with the reason (the vector suite then asserts that node:crypto
 * really lacks ML-KEM there).
 *
 * `QPHER_REQUIRE_PROVIDERS=native,wasm` turns a missing provider into a failure: `npm run
 * test:node-lts` sets it, so the native path is proven on this machine rather than skipped.
 */
import { nobleProvider, type PrimitiveProvider } from '../../src/crypto/primitives.js';
import { nativeProvider } from '../../src/crypto/providers/native.js';
import { wasmProvider } from '../../src/crypto/providers/wasm.js';

export interface ProviderUnderTest {
  name: 'noble' | 'native' | 'wasm';
  provider: PrimitiveProvider | undefined;
  /** Why the provider is missing here. */
  missing?: string;
}

let cached: Promise<ProviderUnderTest[]> | undefined;

export function providersUnderTest(): Promise<ProviderUnderTest[]> {
  cached ??= (async () => {
    const list: ProviderUnderTest[] = [{ name: 'noble', provider: nobleProvider }];
    const native = nativeProvider();
    list.push(
      native
        ? { name: 'native', provider: native }
        : { name: 'native', provider: undefined, missing: `node:crypto of Node ${process.version} has no ML-KEM/ML-DSA` },
    );
    try {
      list.push({ name: 'wasm', provider: await wasmProvider() });
    } catch (error) {
      list.push({ name: 'wasm', provider: undefined, missing: `liboqs did not load: ${(error as Error).message}` });
    }
    const required = (process.env.QPHER_REQUIRE_PROVIDERS ?? '').split(',').filter(Boolean);
    for (const name of required) {
      const entry = list.find((p) => p.name === name);
      if (!entry?.provider)
        throw new Error(`provider ${name} is required here (QPHER_REQUIRE_PROVIDERS) but ${entry?.missing ?? 'unknown'}`);
    }
    return list;
  })();
  return cached;
}
