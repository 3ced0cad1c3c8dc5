// CORS (HTTPRoute `cors` filter): answers preflight requests at the gateway and adds the allow headers to actual
// responses when the Origin is allowed. A disallowed origin gets no CORS headers, which browsers treat as a refusal.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { CompiledCors } from './rules.ts';

export function originAllowed(cors: CompiledCors, origin: string): boolean {
  if (cors.anyOrigin) return true;
  const lower = origin.toLowerCase();
  if (cors.exactOrigins.has(lower)) return true;
  for (const w of cors.wildcardOrigins) {
    if (!lower.startsWith(w.scheme)) continue;
    let hostPort = lower.slice(w.scheme.length);
    if (w.port !== '') {
      if (!hostPort.endsWith(w.port)) continue;
      hostPort = hostPort.slice(0, -w.port.length);
    } else if (hostPort.includes(':')) continue;
    if (hostPort.endsWith(w.suffix) && hostPort.length > w.suffix.length) return true;
  }
  return false;
}

export function isPreflight(method: string, headers: IncomingHttpHeaders): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

function allowOriginValue(cors: CompiledCors, origin: string): string {
  // With credentials, `*` is not allowed by browsers: echo the origin instead.
  return cors.anyOrigin && !cors.allowCredentials ? '*' : origin;
}

/**
 * Headers of the gateway's own answer to a preflight request for an allowed origin. A wildcard method or header
 * list answers with what was asked for: `*` is not honoured by browsers on credentialed requests.
 */
export function preflightHeaders(
  cors: CompiledCors,
  origin: string,
  requested: IncomingHttpHeaders,
): OutgoingHttpHeaders {
  const requestedMethod = requested['access-control-request-method'];
  const headers: OutgoingHttpHeaders = {
    'access-control-allow-origin': allowOriginValue(cors, origin),
    'access-control-allow-methods':
      cors.anyMethod && typeof requestedMethod === 'string' ? requestedMethod : cors.allowMethods,
  };
  const requestedHeaders = requested['access-control-request-headers'];
  const allowHeaders = cors.anyHeader && typeof requestedHeaders === 'string' ? requestedHeaders : cors.allowHeaders;
  if (allowHeaders.length > 0) headers['access-control-allow-headers'] = allowHeaders;
  if (cors.exposeHeaders.length > 0) headers['access-control-expose-headers'] = cors.exposeHeaders;
  if (cors.maxAge !== null) headers['access-control-max-age'] = cors.maxAge;
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (!cors.anyOrigin || cors.allowCredentials) headers.vary = 'Origin';
  return headers;
}

/** Adds the CORS headers of an actual (non-preflight) response. */
export function addResponseCorsHeaders(cors: CompiledCors, origin: string, headers: Record<string, unknown>): void {
  headers['access-control-allow-origin'] = allowOriginValue(cors, origin);
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders.length > 0) headers['access-control-expose-headers'] = cors.exposeHeaders;
  if (!cors.anyOrigin || cors.allowCredentials) headers.vary = 'Origin';
}
