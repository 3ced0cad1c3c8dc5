// HTTPRoute and GRPCRoute filters (`rules[].filters[]` and `backendRefs[].filters[]`) → IR HttpFilter. Every value
// is checked (header names and values, hostnames, paths, status codes, CORS origins); an unknown type or a value
// out of its enum is UnsupportedValue, URLRewrite with RequestRedirect is IncompatibleFilters, and a filter whose
// feature this installation does not support is refused like an unknown value. An ExtensionRef cannot be resolved
// (Portico has no extension filters), and Gateway API forbids skipping it: the rule answers 500 instead. So does a
// rule whose ExternalAuth authorizer does not resolve (GEP-1494: the filter fails closed); ExternalAuth on a
// backendRef is refused (UnsupportedValue): authorization there would depend on the weighted pick.

import type {
  HeaderModifier,
  HeaderValue,
  HttpFilter,
  HttpMatch,
  PathModifier,
  RedirectStatus,
} from '../../../shared/ir/route.ts';
import {
  REDIRECT_STATUS_CODES,
  checkCorsOrigin,
  checkHeaderName,
  checkHeaderValue,
  checkHostname,
  checkMethod,
  checkPathValue,
  checkPort,
} from '../../../shared/validation/fields.ts';
import { resolveBackendRef } from '../backends/backend.ts';
import type { BackendFamily, ReferringRoute } from '../backends/backend.ts';
import { routeInvalidKind } from '../conditions.ts';
import type { TranslateContext } from '../context.ts';
import { readExternalAuth, resolveAuthBackend } from '../backends/external-auth.ts';
import { at, booleanAt, integerAt, isObject, listAt, objectAt, show } from '../read.ts';
import type { RuleIssues } from './rule-issues.ts';

export interface FilterScope {
  context: TranslateContext;
  route: ReferringRoute;
  family: BackendFamily;
  /** The rule's matches, for the ReplacePrefixMatch rule (it needs PathPrefix matches only). */
  matches: readonly HttpMatch[];
  /** `backendRefs[].filters` rather than `rules[].filters`. */
  perBackend: boolean;
}

export interface BuiltFilters {
  filters: HttpFilter[];
  /** An ExtensionRef is present: requests this rule would handle get 500. */
  failClosed: boolean;
}

const GRPC_FILTERS = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']);
const SINGLETONS = new Set([
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestRedirect',
  'URLRewrite',
  'CORS',
]);

/** Whether the installation supports `feature`; when it does not, records why `what` cannot be used. */
function supported(scope: FilterScope, issues: RuleIssues, feature: string, what: string): boolean {
  if (scope.context.options.supportedFeatures.has(feature)) return true;
  issues.unsupported(`${what} is not supported by this installation (feature ${feature})`);
  return false;
}

function headerList(raw: unknown, field: string, issues: RuleIssues, names: Set<string>): HeaderValue[] {
  if (raw !== undefined && !Array.isArray(raw))
    return issues.unsupported(`${field} must be a list; it is ${show(raw)}`) ?? [];
  const out: HeaderValue[] = [];
  for (const [i, entry] of listAt(raw).entries()) {
    const e = objectAt(entry);
    const nameProblem = checkHeaderName(e.name);
    if (nameProblem !== null) {
      issues.unsupported(`${at(field, i)}.name ${show(e.name)} ${nameProblem}`);
      continue;
    }
    const valueProblem = checkHeaderValue(e.value);
    if (valueProblem !== null) {
      issues.unsupported(`${at(field, i)}.value ${show(e.value)} ${valueProblem}`);
      continue;
    }
    const name = e.name as string;
    if (names.has(name.toLowerCase())) {
      issues.unsupported(
        `${at(field, i)}.name ${show(name)}: a header may appear in only one action of a header filter`,
      );
      continue;
    }
    names.add(name.toLowerCase());
    out.push({ name, value: e.value as string });
  }
  return out;
}

function headerModifier(raw: unknown, field: string, issues: RuleIssues): HeaderModifier | undefined {
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const names = new Set<string>();
  const set = headerList(raw.set, `${field}.set`, issues, names);
  const add = headerList(raw.add, `${field}.add`, issues, names);
  const remove: string[] = [];
  for (const [i, name] of listAt(raw.remove).entries()) {
    const problem = checkHeaderName(name);
    if (problem !== null) issues.unsupported(`${at(field, 'remove', i)} ${show(name)} ${problem}`);
    else if (names.has((name as string).toLowerCase()))
      issues.unsupported(
        `${at(field, 'remove', i)} ${show(name)}: a header may appear in only one action of a header filter`,
      );
    else {
      names.add((name as string).toLowerCase());
      remove.push(name as string);
    }
  }
  return { set, add, remove };
}

