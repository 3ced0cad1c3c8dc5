// TCPRoute, UDPRoute and TLSRoute → IR StreamRoute: one weighted set of backends per route (Gateway API v1 allows
// one rule for these kinds; further rules of an older version are dropped and named). TLSRoute hostnames are SNI
// names, intersected with the listener's by attach.ts like HTTP hostnames.

import type { WeightedBackend } from '../../../shared/ir/route.ts';
import { checkHostname } from '../../../shared/validation/fields.ts';
import { resolveBackendRef } from '../backends/backend.ts';
import type { BackendSpec } from '../backends/backend.ts';
import type { ConditionDraft } from '../conditions.ts';
import type { TranslateContext } from '../context.ts';
import { at, integerAt, isObject, listAt, objectAt, show } from '../read.ts';
import { namespaceOf, nameOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import type { RuleProblem } from './rule-issues.ts';

export type StreamRouteKind = 'TCPRoute' | 'UDPRoute' | 'TLSRoute';

export interface StreamRouteNode {
  kind: StreamRouteKind;
  source: KubeObject;
  namespace: string;
  name: string;
  /** TLSRoute only: validated `spec.hostnames` (SNI names). */
  hostnames: string[];
  rejection?: RuleProblem;
  dropped: RuleProblem[];
  backends: WeightedBackend[];
  refProblems: ConditionDraft[];
  /** The backends its references resolved to, by key. */
  resolvedBackends: Map<string, BackendSpec>;
}

function applyHostnames(node: StreamRouteNode, raw: unknown): void {
  if (raw !== undefined && !Array.isArray(raw)) {
    node.rejection = { reason: 'UnsupportedValue', message: `spec.hostnames must be a list; it is ${show(raw)}` };
    return;
  }
  for (const [i, hostname] of listAt(raw).entries()) {
    const problem = checkHostname(hostname);
    if (problem !== null)
      node.rejection ??= { reason: 'UnsupportedValue', message: `spec.hostnames[${i}] ${show(hostname)} ${problem}` };
    else if (!node.hostnames.includes(hostname as string)) node.hostnames.push(hostname as string);
  }
}

function applyBackends(context: TranslateContext, node: StreamRouteNode, rule: Record<string, unknown>): void {
  const field = 'spec.rules[0].backendRefs';
  if (rule.backendRefs !== undefined && !Array.isArray(rule.backendRefs)) {
    node.rejection ??= {
      reason: 'UnsupportedValue',
      message: `${field} must be a list; it is ${show(rule.backendRefs)}`,
    };
    return;
  }
  const family = node.kind === 'UDPRoute' ? 'udp' : 'tcp';
  for (const [i, entry] of listAt(rule.backendRefs).entries()) {
    const where = at(field, i);
    const ref = objectAt(entry);
    const weight = ref.weight === undefined ? 1 : integerAt(ref.weight);
    if (weight === undefined || weight < 0 || weight > 1_000_000) {
      node.rejection ??= {
        reason: 'UnsupportedValue',
        message: `${where}.weight ${show(ref.weight)} must be an integer from 0 to 1000000`,
      };
      continue;
    }
    const resolved = resolveBackendRef(context, entry, where, { kind: node.kind, namespace: node.namespace }, family);
    if (resolved.key === null) node.refProblems.push(resolved.problem);
    else if (!node.resolvedBackends.has(resolved.key)) node.resolvedBackends.set(resolved.key, resolved.spec);
    node.backends.push({ backendKey: resolved.key, weight, filters: [] });
  }
}

export function buildStreamRouteNode(
  context: TranslateContext,
  route: KubeObject,
  kind: StreamRouteKind,
): StreamRouteNode {
  const spec = objectAt(route.spec);
  const node: StreamRouteNode = {
    kind,
    source: route,
    namespace: namespaceOf(route),
    name: nameOf(route),
    hostnames: [],
    dropped: [],
    backends: [],
    refProblems: [],
    resolvedBackends: new Map(),
  };
  if (kind === 'TLSRoute') applyHostnames(node, spec.hostnames);
  const rules = spec.rules;
  if (!Array.isArray(rules) || rules.length === 0 || !isObject(rules[0])) {
    node.rejection ??= {
      reason: 'UnsupportedValue',
      message: `spec.rules must be a list of one rule; it is ${show(rules)}`,
    };
    return node;
  }
  applyBackends(context, node, rules[0]);
  for (let i = 1; i < rules.length; i++) {
    node.dropped.push({
      reason: 'UnsupportedValue',
      message: `spec.rules[${i}]: a ${kind} has one rule; later rules are not used`,
    });
  }
  return node;
}
