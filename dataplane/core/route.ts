// The routing core: what every HTTP front end (the HTTP/1.1 engine, the Fastify HTTP/2 front end, WebSocket
// upgrades) asks about a request, written once. Listener lookup by Host (or the authority of an absolute-form target),
// the 421 check against the TLS name, route matching, CORS preflights, redirects, direct responses, the weighted
// choice of a backend reference and the upstream path and Host after rewrites. It answers with a `Routed` of fixed
// shape: either a local answer (an error code of the registry, or a redirect/preflight/direct status), what to
// forward where, or a stop at an external-authorization filter (`Routed.auth`): the front end asks the authorizer
// (core/authorize.ts) and, if the request is allowed, calls `continueRouting`, which goes on from where routing
// stopped. The listener's filters (GEP-5224) run before route matching, which runs once, after the last of them; a
// rule's ExternalAuth filters (GEP-1494) run after the match and the CORS preflight (a preflight carries no
// credentials), before the rule redirects, answers or forwards. It does no I/O and knows nothing of sockets or
// Fastify.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { ExternalAuth } from '../../shared/ir/auth.ts';
import type { ProxyErrorCode } from '../errors.ts';
import type { SocketBinding } from '../http/binding.ts';
import { isPreflight, originAllowed, preflightHeaders } from '../http/cors.ts';
import { normalizeHost } from '../http/hostnames.ts';
import { matchRequest } from '../http/matcher.ts';
import type { RequestView } from '../http/matcher.ts';
import type { HttpMetrics } from '../http/metrics.ts';
import { modifyPath, redirectLocation } from '../http/redirect.ts';
import type { CompiledBackendRef, CompiledRule } from '../http/rules.ts';
import type { CompiledListener } from '../http/tables.ts';
import type { BackendRuntime, EndpointPool, UpstreamRegistry } from '../upstream/registry.ts';
import { requestToken, tokenHeaderValue } from './session.ts';
import type { CompiledSession } from './session.ts';

export interface RouteRequest {
  method: string;
  /** The request target as received (origin-form `/p?q`, or absolute-form `http://host/p?q`). */
  target: string;
  /** The Host header (HTTP/1.1) or :authority (HTTP/2), undefined when absent. */
  host: string | undefined;
  headers: IncomingHttpHeaders;
  /** The TLS server name of the connection (SNI), '' or undefined without TLS. */
  servername: string | false | undefined;
  /** The request will become a byte tunnel (WebSocket): redirects and direct answers do not apply. */
  upgrade: boolean;
}

/** The outcome of routing one request. Exactly one of `error`, `status` (a local answer) or `backend` is set. */
export class Routed {
  error: ProxyErrorCode | null = null;
  /** A local answer that is not an error (redirect, CORS preflight, a rule's direct status); 0 when none. */
  status = 0;
  headers: OutgoingHttpHeaders | null = null;
  listener: CompiledListener | null = null;
  rule: CompiledRule | null = null;
  ref: CompiledBackendRef | null = null;
  backend: BackendRuntime | null = null;
  /** The endpoint session persistence chose (every attempt goes there); null: each attempt picks its own. */
  endpoint: EndpointPool | null = null;
  /** A response header that hands the client a new session token (`set-cookie` or the rule's header); '' when none. */
  sessionHeader = '';
  sessionValue = '';
  /** The Host as the client gave it (or the absolute-form authority): X-Forwarded-Host. */
  clientHost: string | undefined = undefined;
  /** Host header to send upstream: the client's, or the URLRewrite hostname. */
  upstreamHost = '';
  /** Path and query to send upstream, after any URLRewrite. */
  upstreamTarget = '';
  path = '';
  query = '';
  /** The matched path match as a route template (`http.route`), '' when none matched. */
  pathTemplate = '';
  /** The request's Origin when the rule has a CORS policy that allows it; null otherwise. */
  corsOrigin: string | null = null;
  /** An external-authorization filter to run before routing goes on (`continueRouting`); null when none is due. */
  auth: ExternalAuth | null = null;
  /** Where `auth` is: AUTH_LISTENER (the listener's `filters.requests`) or AUTH_RULE (the rule's filters). */
  authPhase = 0;
  /** `auth`'s index in its list. */
  authIndex = 0;
  /**
   * `performance.now()` when this request first reached an authorizer (0: it never did). The rule's request timeout
   * counts from there (core/authorize.ts `requestTimeoutLeft`): an authorizer's time is the request's time.
   */
  authStarted = 0;
  /** The normalized Host that chose the listener (route matching reads it). */
  host = '';
  /** The part of the path the rule's PathPrefix match matched (redirects and rewrites replace it); null: none. */
  prefix: string | null = null;

  /** The route label for metrics ('' when none matched). */
  get routeName(): string {
    return this.rule === null ? '' : this.rule.routeName;
  }
  get listenerKey(): string {
    return this.listener === null ? '' : this.listener.key;
  }
}

export const AUTH_LISTENER = 1;
export const AUTH_RULE = 2;

