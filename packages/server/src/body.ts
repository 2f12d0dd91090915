/**
 * Reading and parsing request bodies at the HTTP edge, before the engine sees them: a byte limit
 * enforced while streaming (a declared Content-Length over the limit is refused unread), strict
 * UTF-8, `JSON.parse`, and a refusal of duplicate object keys (parsers disagree on which one
 * wins, so a proxy and this server could read different requests from the same bytes).
 * Every failure is a `BodyError` whose message goes into a 400 envelope.
 * @module
 */
import { MAX_BACKUP_BASE64_LENGTH } from 'qpher/host';

/** 1 MiB of plaintext is ~1.4 MB of base64 in JSON; the limit sits comfortably above it. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
/**
 * `kms.import` alone may carry more: the largest backup the reader accepts (4 MiB, about 2,000
 * Dilithium3 versions) is 5.6 MB of base64, plus the passphrase (at most 1,024 characters, 6 bytes
 * each as JSON escapes) and the field names.
 */
export const IMPORT_MAX_BODY_BYTES = MAX_BACKUP_BASE64_LENGTH + 16 * 1024;

export class BodyError extends Error {
  override name = 'BodyError';
}

export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(`Validation failed: request body exceeds the limit of ${maxBytes} bytes`);
}

/** Accepts `application/json`, with parameters such as `charset=utf-8`, in any case. */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const [type, ...params] = value.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

export function parseJsonBody(bytes: Uint8Array): { value: unknown; text: string } {
  if (bytes.byteLength === 0) throw new BodyError('Validation failed: request body is empty; send a JSON object');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BodyError('Validation failed: request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BodyError('Validation failed: request body is not valid JSON');
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw new BodyError(`Validation failed: duplicate field ${JSON.stringify(duplicate)}`);
  return { value, text };
}

/**
 * Scans text that `JSON.parse` accepted and returns the first key that appears twice in one
 * object. Iterative (an explicit stack), so deep nesting cannot overflow the call stack.
 */
export function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (ch === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (ch === 0x22 /* " */) {
      let end = i + 1;
      for (;;) {
        end = text.indexOf('"', end);
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
        end++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top instanceof Set) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}