function pathModifier(raw: unknown, field: string, issues: RuleIssues, scope: FilterScope): PathModifier | undefined {
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  if (raw.type === 'ReplaceFullPath') {
    const problem = checkPathValue(raw.replaceFullPath);
    if (problem !== null) return issues.unsupported(`${field}.replaceFullPath ${show(raw.replaceFullPath)} ${problem}`);
    return { type: 'ReplaceFullPath', value: raw.replaceFullPath as string };
  }
  if (raw.type === 'ReplacePrefixMatch') {
    // An empty replacement and "/" mean the same (Gateway API HTTPPathModifier table): the matched prefix is removed.
    const value = raw.replacePrefixMatch === '' ? '/' : raw.replacePrefixMatch;
    const problem = checkPathValue(value);
    if (problem !== null)
      return issues.unsupported(`${field}.replacePrefixMatch ${show(raw.replacePrefixMatch)} ${problem}`);
    if (scope.matches.some((m) => m.path.type !== 'PathPrefix')) {
      return issues.unsupported(`${field}: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match`);
    }
    return { type: 'ReplacePrefixMatch', value: value as string };
  }
  return issues.unsupported(`${field}.type ${show(raw.type)} is not supported (ReplaceFullPath, ReplacePrefixMatch)`);
}

function redirect(raw: unknown, field: string, issues: RuleIssues, scope: FilterScope): HttpFilter | undefined {
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const statusCode = raw.statusCode === undefined ? 302 : raw.statusCode;
  if (!(REDIRECT_STATUS_CODES as readonly unknown[]).includes(statusCode)) {
    return issues.unsupported(
      `${field}.statusCode ${show(statusCode)} is not supported (${REDIRECT_STATUS_CODES.join(', ')})`,
    );
  }
  if (
    statusCode !== 301 &&
    statusCode !== 302 &&
    !supported(scope, issues, `HTTPRoute${statusCode as number}RedirectStatusCode`, `${field}.statusCode ${statusCode}`)
  )
    return undefined;
  const filter: Extract<HttpFilter, { type: 'RequestRedirect' }> = {
    type: 'RequestRedirect',
    statusCode: statusCode as RedirectStatus,
  };
  if (raw.scheme !== undefined) {
    if (raw.scheme !== 'http' && raw.scheme !== 'https')
      return issues.unsupported(`${field}.scheme ${show(raw.scheme)} is not supported (http, https)`);
    if (!supported(scope, issues, 'HTTPRouteSchemeRedirect', `${field}.scheme`)) return undefined;
    filter.scheme = raw.scheme;
  }
  if (raw.hostname !== undefined) {
    const problem = checkHostname(raw.hostname, false);
    if (problem !== null) return issues.unsupported(`${field}.hostname ${show(raw.hostname)} ${problem}`);
    filter.hostname = raw.hostname as string;
  }
  if (raw.port !== undefined) {
    const problem = checkPort(raw.port);
    if (problem !== null) return issues.unsupported(`${field}.port ${show(raw.port)} ${problem}`);
    if (!supported(scope, issues, 'HTTPRoutePortRedirect', `${field}.port`)) return undefined;
    filter.port = raw.port as number;
  }
  if (raw.path !== undefined) {
    if (!supported(scope, issues, 'HTTPRoutePathRedirect', `${field}.path`)) return undefined;
    const path = pathModifier(raw.path, `${field}.path`, issues, scope);
    if (path === undefined) return undefined;
    filter.path = path;
  }
  return filter;
}

function rewrite(raw: unknown, field: string, issues: RuleIssues, scope: FilterScope): HttpFilter | undefined {
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const filter: Extract<HttpFilter, { type: 'URLRewrite' }> = { type: 'URLRewrite' };
  if (raw.hostname !== undefined) {
    const problem = checkHostname(raw.hostname, false);
    if (problem !== null) return issues.unsupported(`${field}.hostname ${show(raw.hostname)} ${problem}`);
    if (!supported(scope, issues, 'HTTPRouteHostRewrite', `${field}.hostname`)) return undefined;
    filter.hostname = raw.hostname as string;
  }
  if (raw.path !== undefined) {
    if (!supported(scope, issues, 'HTTPRoutePathRewrite', `${field}.path`)) return undefined;
    const path = pathModifier(raw.path, `${field}.path`, issues, scope);
    if (path === undefined) return undefined;
    filter.path = path;
  }
  return filter;
}

