// The routing core's external-authorization step (GEP-1494, GEP-5224), the one both HTTP front ends call when
// `routeRequest` stops at a filter (`Routed.auth`): pick an endpoint of the authorizer's backend, ask it (HTTP or
// gRPC, dataplane/auth/), and hand back a verdict. Every way of not getting a decision fails closed: no valid
// authorizer reference (500), no endpoint, a refused connection, a timeout, an answer that is not one (403); the
// rule's request timeout running out meanwhile, 504. Every call is counted by outcome with its latency
// (`portico_ext_authz_*`), and a failed one also in the upstream error metric under the authorizer's backend key.
// Must not: touch the client's connection (the front end answers), or cost anything to a request without a filter.

import type { IncomingHttpHeaders } from 'node:http';
import type { ExternalAuth } from '../../shared/ir/auth.ts';
import { checkGrpc } from '../auth/grpc-authorizer.ts';
import { checkHttp } from '../auth/http-authorizer.ts';
import type { AuthSubject } from '../auth/subject.ts';
import { AuthVerdict } from '../auth/verdict.ts';
import type { AuthOutcome, HttpMetrics } from '../http/metrics.ts';
import type { CompiledRule } from '../http/rules.ts';
import type { BackendRuntime, UpstreamRegistry } from '../upstream/registry.ts';
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

/**
 * The milliseconds the request deadline (`timeouts.request`) of `routed`'s rule has left when it is armed, or 0 for
 * none. A request that went through an authorizer has spent part of its time there (counted from `authStarted`); at
 * least 1 ms is left, so that a deadline already past fires at once (504) instead of meaning "no timeout". A request
 * that met no authorizer reads one field more than before.
 */
export function requestTimeoutLeft(routed: Routed): number {
  const ms = (routed.rule as CompiledRule).requestTimeoutMs;
  if (ms === 0 || routed.authStarted === 0) return ms;
  return Math.max(1, Math.ceil(ms - (performance.now() - routed.authStarted)));
}

/** Marks the start of a request's authorization (its first filter): the request deadline counts from here. */
export function authorizationStarted(routed: Routed): void {
  if (routed.authStarted === 0) routed.authStarted = performance.now();
}

function outcomeOf(verdict: AuthVerdict): AuthOutcome {
  if (verdict.error !== null) return 'error';
  return verdict.allowed ? 'allowed' : 'denied';
}

/**
 * Asks the authorizer of `routed.auth` about `subject`; `done` is called exactly once, possibly before this returns.
 * The call has the filter's own timeout, or what is left of the rule's request timeout when that is shorter (a rule
 * filter: the rule is known; a listener filter runs before matching, so only its own timeout bounds it, and its time
 * is taken from the rule's once one is matched). Running out the request's time answers 504 (REQUEST_TIMEOUT), the
 * authorizer's own timeout 403 (EXT_AUTHZ_ERROR); either way the call is cancelled.
 */
export function authorize(
  routed: Routed,
  subject: AuthSubject,
  registry: UpstreamRegistry,
  metrics: HttpMetrics,
  clientCertificateKey: string | undefined,
  done: (verdict: AuthVerdict) => void,
): void {
  const auth = routed.auth as ExternalAuth;
  authorizationStarted(routed);
  const started = performance.now();
  let budget = auth.timeoutMs;
  let requestBound = false;
  const rule = routed.rule;
  if (rule !== null && rule.requestTimeoutMs > 0) {
    const left = rule.requestTimeoutMs - (started - routed.authStarted);
    if (left <= 0) return done(AuthVerdict.error('REQUEST_TIMEOUT'));
    if (left < budget) {
      budget = Math.ceil(left);
      requestBound = true;
    }
  }
  const listenerKey = routed.listenerKey;
  const route = routed.routeName;
  const authorizer = auth.backendKey ?? '';
  const finish = (verdict: AuthVerdict) => {
    const seconds = (performance.now() - started) / 1000;
    // The request's own deadline passed while the authorizer thought: the request timed out (504), whatever the
    // authorizer's failure looked like (an abort, DEADLINE_EXCEEDED). 1 ms of slack: timers and clocks differ.
    if (requestBound && verdict.error === 'EXT_AUTHZ_ERROR' && seconds * 1000 >= budget - 1)
      verdict = AuthVerdict.error('REQUEST_TIMEOUT');
    if (verdict.error !== null && auth.backendKey !== null) metrics.upstreamError(auth.backendKey, verdict.error);
    metrics.extAuthz(listenerKey, route, authorizer, outcomeOf(verdict), seconds);
    done(verdict);
  };
  if (auth.backendKey === null) return finish(AuthVerdict.error('EXT_AUTHZ_INVALID'));
  const backend = registry.backend(auth.backendKey, clientCertificateKey);
  const endpoint = backend?.endpoints.pick();
  if (endpoint === undefined) {
    // Counted as no endpoint (as for any backend), not as a failed call: no call was made.
    metrics.upstreamError(auth.backendKey, 'NO_ENDPOINT');
    metrics.extAuthz(listenerKey, route, authorizer, 'error', 0);
    return done(AuthVerdict.error('EXT_AUTHZ_ERROR'));
  }
  if (auth.protocol === 'GRPC') return checkGrpc(endpoint, backend as BackendRuntime, auth, subject, budget, finish);
  const pool = endpoint.pool;
  if (pool === null) return finish(AuthVerdict.error('EXT_AUTHZ_ERROR'));
  // The deadline covers the connection too (undici's own timeouts start with the request's headers).
  const controller = new AbortController();
  const timer = setTimeout(onTimeout, budget, controller);
  checkHttp(pool, auth, subject, controller.signal).then((verdict) => {
    clearTimeout(timer);
    finish(verdict);
  });
}
