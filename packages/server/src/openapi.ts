/**
 * `GET /api/v1/openapi.json` as served: the contract's document with `servers` set to this
 * server's base URL, so a client generated from it, or a "try it" console, calls the server the
 * document came from.
 *
 * The base URL is the configured public URL when there is one (`qpher serve --public-url`, for a
 * server behind a proxy that terminates TLS or mounts it under a path), otherwise the origin of
 * the request: the scheme this server listens with and the `Host` the client sent. That origin
 * is only ever reflected to the client that sent it, and the answer is `Cache-Control: no-store`.
 * `X-Forwarded-*` headers are not trusted: which proxy may set them is a deployment fact, which
 * is what `--public-url` states.
 * @module
 */
import { buildOpenApiDocument, type OperationName } from 'qpher/host';

type Limits = Parameters<typeof buildOpenApiDocument>[0];

/**
 * Checks a public base URL (http or https, no credentials, query or fragment) and returns it
 * without a trailing slash, as OpenAPI joins it with paths that start with `/`.
 */
export function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`public-url must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`public-url must be http or https, got "${value}"`);
  if (url.username || url.password || url.search || url.hash) {
    throw new Error(`public-url must not have credentials, a query or a fragment, got "${value}"`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * The document body for a request URL. Built and serialised once; each answer only prepends its
 * `servers` member, so an unauthenticated caller cannot make the server rebuild or re-serialise it.
 */
export function servedOpenApi(limits: Limits, publicUrl?: string, omit: readonly OperationName[] = []): (requestUrl: string) => string {
  // Checked at once, so a bad URL fails at startup; built on first request, so startup stays cheap.
  const serverUrl = publicUrl === undefined ? undefined : parsePublicUrl(publicUrl);
  let fixed: string | undefined;
  let members: string | undefined;
  return (requestUrl) => {
    if (serverUrl !== undefined) {
      fixed ??= JSON.stringify(buildOpenApiDocument(limits, { serverUrl, omit }));
      return fixed;
    }
    if (members === undefined) {
      const { servers: _setPerRequest, ...rest } = buildOpenApiDocument(limits, { omit });
      members = JSON.stringify(rest).slice(1); // `"openapi":…}`: the object without its `{`
    }
    return `{"servers":${JSON.stringify([{ url: requestOrigin(requestUrl) }])},${members}`;
  };
}

/** `scheme://host[:port]` of a request URL; `/` (the OpenAPI default: where the document came from) if it has none. */
function requestOrigin(requestUrl: string): string {
  try {
    const origin = new URL(requestUrl).origin;
    return origin === 'null' ? '/' : origin;
  } catch {
    return '/';
  }
}
