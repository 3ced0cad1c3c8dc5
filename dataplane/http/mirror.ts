// RequestMirror: a copy of the request goes to the mirror backend and its response is thrown away. A mirror never
// delays or changes the main response: its copy of a request body is fed from the same chunks as the main request,
// at the main request's pace; a mirror that falls more than MIRROR_BUFFER_LIMIT behind is dropped, never waited for.
// Its errors are counted, not surfaced.

import { PassThrough } from 'node:stream';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { HttpMetrics } from './metrics.ts';
import type { Mirror } from './rules.ts';
import type { Span } from '../../shared/telemetry/span.ts';
import type { ShardTracing } from '../telemetry/tracing.ts';
import { upstreamErrorCode } from '../errors.ts';

/** A sampled request's tracing: each mirror gets a client span (`portico.mirror: true`) and its own traceparent. */
export interface MirrorTrace {
  tracing: ShardTracing;
  server: Span;
}

/** How far a mirror's copy of a body may lag before the mirror is given up. */
export const MIRROR_BUFFER_LIMIT = 1024 * 1024;

export function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The mirrors this request goes to (each mirror's percentage decided here), from the rule's and the backend's. */
export function chooseMirrors(ruleMirrors: Mirror[], refMirrors: Mirror[]): Mirror[] {
  const chosen: Mirror[] = [];
  for (const list of [ruleMirrors, refMirrors]) {
    for (let i = 0; i < list.length; i++)
      if (list[i].fraction >= 1 || Math.random() < list[i].fraction) chosen.push(list[i]);
  }
  return chosen;
}

/**
 * Splits a request body into the stream the main request reads and one copy per mirror. The main stream sets the
 * pace (the source pauses when it is full); copies that cannot keep up are destroyed.
 */
export function teeBody(source: IncomingMessage, copies: number): { main: PassThrough; mirrors: PassThrough[] } {
  const main = new PassThrough();
  const mirrors = Array.from({ length: copies }, () => new PassThrough());
  source.on('data', (chunk: Buffer) => {
    if (!main.write(chunk)) {
      source.pause();
      main.once('drain', () => source.resume());
    }
    for (const copy of mirrors) {
      if (copy.destroyed) continue;
      if (copy.writableLength > MIRROR_BUFFER_LIMIT) copy.destroy(new Error('mirror fell behind'));
      else copy.write(chunk);
    }
  });
  source.once('end', () => {
    main.end();
    for (const copy of mirrors) if (!copy.destroyed) copy.end();
  });
  source.once('error', (error) => {
    main.destroy(error);
    for (const copy of mirrors) copy.destroy(error);
  });
  return { main, mirrors };
}

export function sendMirrors(
  mirrors: Mirror[],
  bodies: PassThrough[] | null,
  registry: UpstreamRegistry,
  /** The client certificate of the listener the request came in on (`Listener.backendClientCertificateKey`). */
  clientCertificateKey: string | undefined,
  request: { method: string; path: string; query: string; headers: IncomingHttpHeaders; upstreamHost: string },
  metrics: HttpMetrics,
  trace: MirrorTrace | null = null,
): void {
  for (let i = 0; i < mirrors.length; i++) {
    const mirror = mirrors[i];
    const body = bodies === null ? null : bodies[i];
    const endpoint = registry.backend(mirror.backendKey, clientCertificateKey)?.endpoints.pick();
    if (endpoint === undefined || endpoint.pool === null) {
      body?.destroy();
      metrics.mirror(mirror.backendKey, 'failed');
      continue;
    }
    const headers: Record<string, string | string[] | undefined> = {};
    // HTTP/2 pseudo-headers (:method, :path, :authority…) are not headers of the mirrored HTTP/1.1 request.
    for (const name in request.headers) if (name.charCodeAt(0) !== 58) headers[name] = request.headers[name];
    headers.host = request.upstreamHost;
    delete headers.connection;
    delete headers['keep-alive'];
    // A chunked body is re-chunked by undici; a body of known length keeps its Content-Length.
    delete headers['transfer-encoding'];
    if (body === null) delete headers['content-length'];
    // Ended when the mirror's response arrives, even after the server span (a child may outlive its parent).
    const span =
      trace === null
        ? null
        : trace.tracing.upstreamSpan(trace.server, {
            method: request.method,
            scheme: endpoint.origin.startsWith('https:') ? 'https' : 'http',
            backend: mirror.backendKey,
            address: endpoint.host,
            port: endpoint.port,
            path: request.path,
            attempt: 1,
            mirror: true,
          });
    if (span !== null) headers.traceparent = span.traceparent();
    endpoint.pool
      .request({
        path: request.query.length > 0 ? `${request.path}?${request.query}` : request.path,
        method: request.method as 'POST',
        headers,
        body: body ?? undefined,
      })
      .then(
        (res) => {
          res.body.resume();
          if (span !== null) trace?.tracing.endUpstream(span, res.statusCode);
          metrics.mirror(mirror.backendKey, 'sent');
        },
        (error: unknown) => {
          if (span !== null) trace?.tracing.endUpstream(span, 0, upstreamErrorCode(error));
          metrics.mirror(mirror.backendKey, 'failed');
        },
      );
  }
}
