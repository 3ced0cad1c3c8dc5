// A WebSocket upgrade on the engine: routed by the routing core like any request (redirects and direct answers do not
// apply to a tunnel), then a connection of its own to a backend endpoint (outside the pool, with the pool's TLS
// settings), the request head replayed with the route's header filters and X-Forwarded-*, and from then on bytes
// both ways. The backend's own 101 (or refusal) reaches the client unchanged.

import type { Socket } from 'node:net';
import { applyVerdict } from '../auth/verdict.ts';
import { authorize, buildSubject } from '../core/authorize.ts';
import { continueRouting, countResponse, routeRequest } from '../core/route.ts';
import type { RouteRequest, Routed } from '../core/route.ts';
import { EXT_AUTHZ_DENIED, PROXY_ERRORS } from '../errors.ts';
import type { ProxyErrorCode } from '../errors.ts';
import type { H1Request } from './connection.ts';
import type { Engine } from './engine.ts';
import { localResponse } from './head.ts';
import { buildUpgradeHead } from './request-head.ts';

function refuse(engine: Engine, request: H1Request, routed: Routed, code: ProxyErrorCode): void {
  const error = PROXY_ERRORS[code];
  countResponse(engine.metrics, routed, error.status);
  request.status = error.status;
  engine.logRequest(request, true);
  const socket = request.connection.socket;
  if (!socket.destroyed) socket.end(localResponse(error.status, null, error.body, true, false));
}

function routeRequestOf(request: H1Request): RouteRequest {
  return {
    method: request.method,
    target: request.target,
    host: request.headers.host as string | undefined,
    headers: request.headers,
    servername: (request.connection.socket as { servername?: string | false }).servername,
    upgrade: true,
  };
}

export function openTunnel(engine: Engine, request: H1Request, head: Buffer): void {
  const connection = request.connection;
  connection.detach();
  connection.socket.pause();
  tunnelRouted(engine, request, head, routeRequest(connection.binding, routeRequestOf(request), engine.registry));
}

/**
 * An upgrade stopped at an external-authorization filter: the client's bytes wait (its socket is paused) until the
 * authorizer decides; a denial or an error is answered and the connection closed, as any refusal of a tunnel is.
 */
function authorizeTunnel(engine: Engine, request: H1Request, head: Buffer, routed: Routed): void {
  const client = request.connection.socket;
  const subject = buildSubject(
    routed,
    request.method,
    request.headers,
    `HTTP/1.${request.versionMinor}`,
    client,
    request.obs?.requestId ?? '',
    null,
  );
  const certificate = routed.listener?.listener.backendClientCertificateKey;
  authorize(routed, subject, engine.registry, engine.metrics, certificate, (verdict) => {
    if (client.destroyed) return;
    if (verdict.error !== null) {
      request.obs?.flag(verdict.error);
      return refuse(engine, request, routed, verdict.error);
    }
    if (!verdict.allowed) {
      request.obs?.flag(EXT_AUTHZ_DENIED);
      countResponse(engine.metrics, routed, verdict.status);
      request.status = verdict.status;
      engine.logRequest(request, true);
      return void client.end(localResponse(verdict.status, verdict.headers, verdict.body, true, false));
    }
    applyVerdict(request.headers, verdict);
    tunnelRouted(engine, request, head, continueRouting(routed, routeRequestOf(request), engine.registry));
  });
}

function tunnelRouted(engine: Engine, request: H1Request, head: Buffer, routed: Routed): void {
  const client = request.connection.socket;
  if (routed.auth !== null) return authorizeTunnel(engine, request, head, routed);
  request.listenerKey = routed.listenerKey;
  request.routeName = routed.routeName;
  if (routed.error !== null) return refuse(engine, request, routed, routed.error);
  if (routed.status !== 0) return refuse(engine, request, routed, 'UPGRADE_NOT_ROUTABLE');
  const backend = routed.backend as NonNullable<Routed['backend']>;
  // A session token (GEP-1619) pins the tunnel too; the 101 is relayed as bytes, so an upgrade issues no new token.
  const endpoint = routed.endpoint ?? backend.endpoints.pick();
  if (endpoint === undefined || endpoint.h1 === null) {
    const code = endpoint === undefined ? 'NO_ENDPOINT' : 'UPSTREAM_FAILED';
    return refuse(engine, request, routed, code);
  }
  const upstream: Socket = endpoint.h1.connectRaw();
  upstream.write(buildUpgradeHead(request, routed));
  if (head.length > 0) upstream.write(head);
  upstream.once('data', () => {
    countResponse(engine.metrics, routed, 101);
    request.status = 101;
  });
  upstream.pipe(client);
  client.pipe(upstream);
  // A tunnel with no bytes either way for the idle limit is closed, as an L4 stream is (nginx's proxy_timeout).
  const idleMs = engine.options.tunnelIdleMs ?? 0;
  if (idleMs > 0) {
    let last = performance.now();
    const touch = () => {
      last = performance.now();
    };
    client.on('data', touch);
    upstream.on('data', touch);
    const check = setInterval(
      () => {
        if (performance.now() - last < idleMs) return;
        client.destroy();
        upstream.destroy();
      },
      Math.max(50, Math.min(idleMs / 4, 10_000)),
    );
    check.unref();
    client.once('close', () => clearInterval(check));
  }
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    engine.metrics.upstreamError(backend.key, error.code ?? 'UNKNOWN');
    if (upstream.bytesRead === 0 && !client.destroyed) refuse(engine, request, routed, 'UPSTREAM_FAILED');
    else client.destroy();
  });
  client.on('close', () => {
    upstream.destroy();
    if (request.status === 101) engine.logRequest(request, true);
  });
  upstream.on('close', () => {
    if (upstream.bytesRead > 0 || !client.writable) client.destroy();
  });
}
