// The endpoint of an HTTP/2 front-end attempt, for its client span: @fastify/reply-from builds the upstream request
// before the gateway dispatcher picks an endpoint, so the span is started without one and registered here under its
// traceparent; the dispatcher, which picks the endpoint of every attempt, completes it. Only sampled requests are
// registered: for the others the dispatcher's cost is one `size` check.

import type { Span } from '../../shared/telemetry/span.ts';

const pending = new Map<string, Span>();

/** Sets `key` on `span`, replacing a value set before (Span.set appends: a key must not appear twice). */
export function replaceAttribute(span: Span, key: string, value: string | number): void {
  const attributes = span.attributes as unknown[];
  for (let i = 0; i < attributes.length; i += 2) {
    if (attributes[i] === key) {
      attributes[i + 1] = value;
      return;
    }
  }
  span.set(key, value);
}

export function awaitEndpoint(traceparent: string, span: Span): void {
  pending.set(traceparent, span);
}

export function forgetEndpoint(traceparent: string): void {
  pending.delete(traceparent);
}

/** The dispatcher's call, per attempt: the span waiting under `traceparent` (if any) gets the endpoint. */
export function endpointChosen(headers: unknown, address: string, port: number): void {
  if (pending.size === 0) return;
  const traceparent = (headers as Record<string, unknown> | undefined)?.traceparent;
  if (typeof traceparent !== 'string') return;
  const span = pending.get(traceparent);
  if (span === undefined) return;
  pending.delete(traceparent);
  span.set('server.address', address).set('server.port', port).set('portico.upstream.address', `${address}:${port}`);
}