export function pickBackendRef(rule: CompiledRule): CompiledBackendRef | null {
  const refs = rule.backends;
  if (refs.length === 1) return refs[0].weight > 0 ? refs[0] : null;
  if (rule.totalWeight === 0) return null;
  let point = Math.random() * rule.totalWeight;
  for (let i = 0; i < refs.length; i++) {
    point -= refs[i].weight;
    if (point < 0) return refs[i];
  }
  return refs[refs.length - 1];
}

function misdirected(binding: SocketBinding, listener: CompiledListener, servername: string | false | undefined) {
  if (typeof servername !== 'string' || servername === '') return false;
  const byName = binding.table.listeners.lookup(normalizeHost(servername));
  return byName !== undefined && byName !== listener;
}

/** True for a path with a dot segment, plain or %-encoded: never forwarded (a traversal on a naive backend). */
export function hasDotSegment(path: string): boolean {
  if (path.indexOf('.') === -1 && path.indexOf('%') === -1) return false;
  const decoded = path.replace(/%2e/gi, '.');
  return /(^|\/)\.\.?(\/|$)/.test(decoded) || decoded.includes('/%2f..') || decoded.includes('..%2f');
}

function splitTarget(routed: Routed, target: string, host: string | undefined): void {
  let rest = target;
  routed.clientHost = host;
  const c = target.charCodeAt(0);
  if (c !== 47 /* / */ && c !== 42 /* * */) {
    // absolute-form (RFC 9112 §3.2.2): the authority replaces the Host header.
    const scheme = target.indexOf('://');
    if (scheme !== -1) {
      const start = scheme + 3;
      let end = start;
      while (end < target.length) {
        const ch = target.charCodeAt(end);
        if (ch === 47 || ch === 63 /* ? */) break;
        end++;
      }
      routed.clientHost = target.slice(start, end);
      rest = end === target.length ? '/' : target.charCodeAt(end) === 63 ? `/${target.slice(end)}` : target.slice(end);
    }
  }
  const q = rest.indexOf('?');
  routed.path = q === -1 ? rest : rest.slice(0, q);
  routed.query = q === -1 ? '' : rest.slice(q + 1);
}

// Reused across requests (a shard thread routes one request at a time, synchronously): no view object per request.
const NO_HEADERS: IncomingHttpHeaders = {};
const VIEW: RequestView = { host: '', method: '', path: '', query: '', headers: NO_HEADERS };

/** Routes one request on the table of its connection's socket; see `Routed`. */
export function routeRequest(
  binding: SocketBinding | undefined,
  request: RouteRequest,
  registry: UpstreamRegistry,
): Routed {
  const routed = new Routed();
  if (binding === undefined) {
    routed.error = 'LISTENER_NOT_READY';
    return routed;
  }
  splitTarget(routed, request.target, request.host);
  const host = normalizeHost(routed.clientHost);
  const listener = binding.table.listeners.lookup(host);
  if (listener === undefined) {
    routed.error = 'NO_LISTENER';
    return routed;
  }
  routed.listener = listener;
  // The connection's TLS name chose another listener (its certificate, its client-certificate rules): the client
  // must open a connection for this host (RFC 9110 §15.5.20).
  if (listener.scheme === 'https' && misdirected(binding, listener, request.servername)) {
    routed.error = 'MISDIRECTED';
    return routed;
  }
  if (hasDotSegment(routed.path)) {
    routed.error = 'BAD_PATH';
    return routed;
  }
  routed.host = host;
  const auth = listener.listener.externalAuth;
  if (auth !== undefined && auth.length > 0) return stopAt(routed, auth[0], AUTH_LISTENER, 0);
  return matchRoute(routed, request, registry);
}

function stopAt(routed: Routed, auth: ExternalAuth, phase: number, index: number): Routed {
  routed.auth = auth;
  routed.authPhase = phase;
  routed.authIndex = index;
  return routed;
}

/**
 * Goes on routing after the filter `routed.auth` allowed the request (its headers already applied to
 * `request.headers`): the next filter of the same list, or route matching after the listener's last filter, or the
 * rule's action after the rule's last one.
 */
export function continueRouting(routed: Routed, request: RouteRequest, registry: UpstreamRegistry): Routed {
  const next = routed.authIndex + 1;
  if (routed.authPhase === AUTH_LISTENER) {
    const list = (routed.listener as CompiledListener).listener.externalAuth as ExternalAuth[];
    if (next < list.length) return stopAt(routed, list[next], AUTH_LISTENER, next);
    routed.auth = null;
    routed.authPhase = 0;
    return matchRoute(routed, request, registry);
  }
  const list = (routed.rule as CompiledRule).auth as ExternalAuth[];
  if (next < list.length) return stopAt(routed, list[next], AUTH_RULE, next);
  routed.auth = null;
  routed.authPhase = 0;
  return applyRule(routed, request, registry);
}

