/**
 * `qpher/remote`: the facade and the REST client. No post-quantum code, no zod, no Worker: the
 * server does the cryptography. Same classes as the root entry (`qpher`), so both can be mixed.
 * @module
 */
export {
  RemoteBackend,
  type RemoteBackendOptions,
  type RemoteCallOptions,
  type FetchLike,
} from './backends/remote/index.js';
export * from './common.js';
