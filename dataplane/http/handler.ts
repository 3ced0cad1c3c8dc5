// The Fastify front end's one catch-all route (HTTP/2 and h2c; HTTP/1.1 is the engine's): the routing core decides,
// then the answer is sent here or the request forwarded with @fastify/reply-from. Everything it reads was compiled
// for the generation in force when the request arrived.

import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { countResponse, routeRequest } from '../core/route.ts';
import type { RouteRequest, Routed } from '../core/route.ts';
import { requestTimeoutLeft } from '../core/authorize.ts';
import { armDeadline, clearDeadline } from '../core/retry.ts';
import { authorizeRequest } from './authorize.ts';
import type { AuthDeps } from './authorize.ts';
import { PROXY_ERRORS } from '../errors.ts';
import type { ProxyErrorCode } from '../errors.ts';
import { downstreamResetError } from '../upstream/exchange.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import { kBinding } from './binding.ts';
import type { BoundSocket } from './binding.ts';
import type { RequestContext } from './context.ts';
import { fromOptionsFor } from './forward.ts';
import { chooseMirrors, hasBody, sendMirrors, teeBody } from './mirror.ts';
import type { HttpMetrics } from './metrics.ts';
import { Observation, finishObservation, requestIdOf, tlsVersionOf, traceRouted } from '../core/observe.ts';
import type { Telemetry } from '../core/observe.ts';
import { hostWithoutPort } from '../h1/engine.ts';
import type { CompiledRule } from './rules.ts';
import type { CompiledListener } from './tables.ts';

export interface HandlerDeps {
  registry: UpstreamRegistry;
  metrics: HttpMetrics;
  log: import('pino').Logger;
  /** Log one line per request (`--access-log`). */
  accessLog: boolean;
  /** Tracing and the access-log writer (default: no tracing, `log` when `accessLog`). */
  telemetry?: Telemetry;
}

function routeRequestOf(request: FastifyRequest): RouteRequest {
  const raw = request.raw;
  return {
    method: raw.method ?? 'GET',
    target: raw.url ?? '/',
    host: (raw.headers.host ?? raw.headers[':authority']) as string | undefined,
    headers: raw.headers,
    servername: (raw.socket as unknown as { servername?: string | false }).servername,
    upgrade: false,
  };
}

function plain(reply: FastifyReply, code: ProxyErrorCode): void {
  const error = PROXY_ERRORS[code];
  reply.code(error.status).header('content-type', 'text/plain; charset=utf-8').send(error.body);
}

