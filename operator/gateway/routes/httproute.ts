// HTTPRoute (and GRPCRoute, which differs only in its matches and in what it may use) → IR HttpRule records.
// Each rule is built on its own: a rule that cannot be implemented is dropped and named in the status, the other
// rules keep working (Gateway API "PartiallyInvalid", approach 1: Dropped Rule). A reference that does not resolve
// keeps the rule and puts 500 in its place. Attachment to listeners is attach.ts's job, done afterwards.

import type { HttpFilter, HttpRule, RetryPolicy, WeightedBackend } from '../../../shared/ir/route.ts';
import { checkHostname, parseGatewayDuration } from '../../../shared/validation/fields.ts';
import { resolveBackendRef } from '../backends/backend.ts';
import type { BackendFamily, BackendSpec } from '../backends/backend.ts';
import type { ConditionDraft } from '../conditions.ts';
import type { TranslateContext } from '../context.ts';
import { buildGrpcMatches } from './grpcroute.ts';
import { buildHttpFilters } from './httpfilter.ts';
import type { FilterScope } from './httpfilter.ts';
import { buildHttpMatches } from './httpmatch.ts';
import { at, integerAt, isObject, listAt, objectAt, show, stringAt } from '../read.ts';
import { namespaceOf, nameOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import { newRuleIssues } from './rule-issues.ts';
import { buildSessionPersistence } from '../sessionpersistence.ts';
import type { RuleIssues, RuleProblem } from './rule-issues.ts';

export interface HttpRouteNode {
  kind: 'HTTPRoute' | 'GRPCRoute';
  source: KubeObject;
  namespace: string;
  name: string;
  /** Validated `spec.hostnames`. */
  hostnames: string[];
  /** The route as a whole cannot be used (e.g. a malformed hostname): no rule is served. */
  rejection?: RuleProblem;
  /** Rules that can be served, in spec order. */
  rules: HttpRule[];
  /** Rules dropped, with why: `rules[1]: ...`. */
  dropped: RuleProblem[];
  /** ResolvedRefs=False problems of all rules. */
  refProblems: ConditionDraft[];
  /** Service ports (`<namespace>/<service>/<port name>`) its backends reach that a BackendTLSPolicy targets. */
  backendTlsPorts: string[];
  /** The backends its references resolved to, by key (rules dropped or not). */
  resolvedBackends: Map<string, BackendSpec>;
}

/** Default retry settings where `retry` leaves them out (implementation-specific in Gateway API). */
const DEFAULT_RETRY_ATTEMPTS = 1;
const DEFAULT_RETRY_BACKOFF_MS = 25;

function duration(raw: unknown, field: string, issues: RuleIssues): number | undefined {
  const parsed = parseGatewayDuration(raw);
  if ('reason' in parsed) return issues.unsupported(`${field} ${show(raw)}: ${parsed.reason}`);
  return parsed.ms;
}

function buildTimeouts(
  raw: unknown,
  field: string,
  issues: RuleIssues,
  features: ReadonlySet<string>,
): HttpRule['timeouts'] {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const timeouts: NonNullable<HttpRule['timeouts']> = {};
  if (raw.request !== undefined) {
    if (!features.has('HTTPRouteRequestTimeout'))
      return issues.unsupported(`${field}.request is not supported by this installation`);
    const ms = duration(raw.request, `${field}.request`, issues);
    if (ms !== undefined) timeouts.requestMs = ms;
  }
  if (raw.backendRequest !== undefined) {
    if (!features.has('HTTPRouteBackendTimeout'))
      return issues.unsupported(`${field}.backendRequest is not supported by this installation`);
    const ms = duration(raw.backendRequest, `${field}.backendRequest`, issues);
    if (ms !== undefined) timeouts.backendRequestMs = ms;
  }
  const { requestMs, backendRequestMs } = timeouts;
  if (requestMs && backendRequestMs !== undefined && backendRequestMs > requestMs) {
    return issues.unsupported(
      `${field}.backendRequest ${show(raw.backendRequest)} must not be longer than request ${show(raw.request)}`,
    );
  }
  return Object.keys(timeouts).length === 0 ? undefined : timeouts;
}

function buildRetry(
  raw: unknown,
  field: string,
  issues: RuleIssues,
  features: ReadonlySet<string>,
): RetryPolicy | undefined {
  if (raw === undefined) return undefined;
  // v1.7 calls it HTTPRouteRetryCodes, v1.6 HTTPRouteRetry (shared/features.ts: the names follow the installed CRDs).
  if (!features.has('HTTPRouteRetryCodes') && !features.has('HTTPRouteRetry'))
    return issues.unsupported(`${field} is not supported by this installation`);
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const codes: number[] = [];
  for (const [i, code] of listAt(raw.codes).entries()) {
    const n = integerAt(code);
    if (n === undefined || n < 400 || n > 599)
      return issues.unsupported(`${at(field, 'codes', i)} ${show(code)} must be a status code from 400 to 599`);
    if (!codes.includes(n)) codes.push(n);
  }
  const attempts = raw.attempts === undefined ? DEFAULT_RETRY_ATTEMPTS : integerAt(raw.attempts);
  if (attempts === undefined || attempts < 0 || attempts > 100)
    return issues.unsupported(`${field}.attempts ${show(raw.attempts)} must be an integer from 0 to 100`);
  const backoffMs =
    raw.backoff === undefined ? DEFAULT_RETRY_BACKOFF_MS : duration(raw.backoff, `${field}.backoff`, issues);
  if (backoffMs === undefined) return undefined;
  return {
    attempts,
    codes,
    backoffMs,
    onConnectionError: features.has('HTTPRouteRetryConnectionError'),
    // v1.6 semantics only: v1.7 retries only what the backend did not process, and a timed-out request may have been.
    onBackendTimeout: features.has('HTTPRouteRetryBackendTimeout'),
  };
}

function buildBackends(raw: unknown, field: string, issues: RuleIssues, scope: FilterScope): WeightedBackend[] {
  if (raw !== undefined && !Array.isArray(raw))
    return issues.unsupported(`${field} must be a list; it is ${show(raw)}`) ?? [];
  const backends: WeightedBackend[] = [];
  for (const [i, entry] of listAt(raw).entries()) {
    const where = at(field, i);
    const ref = objectAt(entry);
    const weight = ref.weight === undefined ? 1 : integerAt(ref.weight);
    if (weight === undefined || weight < 0 || weight > 1_000_000) {
      issues.unsupported(`${where}.weight ${show(ref.weight)} must be an integer from 0 to 1000000`);
      continue;
    }
    const { filters, failClosed } = buildHttpFilters(ref.filters, `${where}.filters`, issues, {
      ...scope,
      perBackend: true,
    });
    const resolved = issues.resolved(resolveBackendRef(scope.context, entry, where, scope.route, scope.family));
    if (resolved.key === null) issues.ref(resolved.problem);
    // A backend whose filters cannot run must not get traffic unfiltered: its share answers 500.
    backends.push({ backendKey: failClosed ? null : resolved.key, weight, filters });
  }
  return backends;
}

/**
 * A backendRef's URLRewrite replaces the rule's for requests sent to that backend, field by field: what the backend's
 * filter leaves out (the hostname, the path) still comes from the rule's, so the data plane needs to read only one.
 */
function inheritRuleRewrite(rule: HttpFilter[], backends: WeightedBackend[]): void {
  type Rewrite = Extract<HttpFilter, { type: 'URLRewrite' }>;
  const ruleRewrite = rule.find((f): f is Rewrite => f.type === 'URLRewrite');
  if (ruleRewrite === undefined) return;
  for (const backend of backends) {
    const at = backend.filters.findIndex((f) => f.type === 'URLRewrite');
    const own = backend.filters[at];
    if (own?.type !== 'URLRewrite') continue;
    const merged: Rewrite = { type: 'URLRewrite' };
    const hostname = own.hostname ?? ruleRewrite.hostname;
    const path = own.path ?? ruleRewrite.path;
    if (hostname !== undefined) merged.hostname = hostname;
    if (path !== undefined) merged.path = path;
    backend.filters[at] = merged;
  }
}

function buildRule(
  context: TranslateContext,
  node: HttpRouteNode,
  raw: unknown,
  index: number,
): { rule?: HttpRule; issues: RuleIssues } {
  const field = `spec.rules[${index}]`;
  const issues = newRuleIssues();
  const features = context.options.supportedFeatures;
  if (!isObject(raw)) {
    issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
    return { issues };
  }
  const family: BackendFamily = node.kind === 'GRPCRoute' ? 'grpc' : 'http';
  const matches =
    node.kind === 'GRPCRoute'
      ? buildGrpcMatches(raw.matches, `${field}.matches`, issues)
      : buildHttpMatches(raw.matches, `${field}.matches`, issues, features);
  const scope: FilterScope = {
    context,
    route: { kind: node.kind, namespace: node.namespace },
    family,
    matches,
    perBackend: false,
  };
  const { filters, failClosed } = buildHttpFilters(raw.filters, `${field}.filters`, issues, scope);
  const backends = buildBackends(raw.backendRefs, `${field}.backendRefs`, issues, scope);
  inheritRuleRewrite(filters, backends);
  const rule: HttpRule = { index, matches, filters, backends };
  if (raw.name !== undefined) {
    const name = stringAt(raw.name);
    if (!name) issues.unsupported(`${field}.name ${show(raw.name)} must be a non-empty string`);
    else rule.name = name;
  }
  if (node.kind === 'HTTPRoute') {
    const timeouts = buildTimeouts(raw.timeouts, `${field}.timeouts`, issues, features);
    if (timeouts !== undefined) rule.timeouts = timeouts;
    const retry = buildRetry(raw.retry, `${field}.retry`, issues, features);
    if (retry !== undefined) rule.retry = retry;
  }
  // GEP-1619: a setting that cannot be served drops the rule (UnsupportedValue) rather than serving it unpinned.
  if (raw.sessionPersistence !== undefined) {
    const owner = `${node.kind}/${node.namespace}/${node.name}/${index}`;
    const built = buildSessionPersistence(raw.sessionPersistence, `${field}.sessionPersistence`, owner);
    if ('problem' in built) issues.unsupported(built.problem);
    else rule.sessionPersistence = built.record;
  }
  const redirects = filters.some((f) => f.type === 'RequestRedirect');
  if (failClosed || (backends.length === 0 && !redirects)) rule.directResponse = { status: 500 };
  return issues.invalid.length === 0 ? { rule, issues } : { issues };
}

function applyRouteHostnames(node: HttpRouteNode, raw: unknown): void {
  if (raw !== undefined && !Array.isArray(raw)) {
    node.rejection = { reason: 'UnsupportedValue', message: `spec.hostnames must be a list; it is ${show(raw)}` };
    return;
  }
  for (const [i, hostname] of listAt(raw).entries()) {
    const problem = checkHostname(hostname);
    if (problem !== null) {
      // Dropping the bad name would widen the route to every host of the listener; refuse the route instead.
      node.rejection ??= { reason: 'UnsupportedValue', message: `spec.hostnames[${i}] ${show(hostname)} ${problem}` };
    } else if (!node.hostnames.includes(hostname as string)) node.hostnames.push(hostname as string);
  }
}

export function buildHttpRouteNode(
  context: TranslateContext,
  route: KubeObject,
  kind: 'HTTPRoute' | 'GRPCRoute',
): HttpRouteNode {
  const spec = objectAt(route.spec);
  const node: HttpRouteNode = {
    kind,
    source: route,
    namespace: namespaceOf(route),
    name: nameOf(route),
    hostnames: [],
    rules: [],
    dropped: [],
    refProblems: [],
    backendTlsPorts: [],
    resolvedBackends: new Map(),
  };
  const tlsPorts = new Set<string>();
  applyRouteHostnames(node, spec.hostnames);
  // The CRD defaults an absent rule list to one rule matching everything (which, with no backend, answers 500).
  const rules = spec.rules === undefined ? [{}] : spec.rules;
  if (!Array.isArray(rules)) {
    node.rejection ??= { reason: 'UnsupportedValue', message: `spec.rules must be a list; it is ${show(rules)}` };
    return node;
  }
  for (const [index, raw] of rules.entries()) {
    const { rule, issues } = buildRule(context, node, raw, index);
    node.refProblems.push(...issues.refs);
    for (const [key, spec] of issues.backends)
      if (!node.resolvedBackends.has(key)) node.resolvedBackends.set(key, spec);
    for (const port of issues.tlsPorts) tlsPorts.add(port);
    if (rule !== undefined) node.rules.push(rule);
    else {
      const reason = issues.invalid.some((p) => p.reason === 'IncompatibleFilters')
        ? 'IncompatibleFilters'
        : 'UnsupportedValue';
      node.dropped.push({ reason, message: issues.invalid.map((p) => p.message).join('; ') });
    }
  }
  node.backendTlsPorts = [...tlsPorts].sort();
  if (node.rules.length === 0 && node.rejection === undefined) {
    const reason = node.dropped.some((p) => p.reason === 'IncompatibleFilters')
      ? 'IncompatibleFilters'
      : 'UnsupportedValue';
    node.rejection = { reason, message: node.dropped.map((p) => p.message).join(' | ') || 'spec.rules has no rule' };
  }
  return node;
}
