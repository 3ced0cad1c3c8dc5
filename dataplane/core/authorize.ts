// The routing core's external-authorization step (GEP-1494, GEP-5224), the one both HTTP front ends call when
// `routeRequest` stops at a filter (`Routed.auth`): pick an endpoint of the authorizer's backend, ask it (HTTP or
// gRPC, dataplane/auth/), and hand back a verdict. Every way of not getting a decision fails closed: no valid
// authorizer reference (500), no endpoint, a refused connection, a timeout, an answer that is not one (403). A failed
// call is counted in the upstream error metric under the authorizer's backend key.
// Must not: touch the client's connection (the front end answers), or cost anything to a request without a filter.

import type { IncomingHttpHeaders } from 'node:http';
import type { ExternalAuth } from '../../shared/ir/auth.ts';
import { checkGrpc } from '../auth/grpc-authorizer.ts';
import { checkHttp } from '../auth/http-authorizer.ts';
import type { AuthSubject } from '../auth/subject.ts';
import { AuthVerdict } from '../auth/verdict.ts';
import type { HttpMetrics } from '../http/metrics.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { Routed } from './route.ts';

/** The socket addresses a subject carries (both front ends' sockets have them). */
export interface SocketAddresses {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

/** The request as the authorizer of `routed.auth` sees it (built only for a request that has a filter to run). */
export function buildSubject(
  routed: Routed,
  method: string,
  headers: IncomingHttpHeaders,
  protocol: string,
  socket: SocketAddresses,
  requestId: string,
  body: Buffer | null,
): AuthSubject {
  const length = headers['content-length'];
  return {
    method,
    target: routed.query.length > 0 ? `${routed.path}?${routed.query}` : routed.path,
    path: routed.path,
    query: routed.query,
    host: routed.clientHost ?? '',
    scheme: routed.listener === null ? 'http' : routed.listener.scheme,
    protocol,
    headers,
    requestId,
    clientAddress: socket.remoteAddress ?? '',
    clientPort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    body,
    size: typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : -1,
  };
}

function onTimeout(controller: AbortController): void {
  controller.abort();
}

/** Asks `auth`'s authorizer about `subject`; `done` is called exactly once, possibly before this returns. */
export function authorize(
  auth: ExternalAuth,
  subject: AuthSubject,
  registry: UpstreamRegistry,
  metrics: HttpMetrics,
  clientCertificateKey: string | undefined,
  done: (verdict: AuthVerdict) => void,
): void {
  if (auth.backendKey === null) return done(AuthVerdict.error('EXT_AUTHZ_INVALID'));
  const backendKey = auth.backendKey;
  const backend = registry.backend(backendKey, clientCertificateKey);
  const endpoint = backend?.endpoints.pick();
  if (endpoint === undefined) {
    metrics.upstreamError(backendKey, 'NO_ENDPOINT');
    return done(AuthVerdict.error('EXT_AUTHZ_ERROR'));
  }
  // Only failures are counted (the upstream error metric, under the authorizer's backend key): `upstreamResponse`
  // would hand the authorizer's time to whichever route the shard answers next (shard/metrics.ts pairs the two).
  const finish = (verdict: AuthVerdict) => {
    if (verdict.error !== null) metrics.upstreamError(backendKey, 'EXT_AUTHZ_ERROR');
    done(verdict);
  };
  if (auth.protocol === 'GRPC') return checkGrpc(endpoint.host, endpoint.port, auth, subject, finish);
  const pool = endpoint.pool;
  if (pool === null) return finish(AuthVerdict.error('EXT_AUTHZ_ERROR'));
  // The deadline covers the connection too (undici's own timeouts start with the request's headers).
  const controller = new AbortController();
  const timer = setTimeout(onTimeout, auth.timeoutMs, controller);
  checkHttp(pool, auth, subject, controller.signal).then((verdict) => {
    clearTimeout(timer);
    finish(verdict);
  });
}