function matchRoute(routed: Routed, request: RouteRequest, registry: UpstreamRegistry): Routed {
  const listener = routed.listener as CompiledListener;
  const view = VIEW;
  view.host = routed.host;
  view.method = request.method;
  view.path = routed.path;
  view.query = routed.query;
  view.headers = request.headers;
  const entry = matchRequest(listener, view);
  view.headers = NO_HEADERS; // not kept past the match
  if (entry === null) {
    routed.error = 'NO_ROUTE';
    return routed;
  }
  const rule = entry.rule;
  routed.rule = rule;
  routed.pathTemplate = entry.template;
  routed.prefix = entry.prefix;
  if (rule.cors !== null) {
    const origin = request.headers.origin;
    const allowed = typeof origin === 'string' && originAllowed(rule.cors, origin);
    if (allowed) routed.corsOrigin = origin;
    // A preflight is the gateway's to answer, allowed or not: a refused origin gets no CORS headers, which the
    // browser reads as a refusal; the backend never sees preflights of a route with a CORS policy.
    if (isPreflight(request.method, request.headers)) {
      routed.status = 204;
      routed.headers = allowed ? preflightHeaders(rule.cors, origin, request.headers) : {};
      return routed;
    }
  }
  if (rule.auth !== null) return stopAt(routed, rule.auth[0], AUTH_RULE, 0);
  return applyRule(routed, request, registry);
}

/** The matched rule's action: its redirect, its direct answer, or a backend to forward to. */
function applyRule(routed: Routed, request: RouteRequest, registry: UpstreamRegistry): Routed {
  const listener = routed.listener as CompiledListener;
  const rule = routed.rule as CompiledRule;
  const host = routed.host;
  if (rule.redirect !== null) {
    if (request.upgrade) {
      routed.error = 'UPGRADE_NOT_ROUTABLE';
      return routed;
    }
    routed.status = rule.redirect.statusCode;
    routed.headers = {
      location: redirectLocation(rule.redirect, {
        scheme: listener.scheme,
        host: host === '' ? (routed.clientHost ?? '') : host,
        listenerPort: listener.listener.port,
        path: routed.path,
        query: routed.query,
        prefix: routed.prefix,
      }),
    };
    return routed;
  }
  if (rule.directStatus !== 0) {
    if (rule.directStatus === 500) routed.error = 'NO_BACKEND';
    else routed.status = rule.directStatus;
    return routed;
  }
  const ref = pickBackendRef(rule);
  // The listener's client certificate (Gateway `spec.tls.backend`) picks the backend's pools: one per pair.
  const backend =
    ref === null || ref.backendKey === null
      ? undefined
      : registry.backend(ref.backendKey, listener.listener.backendClientCertificateKey);
  if (ref === null || backend === undefined) {
    routed.error = 'NO_BACKEND';
    return routed;
  }
  if (backend.endpoints.size === 0) {
    routed.error = 'NO_ENDPOINT';
    return routed;
  }
  routed.ref = ref;
  routed.backend = backend;
  // The rule's own session persistence, else the backend's (an XBackendTrafficPolicy's): the more specific wins.
  const session = rule.session ?? backend.session;
  if (session !== null) pinSession(routed, session, request, registry);
  const rewrite = ref.rewrite ?? rule.rewrite;
  const path = rewrite?.path ? modifyPath(routed.path, rewrite.path, routed.prefix) : routed.path;
  routed.upstreamTarget = routed.query.length > 0 ? `${path}?${routed.query}` : path;
  routed.upstreamHost = rewrite?.hostname ?? routed.clientHost ?? '';
  return routed;
}

/**
 * GEP-1619, after the weighted choice (the GEP forbids a session overriding the split): the endpoint the request's
 * token names, when it is still one of the backend's ready endpoints and the session has not expired; otherwise one
 * picked as usual, with a new token for the response.
 */
function pinSession(routed: Routed, session: CompiledSession, request: RouteRequest, registry: UpstreamRegistry): void {
  const backend = routed.backend as BackendRuntime;
  const tokens = registry.sessions;
  const now = session.timeoutSeconds === 0 ? 0 : Math.floor(Date.now() / 1000);
  const token = requestToken(session, request.headers);
  const pinned = token === null ? null : tokens.resolve(backend, token, session.timeoutSeconds, now);
  if (pinned !== null) {
    routed.endpoint = pinned;
    return;
  }
  const picked = backend.endpoints.pick();
  if (picked === undefined) return;
  routed.endpoint = picked;
  const issued = tokens.issue(backend, picked, session.timeoutSeconds, now);
  if (issued === null) return;
  routed.sessionHeader = session.cookie ? 'set-cookie' : session.name;
  routed.sessionValue = tokenHeaderValue(session, issued, (routed.listener as CompiledListener).scheme === 'https');
}

/** Counts a response the gateway sent (its own or the backend's), once, for both front ends. */
export function countResponse(metrics: HttpMetrics, routed: Routed, status: number): void {
  if (routed.listener !== null) metrics.response(routed.listener.key, routed.routeName, status);
}
