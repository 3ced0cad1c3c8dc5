// Every answer the gateway gives on its own (not the backend's): one registry of proxy errors, code → status, body,
// the reason written to the access log and the metric label. Both HTTP front ends (the HTTP/1.1 engine and the
// Fastify HTTP/2 front end) answer from here, so a status or a body is never a literal spread over files; the
// registry's completeness is tested (dataplane/errors.test.ts). Modelled on fastify's lib/errors.js and agentgateway's
// ProxyError. Upstream failures (connection refused, reset, timeout) are mapped to codes here too.

export interface ProxyError {
  /** The HTTP status sent to the client. */
  status: number;
  /** The text/plain body ('' for none). */
  body: string;
  /** Why, for the access log and the upstream-error metric (snake_case, stable). */
  reason: string;
}

export const PROXY_ERRORS = {
  // The client's request itself (parser and gateway checks).
  BAD_REQUEST: { status: 400, body: 'bad request\n', reason: 'bad_request' },
  DUPLICATE_HOST: { status: 400, body: 'bad request: more than one Host header\n', reason: 'duplicate_host' },
  BAD_PATH: { status: 400, body: 'bad request path\n', reason: 'bad_path' },
  URI_TOO_LONG: { status: 414, body: 'request target too long\n', reason: 'uri_too_long' },
  HEADERS_TOO_LARGE: { status: 431, body: 'request header fields too large\n', reason: 'headers_too_large' },
  HEADERS_TIMEOUT: { status: 408, body: 'request headers took too long\n', reason: 'headers_timeout' },
  TRANSFER_CODING_NOT_IMPLEMENTED: {
    status: 501,
    body: 'transfer coding not implemented: a request body may only be chunked\n',
    reason: 'transfer_coding_not_implemented',
  },
  // Routing.
  LISTENER_NOT_READY: { status: 503, body: 'listener not ready\n', reason: 'listener_not_ready' },
  NO_LISTENER: { status: 404, body: 'no listener for this host\n', reason: 'no_listener' },
  MISDIRECTED: {
    status: 421,
    body: 'misdirected request: this connection was made for another host\n',
    reason: 'misdirected',
  },
  NO_ROUTE: { status: 404, body: 'no matching route\n', reason: 'no_route' },
  NO_BACKEND: { status: 500, body: 'no valid backend for this route\n', reason: 'no_backend' },
  NO_ENDPOINT: { status: 503, body: 'no healthy endpoint\n', reason: 'no_endpoint' },
  UPGRADE_NOT_ROUTABLE: { status: 400, body: 'this route cannot take an upgrade\n', reason: 'upgrade_not_routable' },
  REQUEST_TIMEOUT: { status: 504, body: 'request timed out\n', reason: 'request_timeout' },
  INTERNAL: { status: 500, body: 'internal error\n', reason: 'internal' },
  // External authorization (GEP-1494, GEP-5224), failing closed: the request never reaches a backend. An authorizer
  // that cannot be asked or gives no valid answer (down, timed out, malformed) is 403, Envoy ext_authz's default
  // (`status_on_error`); a filter whose authorizer reference does not resolve is 500, as an unresolved backend is.
  EXT_AUTHZ_ERROR: { status: 403, body: 'external authorization failed\n', reason: 'ext_authz_error' },
  EXT_AUTHZ_INVALID: {
    status: 500,
    body: 'external authorization is not configured correctly\n',
    reason: 'ext_authz_invalid',
  },
  /** A body larger than the authorizer may see (`forwardBody.maxSize`): the filter cannot run on it. */
  EXT_AUTHZ_BODY_TOO_LARGE: {
    status: 413,
    body: 'request body too large for external authorization\n',
    reason: 'ext_authz_body_too_large',
  },
  // The upstream.
  UPSTREAM_UNAVAILABLE: { status: 503, body: 'upstream unavailable\n', reason: 'upstream_unavailable' },
  UPSTREAM_TIMEOUT: { status: 504, body: 'upstream timed out\n', reason: 'upstream_timeout' },
  UPSTREAM_FAILED: { status: 502, body: 'upstream failed\n', reason: 'upstream_failed' },
  BAD_UPSTREAM_RESPONSE: { status: 502, body: 'bad upstream response\n', reason: 'bad_upstream_response' },
} as const satisfies Record<string, ProxyError>;

export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

/** The error of an attempt that ran out its backend request timeout (answered 504, retried if the rule says so). */
export const BACKEND_TIMEOUT = 'PORTICO_BACKEND_TIMEOUT';
/** The client went away (an HTTP/2 stream reset, a closed connection) while an attempt was in flight. */
export const DOWNSTREAM_RESET = 'PORTICO_DOWNSTREAM_RESET';
/** No endpoint could take the request. */
export const NO_ENDPOINTS = 'PORTICO_NO_ENDPOINTS';
/** The authorizer answered and refused the request: the client gets the authorizer's answer (a flag, not an error). */
export const EXT_AUTHZ_DENIED = 'PORTICO_EXT_AUTHZ_DENIED';
/** The upstream's response could not be parsed (llhttp refused it) or broke the rules of a response. */
export const BAD_RESPONSE = 'PORTICO_BAD_RESPONSE';

const UNAVAILABLE = new Set([
  NO_ENDPOINTS,
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
]);
const TIMEOUT = new Set([
  BACKEND_TIMEOUT,
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
]);

/** The innermost error code of an upstream failure (reply-from wraps undici's error in `cause`). */
export function upstreamErrorCode(error: unknown): string {
  let current = error as { code?: string; cause?: unknown } | undefined;
  let code = 'UNKNOWN';
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (typeof current.code === 'string') code = current.code;
    current = current.cause as typeof current;
  }
  return code;
}

/** What the client sees when the upstream fails: 503 when nobody could take it, 504 on a timeout, 502 otherwise. */
export function proxyErrorForUpstream(code: string): ProxyErrorCode {
  if (UNAVAILABLE.has(code)) return 'UPSTREAM_UNAVAILABLE';
  if (TIMEOUT.has(code)) return 'UPSTREAM_TIMEOUT';
  if (code === BAD_RESPONSE || code.startsWith('HPE_')) return 'BAD_UPSTREAM_RESPONSE';
  return 'UPSTREAM_FAILED';
}

/** Connection-level failures a retry may fix: the request never reached a backend or got no response. */
export function isConnectionError(code: string): boolean {
  return (
    UNAVAILABLE.has(code) ||
    code === 'ECONNRESET' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'EPIPE'
  );
}

/** The status and body llhttp's refusal of a request maps to (RFC 9112: 414 for the target, 431 for the head). */
export function proxyErrorForParser(code: string, inRequestLine: boolean): ProxyErrorCode {
  if (code === 'HPE_HEADER_OVERFLOW') return inRequestLine ? 'URI_TOO_LONG' : 'HEADERS_TOO_LARGE';
  return 'BAD_REQUEST';
}
