// The HTTP/1.1 engine's side of external authorization: when the routing core stops at a filter, the request's body
// is collected first if the filter forwards it (`forwardBody`, up to its size; a larger body gets 413), the routing
// core's step asks the authorizer (core/authorize.ts), and its verdict is carried out here: an error or a denial is
// answered (the request never reaches a backend), an allowed request gets the authorizer's headers and routing goes
// on (`continueRouting`) — to the next filter, to route matching, or to the backend. A body that was not collected
// waits in the connection's buffer meanwhile (the connection pauses reading past its limit), as it does for a pool
// connection; a collected one is put back there, so the exchange sends it as if it had just arrived.

import { authorizationStarted, authorize, buildSubject } from '../core/authorize.ts';
import { continueRouting } from '../core/route.ts';
import type { Routed } from '../core/route.ts';
import { EXT_AUTHZ_DENIED, PROXY_ERRORS } from '../errors.ts';
import type { AuthVerdict } from '../auth/verdict.ts';
import { applyVerdict } from '../auth/verdict.ts';
import type { H1Request, RequestSink } from './connection.ts';
import type { Engine } from './engine.ts';

/** Takes a request's body whole, up to `limit` bytes, for an authorizer that wants to see it. */
class BodyCollector implements RequestSink {
  readonly chunks: Buffer[] = [];
  size = 0;
  over = false;
  finished = false;
  readonly engine: Engine;
  readonly request: H1Request;
  readonly routed: Routed;
  readonly limit: number;

  constructor(engine: Engine, request: H1Request, routed: Routed, limit: number) {
    this.engine = engine;
    this.request = request;
    this.routed = routed;
    this.limit = limit;
  }

  onRequestBody(chunk: Buffer): void {
    if (this.finished) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.over = true;
      return this.#finish();
    }
    this.chunks.push(chunk);
  }

  onRequestEnd(): void {
    this.#finish();
  }

  onClientDrain(): void {}
  onClientClose(): void {
    this.finished = true;
  }

  #finish(): void {
    if (this.finished) return;
    this.finished = true;
    const { engine, request, routed } = this;
    if (this.over) {
      request.obs?.flag('EXT_AUTHZ_BODY_TOO_LARGE');
      const error = PROXY_ERRORS.EXT_AUTHZ_BODY_TOO_LARGE;
      return engine.answer(request, routed, error.status, null, error.body);
    }
    const body = Buffer.concat(this.chunks, this.size);
    // The body goes back to the connection's buffer: the exchange (or the next collector) takes it from there.
    request.sink = null;
    request.buffered = this.size > 0 ? [body] : null;
    request.bufferedBytes = this.size;
    ask(engine, request, routed, body);
  }
}

/** Runs the filter `routed.auth` for `request`, then carries out its verdict. */
export function authorizeRequest(engine: Engine, request: H1Request, routed: Routed): void {
  const auth = routed.auth as NonNullable<Routed['auth']>;
  // The request deadline counts from here: the body's collection and the authorizer's time are the request's.
  authorizationStarted(routed);
  if (auth.forwardBodyMaxBytes > 0 && request.hasBody) {
    // A client waiting for 100 Continue would wait for the collector, and the collector for it: the gateway asks for
    // the body itself, and the backend is not asked again.
    if (request.headers.expect === '100-continue' && request.versionMinor === 1 && !request.responseStarted) {
      request.connection.write('HTTP/1.1 100 Continue\r\n\r\n');
      delete request.headers.expect;
    }
    if (request.sink === null) request.setSink(new BodyCollector(engine, request, routed, auth.forwardBodyMaxBytes));
    else ask(engine, request, routed, null);
    return;
  }
  ask(engine, request, routed, null);
}

function ask(engine: Engine, request: H1Request, routed: Routed, body: Buffer | null): void {
  const subject = buildSubject(
    routed,
    request.method,
    request.headers,
    `HTTP/1.${request.versionMinor}`,
    request.connection.socket,
    request.obs?.requestId ?? '',
    body,
  );
  authorize(
    routed,
    subject,
    engine.registry,
    engine.metrics,
    routed.listener?.listener.backendClientCertificateKey,
    (verdict) => {
      try {
        decided(engine, request, routed, verdict);
      } catch (error) {
        engine.failed(request, error);
      }
    },
  );
}

function decided(engine: Engine, request: H1Request, routed: Routed, verdict: AuthVerdict): void {
  // The client went away while the authorizer thought: nothing to answer.
  if (request.responded || request.responseStarted || request.connection.socket.destroyed) return;
  if (verdict.error !== null) {
    request.obs?.flag(verdict.error);
    const error = PROXY_ERRORS[verdict.error];
    return engine.answer(request, routed, error.status, null, error.body);
  }
  if (!verdict.allowed) {
    request.obs?.flag(EXT_AUTHZ_DENIED);
    return engine.answer(request, routed, verdict.status, verdict.headers, verdict.body);
  }
  applyVerdict(request.headers, verdict);
  engine.proceed(request, continueRouting(routed, engine.routeRequestOf(request), engine.registry));
}
