// One request forwarded by the HTTP/1.1 engine to an HTTP/1.1 backend through the engine's own pool: the request
// head is built once (filters, X-Forwarded-*, the engine's own framing), the body streams with backpressure both
// ways, the response head is rebuilt from llhttp's raw list (as received when no response filter applies) and its
// body relayed. Retries (rule codes, connection errors, backend timeouts: the decision is core/retry.ts's, shared
// with the HTTP/2 front end) and one retry of a stale keep-alive connection run here; the request and attempt
// deadlines are armed through the same module.
// The exchange is the pool client, the upstream handler and the request's body sink: one object per request, no
// closures.

import { countResponse } from '../core/route.ts';
import type { Span } from '../../shared/telemetry/span.ts';
import type { Routed } from '../core/route.ts';
import { requestTimeoutLeft } from '../core/authorize.ts';
import { NO_RETRY, armDeadline, clearDeadline, retryDelay } from '../core/retry.ts';
import { BACKEND_TIMEOUT, NO_ENDPOINTS, PROXY_ERRORS, proxyErrorForUpstream } from '../errors.ts';
import { addResponseCorsHeaders } from '../http/cors.ts';
import { addSessionHeader, applyHeaderOps } from '../http/headers.ts';
import type { EndpointPool } from '../upstream/registry.ts';
import type { PoolClient, UpstreamConnection, UpstreamHandler } from '../upstream/h1-pool.ts';
import type { H1Request, RequestSink } from './connection.ts';
import type { Engine } from './engine.ts';
import { headerLines, rawHeaderLines, responseHeaderBag, statusLine, trailerLines } from './head.ts';
import type { RawHeaders } from './llhttp.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function onRequestTimeout(exchange: ProxyExchange): void {
  exchange.requestTimedOut();
}
function onBackendTimeout(exchange: ProxyExchange): void {
  exchange.backendTimedOut();
}
function onRetry(exchange: ProxyExchange): void {
  exchange.attempt();
}

function contentLengthOf(raw: RawHeaders): string | null {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 14 && raw[i].toLowerCase() === 'content-length') return raw[i + 1];
  }
  return null;
}

export class ProxyExchange implements PoolClient, UpstreamHandler, RequestSink {
  readonly engine: Engine;
  readonly request: H1Request;
  readonly routed: Routed;
  readonly head: string;
  /** What the request body is handed to: this exchange, or a mirror tee in front of it. */
  sink: RequestSink = this;
  endpoint: EndpointPool | null = null;
  connection: UpstreamConnection | null = null;
  retries = 0;
  /** The backoff before the next attempt, decided when the attempt failed (NO_RETRY: none). */
  nextDelay = NO_RETRY;
  staleRetried = false;
  done = false;
  /** The response being read is a retried status: its body is read and dropped. */
  discarding = false;
  chunkedOut = false;
  upstreamKeepAlive = false;
  requestSent = false;
  trailers = '';
  upstreamStart = 0;
  /** The client span of the attempt in flight (sampled requests only). */
  span: Span | null = null;
  /** Attempts made so far (first try, retries, the stale-connection retry). */
  attempts = 0;
  requestTimer: NodeJS.Timeout | null = null;
  attemptTimer: NodeJS.Timeout | null = null;

  constructor(engine: Engine, request: H1Request, routed: Routed, head: string) {
    this.engine = engine;
    this.request = request;
    this.routed = routed;
    this.head = head;
    // What an authorizer left of `timeouts.request` (all of it for a request that met none).
    this.requestTimer = armDeadline(requestTimeoutLeft(routed), onRequestTimeout, this);
    this.upstreamStart = performance.now();
  }

  attempt(): void {
    if (this.done) return;
    // A session-pinned request (GEP-1619) goes to its endpoint on every attempt.
    const endpoint = this.routed.endpoint ?? this.routed.backend?.endpoints.pick();
    if (endpoint === undefined || endpoint.h1 === null) return this.fail(NO_ENDPOINTS);
    this.endpoint = endpoint;
    this.#startAttempt(endpoint);
    endpoint.h1.acquire(this);
  }

