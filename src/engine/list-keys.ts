/**
 * The handler of `kms.list`: pages over a tenant's keyrings in the table's order (ALGORITHMS),
 * each ascending by version. The store pages each keyring and counts it, so a page costs its own
 * rows plus one count per algorithm, never a whole keyring (src/stores/keystore.ts). The engine
 * loads this module on the first list (a dynamic import), which keeps it out of the browser
 * Worker's first chunk (docs/bundles.md).
 * @module
 */
import { ALGORITHMS } from '../contract/algorithms.js';
import { decodeListCursor, encodeListCursor } from '../contract/list-cursor.js';
import { DEFAULT_LIST_LIMIT, type KeyInfo, type Requests, type Responses } from '../contract/schemas.js';
import type { KeyStore } from '../stores/keystore.js';
import { keyInfo } from './key-info.js';

export async function listKeys(store: KeyStore, tenant: string, req: Requests['kms.list']): Promise<Responses['kms.list']> {
  const algorithms = req.algorithm === undefined ? ALGORITHMS : [req.algorithm];
  const after = req.cursor === undefined ? undefined : decodeListCursor(req.cursor)!;
  const limit = req.limit === undefined ? DEFAULT_LIST_LIMIT : Number(req.limit);
  const status = req.status === undefined ? {} : { status: req.status };
  const page: KeyInfo[] = [];
  let total = 0;
  let more = false;
  for (const algorithm of algorithms) {
    const order = ALGORITHMS.indexOf(algorithm);
    const cursorOrder = after === undefined ? -1 : ALGORITHMS.indexOf(after.algorithm);
    // Keyrings wholly before the cursor are only counted; the cursor's own starts after it.
    const room = order < cursorOrder ? 0 : limit - page.length;
    const start = order === cursorOrder ? after!.key_version : 0;
    // One key beyond the room says whether another page follows.
    const found = await store.list(tenant, algorithm, { ...status, after: start, limit: room === 0 ? 0 : room + 1 });
    total += found.total;
    if (order < cursorOrder) continue;
    // A full page (limit ≥ 1, so only past the cursor's keyring, where start is 0): any key here is the next page's.
    if (room === 0) {
      if (found.total > 0) more = true;
      continue;
    }
    if (found.keys.length > room) more = true;
    for (const key of found.keys.slice(0, room)) page.push(keyInfo(algorithm, key));
  }
  const last = page.at(-1);
  return { keys: page, total, ...(more && last ? { next_cursor: encodeListCursor(last) } : {}) };
}
