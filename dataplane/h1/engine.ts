// The HTTP/1.1 engine of one shard (DESIGN.md decision 11): connections accepted on `net`/`tls` sockets are parsed
// by llhttp (connection.ts), routed by the routing core (core/route.ts, the same as the HTTP/2 front end's), and
// answered here or forwarded: to HTTP/1.1 backends through the engine's own pool (proxy.ts), to h2c backends
// through undici (h2c.ts), and WebSocket upgrades as byte tunnels (tunnel.ts). One sweep timer per shard enforces the
// headers and keep-alive timeouts of every connection, instead of a timer per request.

import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { clip } from '../core/access-log.ts';
import { Observation, finishObservation, requestIdOf, tlsVersionOf, traceRouted } from '../core/observe.ts';
import type { Telemetry } from '../core/observe.ts';
import { countResponse, routeRequest } from '../core/route.ts';
import type { RouteRequest, Routed } from '../core/route.ts';
import { PROXY_ERRORS } from '../errors.ts';
import type { SocketBinding } from '../http/binding.ts';
import type { HttpMetrics } from '../http/metrics.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import { authorizeRequest } from './authorize.ts';
import { ClientConnection } from './connection.ts';
import type { H1Request, H2cHandoff, RequestSink } from './connection.ts';
import { forwardH2c } from './h2c.ts';
import { localResponse } from './head.ts';
import { ProxyExchange } from './proxy.ts';
import { buildRequestHead } from './request-head.ts';
import { sendMirrorsOf } from './mirrors.ts';
import { openTunnel } from './tunnel.ts';

export interface EngineOptions {
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
  /** An upgraded connection (WebSocket tunnel) with no bytes either way for this long is closed; 0: never. */
  tunnelIdleMs?: number;
}

export interface EngineDeps {
  registry: UpstreamRegistry;
  metrics: HttpMetrics;
  log: Logger;
  accessLog: boolean;
  /** Tracing and the access-log writer; absent: neither. */
  telemetry?: Telemetry;
}

/** The body of a request answered without a backend is read and dropped, so the next request can be parsed. */
const DISCARD: RequestSink = {
  onRequestBody() {},
  onRequestEnd() {},
  onClientDrain() {},
  onClientClose() {},
};

/** `host:port` → `host` (an IPv6 literal keeps its brackets). */
export function hostWithoutPort(host: string | undefined): string {
  if (host === undefined) return '';
  const colon = host.lastIndexOf(':');
  return colon === -1 || colon < host.lastIndexOf(']') ? host : host.slice(0, colon);
}

function sweep(engine: Engine): void {
  engine.sweep();
}