function mirror(raw: unknown, field: string, issues: RuleIssues, scope: FilterScope): HttpFilter | undefined {
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  let percent = 100;
  if (raw.percent !== undefined && raw.fraction !== undefined)
    return issues.unsupported(`${field}: only one of percent and fraction may be set`);
  if (raw.percent !== undefined) {
    const value = integerAt(raw.percent);
    if (value === undefined || value < 0 || value > 100)
      return issues.unsupported(`${field}.percent ${show(raw.percent)} must be an integer from 0 to 100`);
    percent = value;
  } else if (raw.fraction !== undefined) {
    const fraction = objectAt(raw.fraction);
    const numerator = integerAt(fraction.numerator);
    const denominator = fraction.denominator === undefined ? 100 : integerAt(fraction.denominator);
    if (
      numerator === undefined ||
      denominator === undefined ||
      numerator < 0 ||
      denominator <= 0 ||
      numerator > denominator
    ) {
      return issues.unsupported(
        `${field}.fraction ${show(raw.fraction)} must have 0 <= numerator <= denominator and denominator > 0`,
      );
    }
    percent = (numerator / denominator) * 100;
  }
  if (
    percent !== 100 &&
    !supported(scope, issues, 'HTTPRouteRequestPercentageMirror', `${field}: mirroring a share of requests`)
  )
    return undefined;
  const resolved = issues.resolved(
    resolveBackendRef(scope.context, raw.backendRef, `${field}.backendRef`, scope.route, scope.family),
  );
  // Gateway API: an unresolvable mirror backend is dropped (ResolvedRefs=False); the rule itself still works.
  if (resolved.key === null) return issues.ref(resolved.problem);
  return { type: 'RequestMirror', backendKey: resolved.key, percent };
}

function cors(raw: unknown, field: string, issues: RuleIssues): HttpFilter | undefined {
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const strings = (list: unknown, name: string, check: (v: unknown) => string | null): string[] | undefined => {
    if (list !== undefined && !Array.isArray(list))
      return issues.unsupported(`${field}.${name} must be a list; it is ${show(list)}`);
    for (const [i, v] of listAt(list).entries()) {
      const problem = check(v);
      if (problem !== null) return issues.unsupported(`${at(field, name, i)} ${show(v)} ${problem}`);
    }
    return listAt(list) as string[];
  };
  const wildcardOr = (check: (v: unknown) => string | null) => (v: unknown) => (v === '*' ? null : check(v));
  const allowOrigins = strings(raw.allowOrigins, 'allowOrigins', checkCorsOrigin);
  const allowMethods = strings(raw.allowMethods, 'allowMethods', wildcardOr(checkMethod));
  const allowHeaders = strings(raw.allowHeaders, 'allowHeaders', wildcardOr(checkHeaderName));
  const exposeHeaders = strings(raw.exposeHeaders, 'exposeHeaders', wildcardOr(checkHeaderName));
  const maxAge = raw.maxAge === undefined ? 5 : integerAt(raw.maxAge);
  if (maxAge === undefined || maxAge < 1)
    return issues.unsupported(`${field}.maxAge ${show(raw.maxAge)} must be a positive integer (seconds)`);
  const allowCredentials = raw.allowCredentials === undefined ? false : booleanAt(raw.allowCredentials);
  if (allowCredentials === undefined)
    return issues.unsupported(`${field}.allowCredentials ${show(raw.allowCredentials)} must be true or false`);
  if (!allowOrigins || !allowMethods || !allowHeaders || !exposeHeaders) return undefined;
  return {
    type: 'CORS',
    allowOrigins,
    allowMethods,
    allowHeaders,
    exposeHeaders,
    maxAgeSeconds: maxAge,
    allowCredentials,
  };
}

function externalAuth(
  raw: unknown,
  field: string,
  issues: RuleIssues,
  scope: FilterScope,
): HttpFilter | 'unrunnable' | undefined {
  if (scope.perBackend)
    return issues.unsupported(`${field}: ExternalAuth on a backendRef is not supported; set it on the rule's filters`);
  const config = readExternalAuth(raw, field);
  if (config.problem !== undefined) return issues.unsupported(config.problem);
  const resolved = issues.resolved(resolveAuthBackend(scope.context, raw, field, scope.route, config.auth.protocol));
  // GEP-1494: a filter that cannot reach its authorizer fails closed: the rule answers 500 (ResolvedRefs=False).
  if (resolved.key === null) {
    issues.ref(resolved.problem);
    return 'unrunnable';
  }
  return { type: 'ExternalAuth', ...config.auth, backendKey: resolved.key };
}

