/**
 * Chooses a primitive provider at run time. Kept apart from primitives.ts so that modules which
 * only need the noble default (the Worker, `seal`/`verify`) do not make bundlers emit the native
 * and wasm provider chunks that only this function can load.
 * @module
 */
import { nobleProvider, type PrimitiveProvider } from './primitives.js';

export type ProviderName = 'noble' | 'native' | 'wasm';
export type ProviderChoice = ProviderName | 'auto';

export function isProviderChoice(value: unknown): value is ProviderChoice {
  return value === 'auto' || value === 'noble' || value === 'native' || value === 'wasm';
}

/**
 * Picks a provider by name. `auto` (the default) is `native` where this runtime's `node:crypto`
 * does ML-KEM and ML-DSA (Node 24+, probed by doing it once), else noble; wasm is never chosen
 * automatically (opt-in: it loads `@oqs/liboqs-js`). Asking for `native` where it is missing, or
 * for `wasm` where it cannot load, rejects: an explicit choice never silently falls back.
 * The native and wasm modules are loaded by dynamic imports, so a bundle that never calls this
 * with them carries neither.
 */
export async function selectProvider(choice: ProviderChoice = 'auto'): Promise<PrimitiveProvider> {
  if (!isProviderChoice(choice)) throw new TypeError(`Unknown provider ${JSON.stringify(choice)}: use auto, noble, native or wasm`);
  if (choice === 'noble') return nobleProvider;
  if (choice === 'wasm') return (await import('./providers/wasm.js')).wasmProvider();
  const native = (await import('./providers/native.js')).nativeProvider();
  if (native) return native;
  if (choice === 'native')
    throw new Error('The native provider needs node:crypto with ML-KEM-768 and ML-DSA-65 (Node 24.7+ with OpenSSL 3.5)');
  return nobleProvider;
}
