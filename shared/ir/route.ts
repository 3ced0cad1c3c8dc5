// Route records of the IR. HTTPRoute and GRPCRoute both become `HttpRoute` (a GRPCRoute method match is a path
// match on `/<service>/<method>`); TCPRoute, UDPRoute and TLSRoute (passthrough) become `StreamRoute`.
// Each record names the listeners it is attached to, with the route hostnames that intersect each listener's.

import type { ExternalAuth } from './auth.ts';
import type { SourceRef } from './listener.ts';

/** One accepted attachment of a route to a listener (a `parentRef` that matched that listener). */
export interface RouteAttachment {
  listenerKey: string;
  /**
   * The route's `spec.hostnames` that intersect the listener's hostname, as the route wrote them (a wider route name
   * is not narrowed to the listener's: route precedence goes by the route's own hostnames, and the listener already
   * admits only its own hosts). Empty: every host the listener accepts (the route named no hostnames).
   */
  hostnames: string[];
}

export interface PathMatch {
  /** `matches[].path.type`. RegularExpression uses RE2 syntax and must match the whole path. */
  type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  /** `matches[].path.value`. */
  value: string;
}

export interface ValueMatch {
  /** `matches[].headers[].type` / `queryParams[].type`. RegularExpression uses RE2 syntax, whole-value match. */
  type: 'Exact' | 'RegularExpression';
  /** Header names compare case-insensitively; query parameter names compare exactly. */
  name: string;
  value: string;
}

export interface HttpMatch {
  path: PathMatch;
  /** `matches[].method`, upper case. */
  method?: string;
  headers: ValueMatch[];
  queryParams: ValueMatch[];
}

export interface HeaderValue {
  name: string;
  value: string;
}

/** `RequestHeaderModifier` / `ResponseHeaderModifier`: applied as remove, then set, then add. */
export interface HeaderModifier {
  set: HeaderValue[];
  add: HeaderValue[];
  remove: string[];
}

/** `requestRedirect.path` / `urlRewrite.path`. */
export type PathModifier =
  | { type: 'ReplaceFullPath'; value: string }
  /** Replaces the part of the path the rule's PathPrefix match matched. */
  | { type: 'ReplacePrefixMatch'; value: string };

export type RedirectStatus = 301 | 302 | 303 | 307 | 308;

export interface CorsPolicy {
  /** `cors.allowOrigins`: `*`, exact origins, or origins with a `*` wildcard in the host part. */
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  /** `cors.maxAge`, seconds. */
  maxAgeSeconds?: number;
  allowCredentials: boolean;
}

export type HttpFilter =
  | ({ type: 'RequestHeaderModifier' } & HeaderModifier)
  | ({ type: 'ResponseHeaderModifier' } & HeaderModifier)
  | {
      type: 'RequestRedirect';
      scheme?: 'http' | 'https';
      hostname?: string;
      port?: number;
      path?: PathModifier;
      statusCode: RedirectStatus;
    }
  | { type: 'URLRewrite'; hostname?: string; path?: PathModifier }
  | {
      type: 'RequestMirror';
      backendKey: string;
      /** Share of requests mirrored, 0–100 (from `percent` or `fraction`). */
      percent: number;
    }
  | ({ type: 'CORS' } & CorsPolicy)
  /** `rules[].filters[].externalAuth` (GEP-1494): the authorizer decides before the rule does anything else. */
  | ({ type: 'ExternalAuth' } & ExternalAuth & { backendKey: string });

/** A `backendRefs[]` entry. `backendKey: null` stands for an invalid reference: its share of requests gets 500. */
export interface WeightedBackend {
  backendKey: string | null;
  weight: number;
  /** `backendRefs[].filters` (HTTPRoute only). */
  filters: HttpFilter[];
}

export interface RetryPolicy {
  /** `retry.attempts`: retries after the first try. */
  attempts: number;
  /** `retry.codes`: upstream status codes that are retried. */
  codes: number[];
  /** `retry.backoff`, milliseconds before each retry. */
  backoffMs: number;
  /** Also retry when the connection to the backend fails or resets before a response. */
  onConnectionError: boolean;
  /** Also retry an attempt that ran out its backend request timeout (`timeouts.backendRequest`). */
  onBackendTimeout: boolean;
}

/**
 * `rules[].sessionPersistence` (GEP-1619), or an XBackendTrafficPolicy's for a backend of the rule: the data plane
 * pins a client to one endpoint of the backend the weighted choice picked (never to a backend: the GEP forbids
 * overriding the split), with an opaque token in a cookie or a header.
 */
export interface SessionPersistence {
  /** `sessionPersistence.type` (default Cookie). */
  type: 'Cookie' | 'Header';
  /** `cookie.name` / `header.name`; for a Cookie without a name, one the translator derives from the route rule. */
  name: string;
  /** `absoluteTimeout`, milliseconds: the session's lifetime, checked against the time sealed in the token. */
  absoluteTimeoutMs?: number;
  /** `cookie.lifetimeType: Permanent`: the cookie carries Max-Age (the absolute timeout). Cookie type only. */
  permanent: boolean;
  /** `cookie.path` (default `/`). Cookie type only. */
  cookiePath: string;
}

export interface HttpRule {
  /** Index in `spec.rules`. */
  index: number;
  /** `rules[].name`. */
  name?: string;
  /** At least one; a rule with no `matches` gets `PathPrefix /` from the translator. */
  matches: HttpMatch[];
  filters: HttpFilter[];
  backends: WeightedBackend[];
  /** `rules[].timeouts`, milliseconds; absent or 0 means no timeout. */
  timeouts?: { requestMs?: number; backendRequestMs?: number };
  retry?: RetryPolicy;
  sessionPersistence?: SessionPersistence;
  /** The rule answers by itself (e.g. 500 when it has no usable backend and no redirect). */
  directResponse?: { status: number };
}

export interface HttpRoute {
  /** Built by `routeKey()`: `<kind>/<namespace>/<name>`, kind in lower case. */
  key: string;
  source: SourceRef;
  /** Tie-break between routes whose matches are equally specific: lower wins (older, then namespace/name). */
  rank: number;
  parents: RouteAttachment[];
  rules: HttpRule[];
}

/** TCPRoute, UDPRoute, TLSRoute: a connection (or datagram flow) goes to one weighted backend. */
export interface StreamRoute {
  key: string;
  source: SourceRef;
  rank: number;
  /** For TLSRoute the attachment hostnames are the SNI names to match; TCP and UDP routes leave them empty. */
  parents: RouteAttachment[];
  backends: WeightedBackend[];
}