  /** An attempt's timing and endpoint for the log line, and its client span when the request is sampled. */
  #startAttempt(endpoint: EndpointPool): void {
    this.attempts++;
    const obs = this.request.obs;
    if (obs !== null) this.span = obs.attemptOn(this.request.method, this.routed, endpoint, this.attempts);
  }

  /** Ends the attempt in flight: `status` its response (0 with `errorCode` when none came). */
  #endAttempt(status: number, errorCode?: string): void {
    const obs = this.request.obs;
    if (obs === null) return;
    obs.attemptEnded(obs.tracing, this.span, status, errorCode);
    this.span = null;
  }

  onPoolConnection(connection: UpstreamConnection): void {
    if (this.done) return connection.release(true);
    connection.attach(this);
    this.connection = connection;
    this.discarding = false;
    const rule = this.routed.rule as NonNullable<Routed['rule']>;
    this.attemptTimer = armDeadline(rule.backendTimeoutMs, onBackendTimeout, this);
    // A sampled request: the head carries this attempt's span context (built without a traceparent).
    const span = this.span;
    connection.socket.write(
      span === null ? this.head : `${this.head.slice(0, -2)}traceparent: ${span.traceparent()}\r\n\r\n`,
    );
    if (this.request.sink === null) this.request.setSink(this.sink);
    else if (this.request.bodyDone) this.requestSent = true;
  }

  onRequestBody(chunk: Buffer): void {
    const connection = this.connection;
    if (connection === null || this.done) return;
    const socket = connection.socket;
    let flushed: boolean;
    if (this.request.bodyKind === 2) {
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      flushed = socket.write('\r\n');
    } else flushed = socket.write(chunk);
    if (!flushed) this.request.connection.pauseBody();
  }

  onRequestEnd(): void {
    const request = this.request;
    if (this.connection !== null && request.bodyKind === 2) {
      // The last chunk, and the client's trailers (RFC 9112 §7.1.2) when it sent any.
      this.connection.socket.write(
        request.trailers === null ? '0\r\n\r\n' : `0\r\n${trailerLines(request.trailers)}\r\n`,
      );
    }
    this.requestSent = true;
  }

  onUpstreamDrain(): void {
    this.request.connection.resumeBody();
  }

  onUpstreamReadStart(): void {
    this.request.connection.socket.cork();
  }

  onUpstreamReadEnd(): void {
    this.request.connection.socket.uncork();
  }

  onClientDrain(): void {
    this.connection?.socket.resume();
  }

  onClientClose(): void {
    this.abort();
  }

  onUpstreamHead(status: number, raw: RawHeaders, keepAlive: boolean): number {
    const request = this.request;
    if (status < 200) {
      // 1xx (100 Continue, 103 Early Hints) go to the client as they come; the final response follows.
      if (status !== 101 && !request.responseStarted && request.versionMinor === 1)
        request.connection.write(`${statusLine(status)}${rawHeaderLines(raw)}\r\n`);
      return 0;
    }
    const retry = (this.routed.rule as NonNullable<Routed['rule']>).retry;
    const delay = retryDelay(retry, this.retries, status, '', !request.hasBody);
    if (delay !== NO_RETRY) {
      this.nextDelay = delay;
      this.discarding = true;
      this.upstreamKeepAlive = keepAlive;
      this.#endAttempt(status);
      return 0;
    }
    this.#endAttempt(status);
    this.engine.metrics.upstreamResponse(
      (this.routed.backend as NonNullable<Routed['backend']>).key,
      status,
      (performance.now() - this.upstreamStart) / 1000,
    );
    this.upstreamKeepAlive = keepAlive;
    this.#writeHead(status, raw);
    return request.method === 'HEAD' ? 1 : 0;
  }

  #writeHead(status: number, raw: RawHeaders): void {
    const request = this.request;
    const connection = request.connection;
    const routed = this.routed;
    const rule = routed.rule as NonNullable<Routed['rule']>;
    const ref = routed.ref as NonNullable<Routed['ref']>;
    request.status = status;
    request.responseStarted = true;
    countResponse(this.engine.metrics, routed, status);
    let head = statusLine(status);
    const session = routed.sessionValue !== '';
    if (rule.responseHeaders === null && ref.responseHeaders === null && routed.corsOrigin === null && !session) {
      head += rawHeaderLines(raw);
    } else {
      const bag = responseHeaderBag(raw);
      if (rule.responseHeaders !== null) applyHeaderOps(bag, rule.responseHeaders);
      if (ref.responseHeaders !== null) applyHeaderOps(bag, ref.responseHeaders);
      if (routed.corsOrigin !== null && rule.cors !== null) addResponseCorsHeaders(rule.cors, routed.corsOrigin, bag);
      if (session) addSessionHeader(bag, routed.sessionHeader, routed.sessionValue);
      head += headerLines(bag);
    }
    const length = contentLengthOf(raw);
    if (length !== null) head += `content-length: ${length}\r\n`;
    else if (status !== 204 && status !== 304 && request.method !== 'HEAD') {
      // No length: chunked to an HTTP/1.1 client, delimited by the end of the connection for HTTP/1.0.
      if (request.versionMinor === 1) {
        head += 'transfer-encoding: chunked\r\n';
        this.chunkedOut = true;
      } else connection.closing = true;
    }
    if (connection.closesAfter(request)) {
      head += 'connection: close\r\n';
    } else if (request.versionMinor === 0) head += 'connection: keep-alive\r\n';
    connection.write(`${head}\r\n`);
  }

  onUpstreamBody(chunk: Buffer): void {
    if (this.discarding || this.done) return;
    this.request.bytesOut += chunk.length;
    const client = this.request.connection;
    let flushed: boolean;
    if (this.chunkedOut) {
      client.write(`${chunk.length.toString(16)}\r\n`);
      client.write(chunk);
      flushed = client.write('\r\n');
    } else flushed = client.write(chunk);
    // A client that reads slowly holds the upstream back: memory stays at the two sockets' buffers.
    if (!flushed) this.connection?.socket.pause();
  }

  onUpstreamTrailers(raw: RawHeaders): void {
    if (this.chunkedOut) this.trailers = rawHeaderLines(raw);
  }

  onUpstreamEnd(): void {
    this.#clearAttemptTimer();
    const connection = this.connection;
    this.connection = null;
    // Reusable only when the request went out whole: otherwise the connection is out of step.
    connection?.release(this.upstreamKeepAlive && this.requestSent);
    if (this.done) return;
    if (this.discarding) {
      this.retries++;
      if (this.request.obs !== null) this.request.obs.retries = this.retries;
      this.attemptTimer = setTimeout(onRetry, this.nextDelay, this);
      return;
    }
    if (this.chunkedOut) this.request.connection.write(`0\r\n${this.trailers}\r\n`);
    this.#finish();
  }

  onUpstreamError(code: string): void {
    const connection = this.connection;
    this.connection = null;
    this.#clearAttemptTimer();
    if (this.done) return;
    const request = this.request;
    if (this.span !== null) this.#endAttempt(0, code);
    request.obs?.flag(code);
    if (request.responseStarted && !this.discarding) {
      this.engine.metrics.upstreamError((this.routed.backend as NonNullable<Routed['backend']>).key, code);
      this.#cut();
      return;
    }
    // A pooled connection the backend closed while idle: once, on a new connection, when nothing can be repeated.
    const nothingSent = !request.hasBody && IDEMPOTENT.has(request.method);
    if (connection?.reused && connection.received === 0 && nothingSent && !this.staleRetried) {
      this.staleRetried = true;
      if (this.endpoint !== null) this.#startAttempt(this.endpoint);
      return this.endpoint?.h1?.acquire(this, true);
    }
    const delay = retryDelay(
      (this.routed.rule as NonNullable<Routed['rule']>).retry,
      this.retries,
      0,
      code,
      !request.hasBody,
    );
    if (delay !== NO_RETRY) {
      this.retries++;
      if (request.obs !== null) request.obs.retries = this.retries;
      this.attemptTimer = setTimeout(onRetry, delay, this);
      return;
    }
    this.fail(code);
  }

  /** Answers the upstream failure `code` (no response has started). */
  fail(code: string): void {
    this.request.obs?.flag(code);
    const backend = this.routed.backend as NonNullable<Routed['backend']>;
    this.engine.metrics.upstreamError(backend.key, code);
    this.#answerError(proxyErrorForUpstream(code));
  }

  #answerError(code: keyof typeof PROXY_ERRORS): void {
    this.#stop();
    const error = PROXY_ERRORS[code];
    this.engine.answer(this.request, this.routed, error.status, null, error.body);
  }

  backendTimedOut(): void {
    this.attemptTimer = null;
    const connection = this.connection;
    this.connection = null;
    connection?.destroy();
    if (this.request.responseStarted) {
      this.#cut();
      return;
    }
    this.connection = null;
    this.onUpstreamError(BACKEND_TIMEOUT);
  }

  requestTimedOut(): void {
    this.requestTimer = null;
    if (this.done) return;
    if (this.span !== null) this.#endAttempt(0, 'REQUEST_TIMEOUT');
    this.request.obs?.flag('REQUEST_TIMEOUT');
    if (this.request.responseStarted) return this.#cut();
    this.#answerError('REQUEST_TIMEOUT');
  }

  #finish(): void {
    this.#stop();
    this.request.connection.finish(this.request);
  }

  /** The response cannot be completed: the client connection ends without it. */
  #cut(): void {
    this.#stop();
    this.request.connection.socket.destroy();
  }

  abort(): void {
    if (this.span !== null) this.#endAttempt(0, 'downstream_reset');
    this.#stop();
  }

  #stop(): void {
    if (this.span !== null) this.#endAttempt(0, 'upstream_reset');
    this.done = true;
    this.requestTimer = clearDeadline(this.requestTimer);
    this.#clearAttemptTimer();
    if (this.connection !== null) {
      this.connection.destroy();
      this.connection = null;
    }
    this.endpoint?.h1?.cancel(this);
  }

  #clearAttemptTimer(): void {
    this.attemptTimer = clearDeadline(this.attemptTimer);
  }
}