export function createHandler(deps: HandlerDeps) {
  const { registry, metrics, log, accessLog } = deps;
  const telemetry: Telemetry = deps.telemetry ?? { tracing: null, accessLog: accessLog ? log : null };
  const table = telemetry.tracing;
  const auth: AuthDeps = { registry, metrics, log, proceed, routeRequestOf };

  return function handle(request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw;
    const binding = (raw.socket as unknown as BoundSocket)[kBinding];
    if (binding?.draining && raw.httpVersionMajor === 1) reply.header('connection', 'close');
    const obs = new Observation(requestIdOf(raw.headers), performance.now());
    const routed = routeRequest(binding, routeRequestOf(request), registry);
    // The listener's tracing (its XTelemetryPolicy, or the command line), then the one tracing call of an unsampled
    // request: the decision on its traceparent. Decided once, on the listener the first routing found (a listener
    // filter stops routing there; `proceed` runs again after an allow).
    const tracing = table?.of(routed.listenerKey) ?? null;
    if (tracing?.sampled(raw.headers.traceparent as string | undefined)) {
      obs.tracing = tracing;
      startTrace(request, obs);
    }
    if (obs.server !== null || telemetry.accessLog !== null) finishWhenClosed(request, reply, obs, routed);
    proceed(request, reply, routed, obs);
  };

  /** A routed request: to its authorizer when routing stopped at a filter (http/authorize.ts), answered, or forwarded. */
  function proceed(request: FastifyRequest, reply: FastifyReply, routed: Routed, obs: Observation): void {
    if (routed.auth !== null) return authorizeRequest(auth, request, reply, routed, obs);
    if (obs.server !== null && obs.tracing !== null) traceRouted(obs.tracing, obs.server, routed);
    if (routed.error !== null) {
      obs.flag(routed.error);
      countResponse(metrics, routed, PROXY_ERRORS[routed.error].status);
      return plain(reply, routed.error);
    }
    if (routed.status !== 0) {
      countResponse(metrics, routed, routed.status);
      reply.code(routed.status);
      if (routed.headers !== null) reply.headers(routed.headers);
      reply.send();
      return;
    }
    forward(request, reply, routed, obs);
  }

  /** The request's deadline passed before its response: 504, and the attempt in flight is cancelled. */
  function onRequestTimeout(reply: FastifyReply): void {
    const ctx = reply.request.portico;
    if (ctx === null || reply.sent) return;
    ctx.timedOut = true;
    ctx.timer = null;
    cancelUpstream(ctx);
    ctx.obs.flag('REQUEST_TIMEOUT');
    if (ctx.span !== null) ctx.obs.attemptEnded(ctx.tracing, ctx.span, 0, 'REQUEST_TIMEOUT');
    ctx.span = null;
    metrics.response(ctx.listener.key, ctx.rule.routeName, PROXY_ERRORS.REQUEST_TIMEOUT.status);
    plain(reply, 'REQUEST_TIMEOUT');
  }

  function startTrace(request: FastifyRequest, obs: Observation): void {
    const raw = request.raw;
    const headers = raw.headers;
    const socket = raw.socket as unknown as {
      encrypted?: boolean;
      servername?: string | false;
      remoteAddress?: string;
      remotePort?: number;
      localPort?: number;
      getProtocol?: () => string | null;
    };
    const tls = socket.encrypted === true;
    const url = raw.url ?? '/';
    const q = url.indexOf('?');
    obs.tracestate = typeof headers.tracestate === 'string' ? headers.tracestate : undefined;
    obs.server = (obs.tracing as NonNullable<Observation['tracing']>).serverSpan(
      headers.traceparent as string | undefined,
      obs.tracestate,
      {
        method: raw.method ?? 'GET',
        scheme: tls ? 'https' : 'http',
        host: hostWithoutPort((headers[':authority'] ?? headers.host) as string | undefined),
        port: socket.localPort ?? 0,
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? '' : url.slice(q + 1),
        protocolVersion: raw.httpVersionMajor === 2 ? '2' : raw.httpVersion,
        clientAddress: socket.remoteAddress ?? '',
        clientPort: socket.remotePort ?? 0,
        listener: '',
        userAgent: headers['user-agent'],
        requestId: obs.requestId,
        tlsVersion: tls ? tlsVersionOf(socket.getProtocol?.()) : undefined,
        sni: tls && typeof socket.servername === 'string' ? socket.servername : undefined,
        headers,
      },
      performance.timeOrigin + obs.started,
    );
  }

  function finishWhenClosed(request: FastifyRequest, reply: FastifyReply, obs: Observation, routed: Routed): void {
    const raw = request.raw;
    const res = reply.raw;
    res.once('close', () => {
      const headers = raw.headers;
      const socket = raw.socket as unknown as {
        encrypted?: boolean;
        servername?: string | false;
        remoteAddress?: string;
        remotePort?: number;
        localPort?: number;
        getProtocol?: () => string | null;
      };
      const tls = socket.encrypted === true;
      const url = raw.url ?? '/';
      const q = url.indexOf('?');
      // Body sizes as declared (Content-Length): the HTTP/2 front end streams bodies without counting them.
      obs.bytesIn = Number(headers['content-length'] ?? 0) || 0;
      obs.bytesOut = raw.method === 'HEAD' ? 0 : Number(res.getHeader('content-length') ?? 0) || 0;
      const span = request.portico?.span ?? null;
      if (span !== null) {
        request.portico!.span = null;
        obs.attemptEnded(obs.tracing, span, 0, 'downstream_reset');
      }
      finishObservation(telemetry, obs, {
        method: raw.method ?? 'GET',
        host: hostWithoutPort((headers[':authority'] ?? headers.host) as string | undefined),
        port: socket.localPort ?? 0,
        scheme: tls ? 'https' : 'http',
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? '' : url.slice(q + 1),
        protocolVersion: raw.httpVersionMajor === 2 ? '2' : raw.httpVersion,
        userAgent: headers['user-agent'],
        clientAddress: socket.remoteAddress ?? '',
        clientPort: socket.remotePort ?? 0,
        status: res.statusCode,
        completed: res.writableFinished,
        routed,
        tlsVersion: tls ? tlsVersionOf(socket.getProtocol?.()) : undefined,
        sni: tls && typeof socket.servername === 'string' ? socket.servername : undefined,
      });
    });
  }

  function forward(request: FastifyRequest, reply: FastifyReply, routed: Routed, obs: Observation): void {
    const listener = routed.listener as CompiledListener;
    const rule = routed.rule as CompiledRule;
    const ref = routed.ref as NonNullable<Routed['ref']>;
    const backend = routed.backend as RequestContext['backend'];
    const upstreamHost = routed.upstreamHost;
    const ctx: RequestContext = {
      listener,
      rule,
      ref,
      backend,
      upstreamHost,
      clientHost: routed.clientHost,
      corsOrigin: routed.corsOrigin,
      pinned: routed.endpoint,
      sessionHeader: routed.sessionHeader,
      sessionValue: routed.sessionValue,
      upstreamStart: performance.now(),
      timedOut: false,
      timer: null,
      obs,
      tracing: obs.server === null ? null : obs.tracing,
      span: null,
      path: routed.path,
      method: request.raw.method ?? 'GET',
      upstream: null,
      cancelled: false,
    };
    request.portico = ctx;
    // What an authorizer left of `timeouts.request` (all of it for a request that met none).
    ctx.timer = armDeadline(requestTimeoutLeft(routed), onRequestTimeout, reply);
    // A client that resets its stream (or closes) before the response is complete cancels the attempt in flight.
    (reply.raw as unknown as ClosingResponse)[kContext] = ctx;
    reply.raw.once('close', onResponseClose);
    // Mirrors are chosen before the request goes out: a body must be split before the main request reads it.
    const mirrors = rule.mirrors.length > 0 || ref.mirrors.length > 0 ? chooseMirrors(rule.mirrors, ref.mirrors) : null;
    let mirrorBodies: PassThrough[] | null = null;
    if (mirrors !== null && mirrors.length > 0 && hasBody(request.raw.headers)) {
      const body = request.body;
      if (Buffer.isBuffer(body)) {
        // An authorizer already read the body (`forwardBody`): the mirrors get the same bytes, whole.
        mirrorBodies = mirrors.map(() => new PassThrough().end(body) as PassThrough);
      } else {
        const split = teeBody(request.raw, mirrors.length);
        request.body = split.main;
        mirrorBodies = split.mirrors;
      }
    }
    try {
      reply.from(routed.upstreamTarget, fromOptionsFor(rule, ref, metrics));
    } catch {
      // reply-from refuses some paths synchronously (an encoded "..", a malformed %-escape).
      if (ctx.timer !== null) clearTimeout(ctx.timer);
      for (const body of mirrorBodies ?? []) body.destroy();
      countResponse(metrics, routed, PROXY_ERRORS.BAD_PATH.status);
      return plain(reply, 'BAD_PATH');
    }
    if (mirrors !== null && mirrors.length > 0) {
      sendMirrors(
        mirrors,
        mirrorBodies,
        registry,
        routed.listener?.listener.backendClientCertificateKey,
        {
          method: request.raw.method ?? 'GET',
          path: routed.upstreamTarget,
          query: '',
          headers: request.raw.headers,
          upstreamHost,
        },
        metrics,
        obs.server !== null && obs.tracing !== null ? { tracing: obs.tracing, server: obs.server } : null,
      );
    }
  }
}

const kContext = Symbol('portico.context');
type ClosingResponse = { writableEnded: boolean; [kContext]?: RequestContext };

/**
 * The response closed: unless it was ended by us, the client went away (`writableEnded`: Node's HTTP/2 compatibility
 * response reports `writableFinished` true on a stream the client reset, so that flag cannot tell).
 */
function onResponseClose(this: ClosingResponse): void {
  const ctx = this[kContext];
  if (ctx === undefined || this.writableEnded) return;
  cancelUpstream(ctx);
}

/** No further attempt, and the one in flight (if any) aborted: its pooled stream is reset or its connection closed. */
function cancelUpstream(ctx: RequestContext): void {
  if (ctx.cancelled) return;
  ctx.cancelled = true;
  ctx.timer = clearDeadline(ctx.timer);
  const upstream = ctx.upstream;
  ctx.upstream = null;
  upstream?.abort(downstreamResetError());
}
