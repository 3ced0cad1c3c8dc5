// A WebSocket upgrade on the engine: routed by the routing core like any request (redirects and direct answers do not
// apply to a tunnel), then a connection of its own to a backend endpoint (outside the pool, with the pool's TLS
// settings), the request head replayed with the route's header filters and X-Forwarded-*, and from then on bytes
// both ways. The backend's own 101 (or refusal) reaches the client unchanged.

import type { Socket } from 'node:net';
import { countResponse, routeRequest } from '../core/route.ts';
import type { Routed } from '../core/route.ts';
import { PROXY_ERRORS } from '../errors.ts';
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

export function openTunnel(engine: Engine, request: H1Request, head: Buffer): void {
  const connection = request.connection;
  const client = connection.socket;
  connection.detach();
  const routed = routeRequest(
    connection.binding,
    {
      method: request.method,
      target: request.target,
      host: request.headers.host as string | undefined,
      headers: request.headers,
      servername: (client as { servername?: string | false }).servername,
      upgrade: true,
    },
    engine.registry,
  );
  request.listenerKey = routed.listenerKey;
  request.routeName = routed.routeName;
  if (routed.error !== null) return refuse(engine, request, routed, routed.error);
  if (routed.status !== 0) return refuse(engine, request, routed, 'UPGRADE_NOT_ROUTABLE');
  const backend = routed.backend as NonNullable<Routed['backend']>;
  const endpoint = backend.endpoints.pick();
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
