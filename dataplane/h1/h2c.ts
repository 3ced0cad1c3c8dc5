// An engine request for an h2c backend (HTTP/2 with prior knowledge, e.g. a gRPC-capable service reached from an
// HTTP/1.1 client): forwarded through the backend's undici pool (HTTP/2 upstream) with the dispatcher's exchange.
// HTTPRoute retries and both timeouts come from the routing core's one policy (core/retry.ts), as on the engine's
// HTTP/1.1 path and the HTTP/2 front end: a request without a body is sent again, on an endpoint picked anew.
// Off the hot path: a stream for the body, a closure per attempt.

import { PassThrough } from 'node:stream';
import type { Routed } from '../core/route.ts';
import { countResponse } from '../core/route.ts';
import { requestTimeoutLeft } from '../core/authorize.ts';
import { NO_RETRY, armDeadline, clearDeadline, retryDelay } from '../core/retry.ts';
import { NO_ENDPOINTS, PROXY_ERRORS, proxyErrorForUpstream, upstreamErrorCode } from '../errors.ts';
import { addResponseCorsHeaders } from '../http/cors.ts';
import { addSessionHeader, applyHeaderOps } from '../http/headers.ts';
import type { HeaderBag } from '../http/headers.ts';
import { BufferedBody, Exchange } from '../upstream/exchange.ts';
import type { EndpointPool } from '../upstream/registry.ts';
import type { ExchangeResponse } from '../upstream/exchange.ts';
import type { H1Request, RequestSink } from './connection.ts';
import type { Engine } from './engine.ts';
import { headerLines, statusLine, stripHopByHop } from './head.ts';
import type { MirrorTee } from './mirrors.ts';
import type { Span } from '../../shared/telemetry/span.ts';

class H2cForward implements RequestSink {
  readonly engine: Engine;
  readonly request: H1Request;
  readonly routed: Routed;
  body: PassThrough | null = null;
  /** The response body being relayed, paused while the client's socket is full. */
  stream: NodeJS.ReadableStream | null = null;
  exchange: Exchange | null = null;
  /** The upstream attempt's client span (sampled requests only). */
  span: Span | null = null;
  done = false;
  /** The request deadline (`timeouts.request`), over every attempt. */
  timer: NodeJS.Timeout | null = null;
  /** The backoff before the next attempt. */
  retryTimer: NodeJS.Timeout | null = null;
  retries = 0;

  constructor(engine: Engine, request: H1Request, routed: Routed) {
    this.engine = engine;
    this.request = request;
    this.routed = routed;
  }

  onRequestBody(chunk: Buffer): void {
    if (this.body !== null && !this.done && !this.body.write(chunk)) this.request.connection.pauseBody();
  }
  onRequestEnd(): void {
    this.body?.end();
  }
  onClientDrain(): void {
    this.stream?.resume();
  }
  onClientClose(): void {
    this.stop();
  }

  endAttempt(status: number, errorCode?: string): void {
    const obs = this.request.obs;
    obs?.attemptEnded(obs.tracing, this.span, status, errorCode);
    this.span = null;
  }

  stop(): void {
    if (this.span !== null) this.endAttempt(0, 'upstream_reset');
    this.done = true;
    this.timer = clearDeadline(this.timer);
    this.retryTimer = clearDeadline(this.retryTimer);
    this.exchange?.abort(new Error('request over'));
    this.body?.destroy();
  }

  answerError(code: keyof typeof PROXY_ERRORS): void {
    this.stop();
    const error = PROXY_ERRORS[code];
    this.engine.answer(this.request, this.routed, error.status, null, error.body);
  }

  /** One attempt on an endpoint picked now (each retry may land on another). */
  attempt(): void {
    this.retryTimer = null;
    if (this.done) return;
    const request = this.request;
    const routed = this.routed;
    const endpoint = routed.endpoint ?? routed.backend?.endpoints.pick(); // pinned by a session (GEP-1619)
    if (endpoint === undefined || endpoint.pool === null) {
      this.engine.metrics.upstreamError(routed.backend?.key ?? '', NO_ENDPOINTS);
      return this.answerError('UPSTREAM_UNAVAILABLE');
    }
    this.startSpan(endpoint);
    const exchange = new Exchange(
      request.method,
      true,
      (error, response) => this.respond(exchange, error, response),
      (routed.rule as NonNullable<Routed['rule']>).backendTimeoutMs,
    );
    this.exchange = exchange;
    endpoint.pool.dispatch(
      {
        origin: endpoint.origin,
        path: routed.upstreamTarget,
        method: request.method as 'GET',
        headers: request.headers as Record<string, string>,
        body: this.body ?? undefined,
      },
      exchange,
    );
  }