export class Engine {
  readonly options: EngineOptions;
  readonly registry: UpstreamRegistry;
  readonly metrics: HttpMetrics;
  readonly log: Logger;
  readonly accessLog: boolean;
  readonly telemetry: Telemetry;
  readonly connections = new Set<ClientConnection>();
  readonly #timer: NodeJS.Timeout;
  readonly #route: RouteRequest = {
    method: '',
    target: '',
    host: undefined,
    headers: {},
    servername: undefined,
    upgrade: false,
  };

  constructor(deps: EngineDeps, options: EngineOptions) {
    this.options = options;
    this.registry = deps.registry;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.telemetry = deps.telemetry ?? { tracing: null, accessLog: deps.accessLog ? deps.log : null };
    this.accessLog = this.telemetry.accessLog !== null;
    const every = Math.max(50, Math.min(1000, Math.floor(options.headersTimeoutMs / 4)));
    this.#timer = setInterval(sweep, every, this);
    this.#timer.unref();
  }

  /** A new client connection of `binding`'s socket (plain, or TLS after the handshake) speaking HTTP/1.1. */
  accept(socket: Socket, binding: SocketBinding, h2c: H2cHandoff | null): void {
    socket.setNoDelay(true);
    new ClientConnection(this, socket, binding, h2c);
  }

  /** Routes a request and answers it or forwards it; a bug of ours answers 500 and is logged, never a crash. */
  serve(request: H1Request): void {
    try {
      this.#serve(request);
    } catch (error) {
      this.failed(request, error);
    }
  }

  /** A bug of ours while serving `request` (also in a callback after an authorizer answered): 500, logged. */
  failed(request: H1Request, error: unknown): void {
    this.log.error({ err: error, target: clip(request.target) }, 'request handler failed');
    if (request.responseStarted) return void request.connection.socket.destroy();
    const answer = PROXY_ERRORS.INTERNAL;
    this.answer(request, null, answer.status, null, answer.body);
  }

  /**
   * The engine's one RouteRequest, refilled from `request`: the routing core reads it synchronously and keeps
   * nothing, so one object serves every request of the shard (also when routing goes on after an authorizer).
   */
  routeRequestOf(request: H1Request): RouteRequest {
    const route = this.#route;
    route.method = request.method;
    route.target = request.target;
    route.host = request.headers.host as string | undefined;
    route.headers = request.headers;
    route.servername = (request.connection.socket as { servername?: string | false }).servername;
    return route;
  }

  #serve(request: H1Request): void {
    const connection = request.connection;
    const headers = request.headers;
    const obs = new Observation(requestIdOf(headers), request.started);
    request.obs = obs;
    const routed = routeRequest(connection.binding, this.routeRequestOf(request), this.registry);
    // The listener's tracing (its XTelemetryPolicy, or the command line), then the one tracing call of an unsampled
    // request: the decision on its traceparent, nothing else. Decided once, on the listener the first routing found
    // (a listener filter stops routing there; `proceed` runs again after an allow). The server span starts at the
    // head's arrival anyway.
    const tracing = this.telemetry.tracing?.of(routed.listenerKey) ?? null;
    if (tracing?.sampled(headers.traceparent as string | undefined)) {
      obs.tracing = tracing;
      this.#startTrace(request, obs);
    }
    if (connection.binding.draining) connection.closing = true;
    this.proceed(request, routed);
  }

  /** A routed request: to its authorizer when routing stopped at a filter (h1/authorize.ts), answered, or forwarded. */
  proceed(request: H1Request, routed: Routed): void {
    request.listenerKey = routed.listenerKey;
    request.routeName = routed.routeName;
    request.routed = routed;
    if (routed.auth !== null) return authorizeRequest(this, request, routed);
    const obs = request.obs as Observation;
    if (obs.server !== null && obs.tracing !== null) traceRouted(obs.tracing, obs.server, routed);
    if (routed.error !== null) {
      obs.flag(routed.error);
      const error = PROXY_ERRORS[routed.error];
      return this.answer(request, routed, error.status, null, error.body);
    }
    if (routed.status !== 0) return this.answer(request, routed, routed.status, routed.headers, '');
    const protocol = (routed.backend as NonNullable<Routed['backend']>).record.protocol;
    // Mirrors read the request as the client sent it, before the upstream head is built from its headers.
    const mirrors = sendMirrorsOf(this, request, routed);
    const head = buildRequestHead(request, routed, protocol !== 'h2c');
    if (protocol === 'h2c') return forwardH2c(this, request, routed, mirrors);
    const exchange = new ProxyExchange(this, request, routed, head);
    if (mirrors !== null) exchange.sink = mirrors.wrap(exchange);
    exchange.attempt();
  }

  /** The server span of a sampled request, continuing the client's trace. */
  #startTrace(request: H1Request, obs: Observation): void {
    const tracing = obs.tracing as NonNullable<Observation['tracing']>;
    const headers = request.headers;
    const socket = request.connection.socket as Socket & { encrypted?: boolean; servername?: string | false };
    const tls = socket.encrypted === true;
    const traceparent = headers.traceparent as string | undefined;
    const tracestate = typeof headers.tracestate === 'string' ? headers.tracestate : undefined;
    obs.tracestate = tracestate;
    const target = request.target;
    const q = target.indexOf('?');
    obs.server = tracing.serverSpan(
      traceparent,
      tracestate,
      {
        method: request.method,
        scheme: tls ? 'https' : 'http',
        host: hostWithoutPort(headers.host as string | undefined),
        port: request.connection.binding.table.port,
        path: q === -1 ? target : target.slice(0, q),
        query: q === -1 ? '' : target.slice(q + 1),
        protocolVersion: `1.${request.versionMinor}`,
        clientAddress: socket.remoteAddress ?? '',
        clientPort: socket.remotePort ?? 0,
        listener: request.connection.binding.key,
        userAgent: headers['user-agent'] as string | undefined,
        requestId: obs.requestId,
        tlsVersion: tls
          ? tlsVersionOf((socket as unknown as { getProtocol(): string | null }).getProtocol())
          : undefined,
        sni: tls && typeof socket.servername === 'string' ? socket.servername : undefined,
        headers,
      },
      performance.timeOrigin + request.started,
    );
  }

  /** The gateway's own answer to `request`, counted once. */
  answer(
    request: H1Request,
    routed: Routed | null,
    status: number,
    headers: OutgoingHttpHeaders | null,
    body: string,
  ): void {
    const connection = request.connection;
    if (request.sink === null) request.setSink(DISCARD);
    if (routed !== null) countResponse(this.metrics, routed, status);
    request.status = status;
    request.responseStarted = true;
    if (request.method !== 'HEAD') request.bytesOut += Buffer.byteLength(body);
    // A request whose body is still coming cannot leave the connection in step unless it is read: close after.
    if (!request.bodyDone && request.hasBody) connection.closing = true;
    const close = connection.closesAfter(request);
    connection.write(localResponse(status, headers, body, close, request.method === 'HEAD'));
    connection.finish(request);
  }

  /** An accepted WebSocket upgrade: routed like a request, then bytes both ways. */
  tunnel(request: H1Request, head: Buffer): void {
    openTunnel(this, request, head);
  }

  countParserError(binding: SocketBinding, status: number): void {
    this.log.debug({ listener: binding.key, status }, 'request refused by the parser');
  }

  /** The request is over (answered whole, or its client went away): its server span ends, its access line. */
  logRequest(request: H1Request, completed: boolean): void {
    const telemetry = this.telemetry;
    let obs = request.obs;
    if (obs === null) {
      if (telemetry.accessLog === null) return;
      obs = request.obs = new Observation(requestIdOf(request.headers), request.started);
    }
    if (obs.server === null && telemetry.accessLog === null) return;
    obs.bytesIn = request.bytesIn;
    obs.bytesOut = request.bytesOut;
    const socket = request.connection.socket as Socket & { encrypted?: boolean; servername?: string | false };
    const tls = socket.encrypted === true;
    const target = request.target;
    const q = target.indexOf('?');
    finishObservation(telemetry, obs, {
      method: request.method,
      host: hostWithoutPort(request.headers.host as string | undefined),
      port: request.connection.binding.table.port,
      scheme: tls ? 'https' : 'http',
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? '' : target.slice(q + 1),
      protocolVersion: `1.${request.versionMinor}`,
      userAgent: request.headers['user-agent'] as string | undefined,
      clientAddress: socket.remoteAddress ?? '',
      clientPort: socket.remotePort ?? 0,
      status: request.status,
      completed,
      routed: request.routed,
      tlsVersion: tls ? tlsVersionOf((socket as unknown as { getProtocol(): string | null }).getProtocol()) : undefined,
      sni: tls && typeof socket.servername === 'string' ? socket.servername : undefined,
    });
  }

  /** Headers timeout (408, then close) and keep-alive timeout (close) of every connection. */
  sweep(): void {
    const now = performance.now();
    const headersTimeout = this.options.headersTimeoutMs;
    const keepAlive = this.options.keepAliveTimeoutMs;
    for (const connection of this.connections) {
      if (connection.endedAt > 0) {
        if (now - connection.endedAt > headersTimeout) connection.socket.destroy();
        continue;
      }
      if (connection.headStart > 0 && now - connection.headStart > headersTimeout && connection.current === null) {
        // A head begun and not finished gets 408 (as node:http answers); a connection that sent nothing is closed.
        this.connections.delete(connection);
        if (connection.headBytes) {
          const error = PROXY_ERRORS.HEADERS_TIMEOUT;
          connection.socket.end(localResponse(error.status, null, error.body, true, false));
          connection.socket.destroySoon();
        } else connection.socket.destroy();
      } else if (connection.idle && now - connection.idleSince > keepAlive) {
        this.connections.delete(connection);
        connection.socket.destroy();
      }
    }
  }

  /** Ends `binding`'s idle connections now and the others after their response; resolves when none is left. */
  drain(binding: SocketBinding, drainMs: number): Promise<void> {
    const deadline = performance.now() + drainMs;
    return new Promise((resolve) => {
      const check = () => {
        let left = 0;
        const force = performance.now() >= deadline;
        for (const connection of this.connections) {
          if (connection.binding !== binding) continue;
          connection.closing = true;
          if (force || connection.idle) connection.socket.destroy();
          else left++;
        }
        if (left === 0) return resolve();
        setTimeout(check, 100).unref();
      };
      check();
    });
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
