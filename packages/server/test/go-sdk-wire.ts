/**
 * What the official Go SDK (qpher-go v0.2.0) puts on the wire and how it reads the answer, written
 * from its source so the compatibility suite can replay it byte for byte without Go:
 *
 * - requests (qpher-go v0.2.0, http.go `doRequest`): `x-api-key`, `Content-Type`, `Accept` and
 *   `User-Agent: qpher-go/0.2.0` set with `Header.Set`, which net/http canonicalises
 *   (`X-Api-Key`) and writes after `Host`, `User-Agent` and `Content-Length`, sorted by name; the
 *   default transport adds `Accept-Encoding: gzip` last and un-gzips the answer. No
 *   `X-Request-ID`, no `Idempotency-Key`. A GET has no body and no `Content-Length`.
 * - bodies: `encoding/json` marshals a struct's fields in declaration order, drops empty
 *   `omitempty` strings, writes ints as numbers and escapes `<`, `>`, `&` (kem.go, keys.go,
 *   signatures.go request structs).
 * - query strings: `url.Values.Encode`, keys sorted, `QueryEscape`d (keys.go `GetActive`, `Get`, `List`).
 * - answers: `json.Unmarshal` into the response structs, then `base64.StdEncoding` for binary
 *   fields; errors (http.go `parseErrorResponse`): `error.error_code` and `error.message`, else
 *   `ERR_UNKNOWN_<status>` / `HTTP <status>`; statuses 429, 502, 503, 504 are retried.
 */
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';

export const GO_USER_AGENT = 'qpher-go/0.2.0';
/** qpher-go v0.2.0, http.go `retryableStatusCodes`. */
export const GO_RETRIED_STATUSES = new Set([429, 502, 503, 504]);

/** A struct field: JSON name, value, and whether its tag says `omitempty` (only strings here). */
export type GoField = readonly [name: string, value: string | number, omitempty?: 'omitempty'];

/** `json.Marshal` of a flat struct: declaration order, omitempty, Go's HTML escaping. */
export function goMarshal(fields: readonly GoField[]): string {
  const kept = fields.filter(([, value, omit]) => !(omit && value === ''));
  const json = `{${kept.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',')}}`;
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `url.Values.Encode`: keys sorted, each key and value `url.QueryEscape`d. */
export function goQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(params[k] as string)}`)
    .join('&');
}

function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface GoRequest {
  method: 'GET' | 'POST';
  /** Path with query string, as `baseURL + path + "?" + values.Encode()` builds it. */
  target: string;
  /** The marshalled body (POST only). */
  body?: string;
}

export interface WireAnswer {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** The body after un-gzipping, as Go's transport hands it to the SDK. */
  text: string;
  /** The exact request bytes that were sent (for assertions on the request itself). */
  sent: string;
}

/** The request bytes net/http writes for qpher-go v0.2.0 (HTTP/1.1, one request). */
export function goRequestBytes(baseUrl: string, apiKey: string, request: GoRequest): string {
  const url = new URL(baseUrl);
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${url.host}`, `User-Agent: ${GO_USER_AGENT}`];
  if (request.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
  lines.push('Accept: application/json', 'Content-Type: application/json', `X-Api-Key: ${apiKey}`, 'Accept-Encoding: gzip');
  return `${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`;
}

/** Sends one Go-shaped request over a fresh TCP connection and reads one HTTP/1.1 answer. */
export function sendLikeGo(baseUrl: string, apiKey: string, request: GoRequest): Promise<WireAnswer> {
  const sent = goRequestBytes(baseUrl, apiKey, request);
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let data = Buffer.alloc(0);
    const done = (answer: WireAnswer | Error) => {
      socket.destroy();
      answer instanceof Error ? reject(answer) : resolve(answer);
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const answer = parseAnswer(data, sent);
      if (answer) done(answer);
    });
    socket.on('error', done);
    socket.on('close', () =>
      done(parseAnswer(data, sent, true) ?? new Error(`incomplete answer: ${data.toString('latin1').slice(0, 200)}`)),
    );
    socket.setTimeout(20_000, () => done(new Error('no answer in 20 s')));
    socket.write(sent);
  });
}

