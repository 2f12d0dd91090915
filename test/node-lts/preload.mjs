/**
 * `--import` preload for the LTS legs (set through NODE_OPTIONS by run.mjs, so child processes such
 * as the server CLI get it too): resolves `better-sqlite3` to the copy that setup.mjs built for
 * this leg's ABI (QPHER_LTS_SQLITE). Everything else resolves as usual.
 */
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

const dir = process.env.QPHER_LTS_SQLITE;
if (!dir) throw new Error('QPHER_LTS_SQLITE is not set: run through test/node-lts/run.mjs');
const copy = `${pathToFileURL(dir).href}/`;
const installed = new URL('../../node_modules/better-sqlite3/', import.meta.url).href;

// Bare `better-sqlite3` and any file of the installed package (vitest resolves to file URLs
// before importing) both land in the copy built for this ABI.
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    if (resolved.url.startsWith(installed)) return { ...resolved, url: copy + resolved.url.slice(installed.length), shortCircuit: true };
    return resolved;
  },
});
