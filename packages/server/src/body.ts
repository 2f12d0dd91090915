/**
 * Reading and parsing request bodies at the HTTP edge, before the engine sees them: a byte limit
 * enforced while streaming (a declared Content-Length over the limit is refused unread), strict
 * UTF-8, a nesting-depth limit checked by a linear scan of the bytes as they arrive, before
 * `JSON.parse` (a 2 MB body of `[[[[…` would otherwise cost half a second of event loop to parse
 * and scan, only to be refused by the schema), `JSON.parse`, and a refusal of duplicate object keys (parsers disagree on which one
 * wins, so a proxy and this server could read different requests from the same bytes).
 * Every failure is a `BodyError` whose message goes into a 400 envelope.
 * @module
 */

/** 1 MiB of plaintext is ~1.4 MB of base64 in JSON; the limit sits comfortably above it. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Every request body is a flat object (depth 1); the bound leaves room and stays small. */
export const MAX_JSON_DEPTH = 32;

/** A body that sends nothing for this long is cut off. */
export const DEFAULT_BODY_IDLE_MS = 10_000;

export class BodyError extends Error {
  override name = 'BodyError';
}

/**
 * The client stopped sending the body. HTTP would say 408; the error codes have none, and a
 * client's stall is the client's error, so it is a 400 ERR_INVALID_001 with its own message.
 */
export class BodyTimeoutError extends BodyError {
  override name = 'BodyTimeoutError';
  constructor(idleMs: number) {
    super(`Request timeout: the request body stalled (nothing received for ${idleMs} ms); send the whole body without pausing`);
  }
}

export async function readBody(request: Request, maxBytes: number, idleMs = DEFAULT_BODY_IDLE_MS): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  const depth = new DepthScanner(MAX_JSON_DEPTH);
  let total = 0;
  for (;;) {
    const { done, value } = await readWithin(reader, idleMs);
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    // Refused as soon as the nesting goes too deep: the rest is neither kept nor scanned, only
    // drained in the background (up to the byte limit) so that the client, still sending, reads
    // the 400 instead of a reset connection.
    if (depth.exceeded(value)) {
      void discard(reader, maxBytes - total);
      throw tooDeep();
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

/** The next chunk, or BodyTimeoutError (and the stream cancelled) if none comes within `idleMs`. */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, idleMs: number): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyTimeoutError(idleMs)), idleMs);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    // On a stall the read stays pending and the stream is not cancelled (that would reset the
    // socket before the 400 goes out); the answer carries `Connection: close` instead.
    clearTimeout(timer);
  }
}

async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      budget -= value.byteLength;
      if (budget < 0) break;
    }
  } catch {
    return;
  }
  await reader.cancel().catch(() => {});
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
  if (exceedsDepth(bytes, MAX_JSON_DEPTH)) throw tooDeep();
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
 * Tracks how deep brackets outside strings nest, over a body's bytes as they arrive, without
 * allocating: inside a string a backslash skips the next byte (so `"\\"` ends the string and
 * `"\""` does not), and brackets in strings do not count. Scanning UTF-8 bytes is exact because
 * `"`, `\` and brackets are ASCII, and UTF-8 never uses ASCII bytes inside a multi-byte
 * character. Malformed input is left for `JSON.parse` (or the UTF-8 decoder) to refuse.
 */
export class DepthScanner {
  readonly #maxDepth: number;
  #depth = 0;
  #inString = false;
  #escaped = false;

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
  }

  /** Scans the next chunk; true once the nesting has gone past the bound. */
  exceeded(chunk: Uint8Array): boolean {
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    const max = this.#maxDepth;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c /* \ */) escaped = true;
        else if (b === 0x22 /* " */) inString = false;
      } else if (b === 0x22) {
        inString = true;
      } else if (b === 0x7b /* { */ || b === 0x5b /* [ */) {
        if (++depth > max) return true;
      } else if (b === 0x7d /* } */ || b === 0x5d /* ] */) {
        depth--;
      }
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    return false;
  }
}

/** True when `text` (or its UTF-8 bytes) nests brackets outside strings more than `maxDepth` deep. */
export function exceedsDepth(body: string | Uint8Array, maxDepth: number): boolean {
  return new DepthScanner(maxDepth).exceeded(typeof body === 'string' ? new TextEncoder().encode(body) : body);
}

function tooDeep(): BodyError {
  return new BodyError(`Validation failed: request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
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
