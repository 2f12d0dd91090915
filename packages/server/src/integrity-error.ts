/**
 * A stored row failed its integrity check (integrity.ts): someone changed the database outside
 * qpher. An InternalError (ERR_INTERNAL_001, 500) with a fixed message that never names key
 * material; the store reports which row to its `onTamper` log. No `node:*` import, so the app
 * can recognise it.
 * @module
 */
import { InternalError } from 'qpher/host';

export class IntegrityError extends InternalError {
  override name = 'IntegrityError';
  constructor() {
    super('Key store integrity check failed: a stored row was changed outside qpher; refusing to use it');
  }
}
