// XBackendTrafficPolicy → which policy takes which Service, and `status.ancestors` (GEP-713). The verdict is the
// policy's own, the same for every ancestor (as BackendTLSPolicy's):
//  - Accepted=False Invalid: the spec cannot be applied (policies/backendtrafficpolicy.ts); it takes nothing, so the
//    next policy in line applies (keep what works);
//  - Accepted=False TargetNotFound: none of the Services it targets exists;
//  - Accepted=False Conflicted: every Service it targets that exists was taken by an older policy (then first by
//    namespace/name; one policy per Service, as GEP-713 asks of a Direct policy);
//  - Accepted=True otherwise: it takes the Services not taken yet.
// The ancestors are the Gateways of ours from which an accepted route names a target Service in a backendRef,
// resolved or not (the Gateway is what applies the policy); a policy no route of ours reaches gets no status from us.
// Runs every translation on all policies, when there are any: they are few.

import type { SessionPersistence } from '../../../shared/ir/route.ts';
import {
  policyAccepted,
  policyConflicted,
  policyInvalid,
  policyTargetNotFound,
  stampConditions,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import type { TranslateContext } from '../context.ts';
import { namespacedKey, parseNamespacedKey } from '../keys.ts';
import { stringAt } from '../read.ts';
import { GATEWAY_GROUP } from '../referencegrant.ts';
import { comparePrecedence, generationOf, nameOf, namespaceOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import { MAX_POLICY_ANCESTORS } from '../status.ts';
import type { ObjectStatus, PolicyAncestorStatus } from '../status.ts';
import { TRAFFIC_KIND, checkTrafficPolicy } from './backendtrafficpolicy.ts';

export type TrafficPolicyStatus = Extract<ObjectStatus, { kind: 'XBackendTrafficPolicy' }>;

export interface TrafficOutcome {
  /** Service (`namespace/name`) → the session record of the policy that took it (absent: none, or it sets none). */
  sessions: Map<string, SessionPersistence>;
  statuses: TrafficPolicyStatus[];
}

export interface TrafficInputs {
  context: TranslateContext;
  /** Every XBackendTrafficPolicy (any order). */
  policies: readonly KubeObject[];
  /** Service (`namespace/name`) → keys of our Gateways whose accepted routes name it. */
  gatewaysByService: ReadonlyMap<string, ReadonlySet<string>>;
  controllerName: string;
  now: string;
}

export function applyTrafficPolicies(inputs: TrafficInputs): TrafficOutcome {
  const sessions = new Map<string, SessionPersistence>();
  const owners = new Map<string, string>();
  const statuses: TrafficPolicyStatus[] = [];
  for (const policy of [...inputs.policies].sort(comparePrecedence)) {
    const namespace = namespaceOf(policy);
    const self = `${TRAFFIC_KIND} ${namespace}/${nameOf(policy)}`;
    const check = checkTrafficPolicy(policy);
    const targets = check.services.map((name) => namespacedKey(namespace, name));
    const existing = targets.filter((key) => inputs.context.services.has(key));
    let verdict: ConditionDraft;
    if (check.invalid !== undefined) verdict = policyInvalid(check.invalid);
    else if (existing.length === 0)
      verdict = policyTargetNotFound(
        targets.length === 0 ? 'spec.targetRefs names no Service' : `Service ${targets.join(', ')} does not exist`,
      );
    else {
      const free = existing.filter((key) => owners.get(key) === undefined);
      if (free.length === 0) {
        const by = [...new Set(existing.map((key) => owners.get(key)))].join(', ');
        verdict = policyConflicted(`${by} targets the same Service and takes precedence (older, or first by name)`);
      } else {
        for (const key of free) {
          owners.set(key, self);
          if (check.session !== undefined) sessions.set(key, check.session);
        }
        verdict = policyAccepted();
      }
    }
    const gateways = new Set<string>();
    for (const key of targets) for (const g of inputs.gatewaysByService.get(key) ?? []) gateways.add(g);
    if (gateways.size === 0) continue;
    const generation = generationOf(policy);
    const conditions = stampConditions([verdict], generation, inputs.now);
    const ancestors: PolicyAncestorStatus[] = [...gateways]
      .sort()
      .slice(0, MAX_POLICY_ANCESTORS)
      .map((key) => ({
        ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', ...parseNamespacedKey(key) },
        controllerName: inputs.controllerName,
        conditions,
      }));
    statuses.push({
      kind: 'XBackendTrafficPolicy',
      apiVersion: stringAt(policy.apiVersion) ?? 'gateway.networking.x-k8s.io/v1alpha1',
      namespace,
      name: nameOf(policy),
      generation,
      status: { ancestors },
    });
  }
  return { sessions, statuses };
}