function buildFilter(
  raw: unknown,
  field: string,
  issues: RuleIssues,
  scope: FilterScope,
): HttpFilter | 'unrunnable' | undefined {
  const f = objectAt(raw);
  const type = f.type;
  if (scope.family === 'grpc' && !GRPC_FILTERS.has(type as string)) {
    return issues.unsupported(`${field}.type ${show(type)} is not supported for GRPCRoute`);
  }
  switch (type) {
    case 'RequestHeaderModifier': {
      if (
        scope.family === 'grpc' &&
        !supported(scope, issues, 'GRPCRouteRequestHeaderModifier', `${field}: request header modification`)
      )
        return undefined;
      if (
        scope.perBackend &&
        !supported(
          scope,
          issues,
          'HTTPRouteBackendRequestHeaderModification',
          `${field}: header modification per backend`,
        )
      )
        return undefined;
      const m = headerModifier(f.requestHeaderModifier, `${field}.requestHeaderModifier`, issues);
      return m && { type, ...m };
    }
    case 'ResponseHeaderModifier': {
      if (!supported(scope, issues, 'HTTPRouteResponseHeaderModification', `${field}: response header modification`))
        return undefined;
      const m = headerModifier(f.responseHeaderModifier, `${field}.responseHeaderModifier`, issues);
      return m && { type, ...m };
    }
    case 'RequestRedirect':
      return redirect(f.requestRedirect, `${field}.requestRedirect`, issues, scope);
    case 'URLRewrite':
      // On a backendRef it takes the place of the rule's URLRewrite for the requests sent to that backend.
      if (
        scope.perBackend &&
        !supported(scope, issues, 'HTTPRouteBackendURLRewrite', `${field}: URL rewrite per backend`)
      )
        return undefined;
      return rewrite(f.urlRewrite, `${field}.urlRewrite`, issues, scope);
    case 'RequestMirror':
      if (!supported(scope, issues, 'HTTPRouteRequestMirror', `${field}: request mirroring`)) return undefined;
      return mirror(f.requestMirror, `${field}.requestMirror`, issues, scope);
    case 'CORS':
      if (!supported(scope, issues, 'HTTPRouteCORS', `${field}: CORS`)) return undefined;
      return cors(f.cors, `${field}.cors`, issues);
    case 'ExternalAuth':
      return externalAuth(f.externalAuth, `${field}.externalAuth`, issues, scope);
    case 'ExtensionRef': {
      const ref = objectAt(f.extensionRef);
      issues.ref(
        routeInvalidKind(
          `${field}.extensionRef ${show(ref.group)}/${show(ref.kind)} ${show(ref.name)} cannot be resolved: no extension filters are supported, so requests it would handle answer 500`,
        ),
      );
      return 'unrunnable';
    }
    default:
      return issues.unsupported(`${field}.type ${show(type)} is not a supported filter`);
  }
}

export function buildHttpFilters(raw: unknown, field: string, issues: RuleIssues, scope: FilterScope): BuiltFilters {
  if (raw !== undefined && !Array.isArray(raw)) {
    issues.unsupported(`${field} must be a list; it is ${show(raw)}`);
    return { filters: [], failClosed: false };
  }
  const filters: HttpFilter[] = [];
  const seen = new Set<string>();
  let failClosed = false;
  let mirrors = 0;
  for (const [i, entry] of listAt(raw).entries()) {
    const where = at(field, i);
    const type = objectAt(entry).type;
    if (typeof type === 'string' && SINGLETONS.has(type)) {
      if (seen.has(type)) {
        issues.unsupported(`${where}: a ${type} filter may appear only once`);
        continue;
      }
      seen.add(type);
    }
    if (type === 'RequestMirror' && ++mirrors === 2)
      supported(scope, issues, 'HTTPRouteRequestMultipleMirrors', `${where}: a second RequestMirror`);
    const filter = buildFilter(entry, where, issues, scope);
    // 'unrunnable': a filter that must not be skipped and cannot run (ExtensionRef, an unresolved authorizer).
    if (filter === 'unrunnable') failClosed = true;
    else if (filter !== undefined) filters.push(filter);
  }
  if (seen.has('RequestRedirect') && seen.has('URLRewrite'))
    issues.incompatible(`${field}: RequestRedirect and URLRewrite cannot be used together`);
  return { filters, failClosed };
}