  /** The attempt's timing and endpoint for the log line, and its client span when the request is sampled. */
  startSpan(endpoint: EndpointPool): void {
    const obs = this.request.obs;
    if (obs === null) return;
    this.span = obs.attemptOn(this.request.method, this.routed, endpoint, this.retries + 1);
    if (this.span !== null) this.request.headers.traceparent = this.span.traceparent();
  }

  /** After a failed attempt (`status`, or `code` when no response came): true when another attempt is scheduled. */
  retried(status: number, code: string): boolean {
    const rule = this.routed.rule as NonNullable<Routed['rule']>;
    const delay = retryDelay(rule.retry, this.retries, status, code, !this.request.hasBody);
    if (delay === NO_RETRY) return false;
    this.retries++;
    if (this.request.obs !== null) this.request.obs.retries = this.retries;
    this.retryTimer = setTimeout(onRetry, delay, this);
    return true;
  }

  respond(exchange: Exchange, error: Error | null, response: ExchangeResponse | undefined): void {
    if (this.done || exchange !== this.exchange) return void response?.body.destroy();
    const backend = this.routed.backend as NonNullable<Routed['backend']>;
    if (error !== null || response === undefined) {
      const code = upstreamErrorCode(error);
      this.endAttempt(0, code);
      if (this.retried(0, code)) return;
      this.request.obs?.flag(code);
      this.engine.metrics.upstreamError(backend.key, code);
      return this.answerError(proxyErrorForUpstream(code));
    }
    const request = this.request;
    const connection = request.connection;
    const rule = this.routed.rule as NonNullable<Routed['rule']>;
    const ref = this.routed.ref as NonNullable<Routed['ref']>;
    this.endAttempt(response.statusCode);
    if (this.retried(response.statusCode, '')) {
      // A retried status: its body is dropped (an HTTP/2 stream reset, the connection stays).
      response.body.destroy();
      return;
    }
    const headers = response.headers as HeaderBag;
    stripHopByHop(headers);
    if (rule.responseHeaders !== null) applyHeaderOps(headers, rule.responseHeaders);
    if (ref.responseHeaders !== null) applyHeaderOps(headers, ref.responseHeaders);
    if (this.routed.corsOrigin !== null && rule.cors !== null)
      addResponseCorsHeaders(rule.cors, this.routed.corsOrigin, headers);
    if (this.routed.sessionValue !== '') addSessionHeader(headers, this.routed.sessionHeader, this.routed.sessionValue);
    countResponse(this.engine.metrics, this.routed, response.statusCode);
    request.status = response.statusCode;
    request.responseStarted = true;
    let head = statusLine(response.statusCode) + headerLines(headers);
    if (connection.closesAfter(request)) head += 'connection: close\r\n';
    const body = response.body;
    if (body instanceof BufferedBody) {
      connection.write(`${head}content-length: ${body.length}\r\n\r\n`);
      if (request.method !== 'HEAD' && body.length > 0) {
        request.bytesOut += body.length;
        connection.write(body.buffer());
      }
      this.stop();
      return connection.finish(request);
    }
    connection.write(`${head}transfer-encoding: chunked\r\n\r\n`);
    body.on('data', (chunk: Buffer) => {
      request.bytesOut += chunk.length;
      connection.write(`${chunk.length.toString(16)}\r\n`);
      connection.write(chunk);
      if (!connection.write('\r\n')) body.pause();
    });
    this.stream = body;
    body.once('end', () => {
      connection.write('0\r\n\r\n');
      this.stop();
      connection.finish(request);
    });
    body.once('error', () => connection.socket.destroy());
  }
}

function onRetry(forward: H2cForward): void {
  forward.attempt();
}

function onRequestTimeout(forward: H2cForward): void {
  forward.timer = null;
  if (forward.done) return;
  forward.request.obs?.flag('REQUEST_TIMEOUT');
  if (!forward.request.responseStarted) forward.answerError('REQUEST_TIMEOUT');
  else {
    forward.stop();
    forward.request.connection.socket.destroy();
  }
}

export function forwardH2c(engine: Engine, request: H1Request, routed: Routed, mirrors: MirrorTee | null): void {
  const forward = new H2cForward(engine, request, routed);
  if (request.hasBody) forward.body = new PassThrough();
  request.setSink(mirrors === null ? forward : mirrors.wrap(forward));
  // What an authorizer left of `timeouts.request` (all of it for a request that met none).
  forward.timer = armDeadline(requestTimeoutLeft(routed), onRequestTimeout, forward);
  forward.attempt();
}
