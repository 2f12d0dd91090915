/**
 * The one handler behind the local backend: a `MainToWorker` message in, a `WorkerToMain`
 * message out. `worker.ts` wires it to `onmessage`; in Node, LocalBackend calls it in-process
 *, so both runtimes validate, fail and answer the same way.
 *
 * It never throws and never leaves a call unanswered: a failed engine start (IndexedDB missing
 * or unusable, wrapping key unreadable) answers the calls waiting for it with ERR_SERVICE_001
 * and is tried again by the next call; anything unexpected is ERR_INTERNAL_001; both through
 * `errorEnvelope`.
 * @module
 */
import { errorEnvelope } from '../../contract/envelope.js';
import type { Engine } from '../../engine/engine.js';
import { QpherError } from '../../errors.js';
import type { CallMessage, InitMessage, MainToWorker, WorkerToMain } from './protocol.js';

export type Handler = (message: MainToWorker) => Promise<WorkerToMain | undefined>;

/** Starts the engine for an `init` message. A QpherError thrown here becomes every call's envelope. */
export type EngineSetup = (init: InitMessage) => Promise<Engine>;

export function createHandler(setup: EngineSetup): Handler {
  let init: InitMessage | undefined;
  let started: Promise<Engine> | undefined;

  /** Starts the engine once; a failed start (say, storage briefly unavailable) is retried by the next call. */
  const start = (): Promise<Engine> => {
    if (!started) {
      const attempt = setup(init!);
      started = attempt;
      attempt.catch(() => {
        if (started === attempt) started = undefined;
      });
    }
    return started;
  };

  const call = async (message: CallMessage): Promise<WorkerToMain> => {
    const { id, operation, request, requestId } = message;
    if (!init) {
      return { type: 'envelope', id, envelope: errorEnvelope('ERR_INTERNAL_001', 'Local engine was not initialised', requestId) };
    }
    const { tenant } = init;
    let engine: Engine;
    try {
      engine = await start();
    } catch (error) {
      const message = error instanceof QpherError && error.code === 'ERR_SERVICE_001' ? error.message : 'Local engine failed to start';
      return { type: 'envelope', id, envelope: errorEnvelope('ERR_SERVICE_001', message, requestId) };
    }
    try {
      return { type: 'envelope', id, envelope: await engine.execute({ tenant }, operation, request, requestId) };
    } catch {
      // Engine.execute does not throw; this is the last line of defence for the promise's sake.
      return { type: 'envelope', id, envelope: errorEnvelope('ERR_INTERNAL_001', 'Internal server error', requestId) };
    }
  };

  return async (message) => {
    switch (message?.type) {
      case 'init':
        if (!init) {
          init = message;
          void start().catch(() => {}); // start now; a failure is reported per call
        }
        return undefined;
      case 'call':
        return call(message);
      default:
        return undefined;
    }
  };
}

/** The Worker global as far as the handler needs it; `self` in a dedicated Worker. */
export interface WorkerScope {
  postMessage(message: WorkerToMain): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<MainToWorker>) => void): void;
}

/** Wires a Worker's incoming messages to the handler and posts its answers back. */
export function serveWorker(scope: WorkerScope, handler: Handler): void {
  scope.addEventListener('message', (event) => {
    void handler(event.data).then((reply) => {
      if (reply) scope.postMessage(reply);
    });
  });
}
