// Source-mode entry of a crypto pool thread (tests, the bench, `tsx`): worker threads do not
// inherit `--import tsx`, so register tsx's loader here, then load the TypeScript worker.
// Built code runs dist/crypto-worker.js directly and never loads this file.
import { register } from 'tsx/esm/api';

register();
export default (await import('./crypto-worker.ts')).default;