function parseAnswer(data: Buffer, sent: string, closed = false): WireAnswer | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const unchunked = dechunk(body);
    if (!unchunked) return undefined;
    body = unchunked;
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (body.length < length) return undefined;
    body = body.subarray(0, length);
  } else if (!closed) return undefined;
  if (headers['content-encoding'] === 'gzip') body = gunzipSync(body);
  return { status: Number(statusLine.split(' ')[1]), headers, text: body.toString('utf8'), sent };
}

function dechunk(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts);
    if (body.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * A Go response struct's `data` fields: `int`, `string`, `bool`, `b64` (a string the SDK decodes
 * with base64.StdEncoding), `int|null` where a JSON null is fine for Go (it leaves the zero value),
 * or the element shape of an array.
 */
export type GoType = 'int' | 'int|null' | 'string' | 'bool' | 'b64' | { array: GoShape };
export type GoShape = Record<string, GoType>;

/** base64.StdEncoding.DecodeString: standard alphabet, padding required. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Reads a success body the way the SDK's `json.Unmarshal` + base64 decoding does and returns the
 * values it would hand its caller (binary fields as Buffers, a null int as 0). Where Go would fail
 * (wrong JSON type, bad base64) this throws; where Go would *silently* read a zero value (a field
 * absent) it throws too, since the caller would get a wrong answer without an error.
 */
export function readLikeGo(text: string, shape: GoShape): { data: Record<string, unknown>; requestId: string } {
  const body = JSON.parse(text) as { data?: unknown; request_id?: unknown };
  if (typeof body.request_id !== 'string' || body.request_id === '') throw new Error('request_id: not a non-empty string');
  return { data: readObject(body.data, shape, 'data'), requestId: body.request_id };
}

function readObject(value: unknown, shape: GoShape, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: not an object`);
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(shape)) {
    out[name] = readValue((value as Record<string, unknown>)[name], type, `${path}.${name}`);
  }
  return out;
}

function readValue(value: unknown, type: GoType, path: string): unknown {
  if (value === undefined) throw new Error(`${path}: absent (Go would read a zero value)`);
  if (typeof type === 'object') {
    if (!Array.isArray(value)) throw new Error(`${path}: not an array`);
    return value.map((v, i) => readObject(v, type.array, `${path}[${i}]`));
  }
  switch (type) {
    case 'int|null':
      if (value === null) return 0;
      return readValue(value, 'int', path);
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Error(`${path}: not an integer`);
      return value;
    case 'string':
      if (typeof value !== 'string') throw new Error(`${path}: not a string`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new Error(`${path}: not a boolean`);
      return value;
    case 'b64':
      if (typeof value !== 'string' || !STD_BASE64.test(value)) throw new Error(`${path}: not standard padded base64`);
      return Buffer.from(value, 'base64');
  }
}

export interface GoError {
  code: string;
  message: string;
  statusCode: number;
  requestId: string;
  /** Whether the SDK would send the request again (with backoff) before giving up. */
  retried: boolean;
}

/** qpher-go v0.2.0, http.go `parseErrorResponse`: what `*qpher.Error` a failed answer becomes. */
export function errorLikeGo(status: number, text: string): GoError {
  let parsed: { error?: { error_code?: unknown; message?: unknown }; request_id?: unknown } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const code = typeof parsed?.error?.error_code === 'string' && parsed.error.error_code ? parsed.error.error_code : `ERR_UNKNOWN_${status}`;
  const message = typeof parsed?.error?.message === 'string' && parsed.error.message ? parsed.error.message : `HTTP ${status}`;
  const requestId = typeof parsed?.request_id === 'string' ? parsed.request_id : '';
  return { code, message, statusCode: status, requestId, retried: GO_RETRIED_STATUSES.has(status) };
}
