// Route status: one `status.parents[]` entry per parentRef that names one of our Gateways, with the conditions
// Gateway API defines (Accepted, ResolvedRefs, PartiallyInvalid). The Accepted reason of a parent comes from
// attachment (attach.ts) first: a route that does not reach a listener is not accepted there whatever its rules.
// Only when it does reach one do the rules decide (no rule left → UnsupportedValue or IncompatibleFilters).

import type { ParentResult } from './attach.ts';
import {
  routeIncompatibleFilters,
  routePartiallyInvalid,
  routeResolvedRefs,
  routeUnsupportedValue,
  stampConditions,
} from '../conditions.ts';
import type { BackendSpec } from '../backends/backend.ts';
import type { ConditionDraft } from '../conditions.ts';
import { stringAt } from '../read.ts';
import { generationOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import type { RuleProblem } from './rule-issues.ts';
import type { ObjectStatus, RouteParentStatus } from '../status.ts';

/** What every route node carries, whatever its kind. */
export interface RouteNodeCommon {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  source: KubeObject;
  namespace: string;
  name: string;
  rejection?: RuleProblem;
  dropped: RuleProblem[];
  refProblems: ConditionDraft[];
  /** HTTP kinds: Service ports its backends reach that a BackendTLSPolicy targets (the policies' ancestors). */
  backendTlsPorts?: readonly string[];
  /** The backends its references resolved to, by key (rules dropped or not). */
  resolvedBackends: Map<string, BackendSpec>;
}

/** The Accepted condition of one parent, once attachment and the rules are both known. */
export function parentAccepted(route: RouteNodeCommon, parent: ParentResult): ConditionDraft {
  if (parent.accepted.status !== 'True' || route.rejection === undefined) return parent.accepted;
  const { reason, message } = route.rejection;
  return reason === 'IncompatibleFilters' ? routeIncompatibleFilters(message) : routeUnsupportedValue(message);
}

function resolvedRefs(route: RouteNodeCommon): ConditionDraft {
  const first = route.refProblems[0];
  if (first === undefined) return routeResolvedRefs();
  return { ...first, message: route.refProblems.map((p) => p.message).join('; ') };
}

export function routeStatus(
  route: RouteNodeCommon,
  parents: readonly ParentResult[],
  controllerName: string,
  now: string,
): ObjectStatus {
  const generation = generationOf(route.source);
  const entries: RouteParentStatus[] = parents.map((parent) => {
    const accepted = parentAccepted(route, parent);
    const drafts = [accepted, resolvedRefs(route)];
    if (accepted.status === 'True' && route.dropped.length > 0)
      drafts.push(routePartiallyInvalid(route.dropped.map((d) => d.message).join(' | ')));
    return { parentRef: parent.parentRef, controllerName, conditions: stampConditions(drafts, generation, now) };
  });
  return {
    kind: route.kind,
    apiVersion: stringAt(route.source.apiVersion) ?? 'gateway.networking.k8s.io/v1',
    namespace: route.namespace,
    name: route.name,
    generation,
    status: { parents: entries },
  };
}

/** The Gateways (keys) where a route is accepted: those its BackendTLSPolicy ports are reached from. */
function acceptedGateways(route: RouteNodeCommon, parents: readonly ParentResult[]): string[] {
  const keys = new Set<string>();
  for (const parent of parents) if (parentAccepted(route, parent).status === 'True') keys.add(parent.gateway.key);
  return [...keys];
}

/** A route's contribution to the uses: (Service port, Gateway) pairs. */
export function tlsPortPairs(route: RouteNodeCommon, parents: readonly ParentResult[]): Array<[string, string]> {
  const ports = route.backendTlsPorts ?? [];
  if (ports.length === 0) return [];
  const gateways = acceptedGateways(route, parents);
  return ports.flatMap((port) => gateways.map((gateway): [string, string] => [port, gateway]));
}
