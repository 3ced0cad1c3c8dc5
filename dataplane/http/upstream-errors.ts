// What the client sees when the upstream fails: 503 when no endpoint could take the request, 504 on a timeout, 502
// for everything else the backend did wrong (reset, malformed response).

const UNAVAILABLE = new Set([
  'PORTICO_NO_ENDPOINTS',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
]);
const TIMEOUT = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'PORTICO_BACKEND_TIMEOUT',
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

export function statusForUpstreamError(code: string): number {
  if (UNAVAILABLE.has(code)) return 503;
  if (TIMEOUT.has(code)) return 504;
  return 502;
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
