// IR rules → runtime rules: everything a request needs after matching, prepared once per record so that the request
// path only reads plain objects. Compiled rules are cached by record identity (records are immutable), so an
// unchanged route is never compiled twice, whatever else changes in a generation.

import type { ExternalAuth } from '../../shared/ir/auth.ts';
import type {
  CorsPolicy,
  HeaderModifier,
  HttpFilter,
  HttpRoute,
  HttpRule,
  PathModifier,
  RetryPolicy,
  WeightedBackend,
} from '../../shared/ir/route.ts';
import { compileSession } from '../core/session.ts';
import type { CompiledSession } from '../core/session.ts';

export interface HeaderOps {
  /** Lower-case names to delete, then to overwrite, then to append. */
  remove: string[];
  set: Array<[name: string, value: string]>;
  add: Array<[name: string, value: string]>;
}

export interface Redirect {
  scheme: 'http' | 'https' | null;
  hostname: string | null;
  port: number | null;
  path: PathModifier | null;
  statusCode: number;
}

export interface Rewrite {
  hostname: string | null;
  path: PathModifier | null;
}

export interface Mirror {
  backendKey: string;
  /** Probability in [0, 1]. */
  fraction: number;
}

export interface CompiledCors {
  anyOrigin: boolean;
  exactOrigins: Set<string>;
  /** [scheme://, host suffix incl. the dot, port part] for origins like `https://*.example.com`. */
  wildcardOrigins: Array<{ scheme: string; suffix: string; port: string }>;
  allowMethods: string;
  /** True when allowMethods is `*`: the requested method is echoed back (valid with and without credentials). */
  anyMethod: boolean;
  allowHeaders: string;
  /** True when allowHeaders is `*`: echo the requested headers back. */
  anyHeader: boolean;
  exposeHeaders: string;
  maxAge: string | null;
  allowCredentials: boolean;
}

export interface CompiledBackendRef {
  /** null: an invalid reference; requests sent its way get 500. */
  backendKey: string | null;
  weight: number;
  requestHeaders: HeaderOps | null;
  responseHeaders: HeaderOps | null;
  rewrite: Rewrite | null;
  mirrors: Mirror[];
}

export interface CompiledRule extends FilterSet {
  routeKey: string;
  routeName: string;
  ruleIndex: number;
  backends: CompiledBackendRef[];
  totalWeight: number;
  requestTimeoutMs: number;
  backendTimeoutMs: number;
  retry: RetryPolicy | null;
  /** `sessionPersistence` (GEP-1619); null when the rule has none. */
  session: CompiledSession | null;
  directStatus: number;
}

export interface CompiledRoute {
  rules: CompiledRule[];
}

function headerOps(mod: HeaderModifier): HeaderOps {
  return {
    remove: mod.remove.map((n) => n.toLowerCase()),
    set: mod.set.map((h) => [h.name.toLowerCase(), h.value]),
    add: mod.add.map((h) => [h.name.toLowerCase(), h.value]),
  };
}

function compileCors(policy: CorsPolicy): CompiledCors {
  const exactOrigins = new Set<string>();
  const wildcardOrigins: CompiledCors['wildcardOrigins'] = [];
  let anyOrigin = false;
  for (const origin of policy.allowOrigins) {
    if (origin === '*') anyOrigin = true;
    else {
      const m = /^(https?:\/\/)\*(\.[^:]+)(:\d+)?$/.exec(origin);
      if (m) wildcardOrigins.push({ scheme: m[1], suffix: m[2].toLowerCase(), port: m[3] ?? '' });
      else exactOrigins.add(origin.toLowerCase());
    }
  }
  const anyMethod = policy.allowMethods.includes('*');
  return {
    anyOrigin,
    exactOrigins,
    wildcardOrigins,
    allowMethods: policy.allowMethods.filter((m) => m !== '*').join(', '),
    anyMethod,
    allowHeaders: policy.allowHeaders.filter((h) => h !== '*').join(', '),
    anyHeader: policy.allowHeaders.includes('*'),
    exposeHeaders: policy.exposeHeaders.join(', '),
    maxAge: policy.maxAgeSeconds === undefined ? null : String(policy.maxAgeSeconds),
    allowCredentials: policy.allowCredentials,
  };
}

