/** The contract suite against the local backend, in-process in Node over the memory store. */
import { describe, test } from 'vitest';
import { LocalBackend, Qpher } from '../../src/index.js';
import { scenarios } from './scenarios.js';
import { Transcript } from './transcript.js';

describe('contract: local backend (in-process)', () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(name, async () => {
      const q = new Qpher({ backend: new LocalBackend() });
      await scenario(q, new Transcript());
      await q.close();
    });
  }
});
