/**
 * `qpher/server` (Node only: the `exports` map offers it under the `node` condition alone, so a
 * browser bundle that imports it fails to resolve instead of pulling in Node built-ins).
 * Embeds the REST server; the `qpher serve` CLI is the usual way to run it.
 * @module
 */
export { startServer, type ServeOptions, type RunningServer } from './node.js';
export { createApp, type AppOptions } from './app.js';
