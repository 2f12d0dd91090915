/** Builds the browser bench page (bench/browser/index.html) from the library's sources. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  build: { target: 'es2022', minify: true, sourcemap: false, emptyOutDir: true },
  worker: { format: 'es' },
});
