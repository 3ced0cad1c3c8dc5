// The head of a request as it goes upstream: the client's headers minus hop-by-hop and framing ones, the upstream
// Host (the client's, or the URLRewrite hostname), X-Forwarded-For/-Proto/-Host, the rule's then the backend
// reference's header modifiers, and the engine's own framing for the body it will send (the client's
// Content-Length, or chunked when the client's body was chunked): a body is framed once, by the engine.

import type { Routed } from '../core/route.ts';
import { applyHeaderOps, setForwardedHeaders } from '../http/headers.ts';
import type { HeaderBag } from '../http/headers.ts';
import type { H1Request } from './connection.ts';
import { headerLines, stripHopByHop } from './head.ts';

/** Rewrites `request.headers` in place into the headers to send upstream (the request keeps no other use for them). */
export function upstreamHeaders(request: H1Request, routed: Routed): HeaderBag {
  const headers = request.headers as HeaderBag;
  stripHopByHop(headers);
  headers.host = routed.upstreamHost;
  setForwardedHeaders(
    headers,
    request.connection.socket.remoteAddress,
    routed.listener?.scheme ?? 'http',
    routed.clientHost,
  );
  const rule = routed.rule;
  const ref = routed.ref;
  if (rule !== null && rule.requestHeaders !== null) applyHeaderOps(headers, rule.requestHeaders);
  if (ref !== null && ref.requestHeaders !== null) applyHeaderOps(headers, ref.requestHeaders);
  // A sampled request's traceparent is each attempt's own (proxy.ts adds it); tracestate goes as the client sent it.
  if (request.obs !== null && request.obs.server !== null) delete headers.traceparent;
  return headers;
}

/** The request line and headers for an HTTP/1.1 upstream; '' when `http1` is false (the headers are still rewritten). */
export function buildRequestHead(request: H1Request, routed: Routed, http1: boolean): string {
  const length = request.headers['content-length'];
  const headers = upstreamHeaders(request, routed);
  if (!http1) return '';
  let head = `${request.method} ${routed.upstreamTarget} HTTP/1.1\r\n${headerLines(headers)}`;
  if (request.bodyKind === 1) head += `content-length: ${length}\r\n`;
  else if (request.bodyKind === 2) head += 'transfer-encoding: chunked\r\n';
  return `${head}\r\n`;
}

/** The head of a WebSocket upgrade: as `buildRequestHead`, with the upgrade's own Connection and Upgrade kept. */
export function buildUpgradeHead(request: H1Request, routed: Routed): string {
  const upgrade = request.headers.upgrade as string;
  const headers = upstreamHeaders(request, routed);
  headers.connection = 'Upgrade';
  headers.upgrade = upgrade;
  return `${request.method} ${routed.upstreamTarget} HTTP/1.1\r\n${headerLines(headers)}\r\n`;
}