/** What a list of filters compiles to; a rule carries all of it, a backend reference a part. */
interface FilterSet {
  requestHeaders: HeaderOps | null;
  responseHeaders: HeaderOps | null;
  redirect: Redirect | null;
  rewrite: Rewrite | null;
  mirrors: Mirror[];
  cors: CompiledCors | null;
  /** ExternalAuth filters, in order (the routing core runs them after the match); null when none. */
  auth: ExternalAuth[] | null;
}

function compileFilters(filters: HttpFilter[]): FilterSet {
  const out: FilterSet = {
    requestHeaders: null,
    responseHeaders: null,
    redirect: null,
    rewrite: null,
    mirrors: [],
    cors: null,
    auth: null,
  };
  for (const filter of filters) {
    switch (filter.type) {
      case 'RequestHeaderModifier':
        out.requestHeaders = headerOps(filter);
        break;
      case 'ResponseHeaderModifier':
        out.responseHeaders = headerOps(filter);
        break;
      case 'RequestRedirect':
        out.redirect = {
          scheme: filter.scheme ?? null,
          hostname: filter.hostname ?? null,
          port: filter.port ?? null,
          path: filter.path ?? null,
          statusCode: filter.statusCode,
        };
        break;
      case 'URLRewrite':
        out.rewrite = { hostname: filter.hostname ?? null, path: filter.path ?? null };
        break;
      case 'RequestMirror':
        out.mirrors.push({ backendKey: filter.backendKey, fraction: filter.percent / 100 });
        break;
      case 'CORS':
        out.cors = compileCors(filter);
        break;
      case 'ExternalAuth':
        out.auth ??= [];
        out.auth.push(filter);
        break;
      default:
        // Validation refuses unknown filter types before a snapshot reaches a shard.
        throw new Error(`unknown filter type ${(filter as { type: string }).type}`);
    }
  }
  return out;
}

function compileBackendRef(ref: WeightedBackend): CompiledBackendRef {
  const filters = compileFilters(ref.filters ?? []);
  return {
    backendKey: ref.backendKey,
    weight: ref.weight,
    requestHeaders: filters.requestHeaders,
    responseHeaders: filters.responseHeaders,
    rewrite: filters.rewrite,
    mirrors: filters.mirrors,
  };
}

function compileRule(route: HttpRoute, rule: HttpRule): CompiledRule {
  const filters = compileFilters(rule.filters);
  const backends = rule.backends.map(compileBackendRef);
  return {
    routeKey: route.key,
    routeName: `${route.source.namespace}/${route.source.name}`,
    ruleIndex: rule.index,
    requestHeaders: filters.requestHeaders,
    responseHeaders: filters.responseHeaders,
    redirect: filters.redirect,
    rewrite: filters.rewrite,
    mirrors: filters.mirrors,
    cors: filters.cors,
    auth: filters.auth,
    backends,
    totalWeight: backends.reduce((sum, b) => sum + b.weight, 0),
    requestTimeoutMs: rule.timeouts?.requestMs ?? 0,
    backendTimeoutMs: rule.timeouts?.backendRequestMs ?? 0,
    retry: rule.retry ?? null,
    session: rule.sessionPersistence === undefined ? null : compileSession(rule.sessionPersistence),
    directStatus: rule.directResponse?.status ?? 0,
  };
}

const compiledRoutes = new WeakMap<HttpRoute, CompiledRoute>();

export function compileRoute(route: HttpRoute): CompiledRoute {
  let compiled = compiledRoutes.get(route);
  if (compiled === undefined) {
    compiled = { rules: route.rules.map((rule) => compileRule(route, rule)) };
    compiledRoutes.set(route, compiled);
  }
  return compiled;
}
