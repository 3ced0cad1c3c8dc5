// BackendTLSPolicy status: one `status.ancestors[]` entry per Gateway of ours from which an accepted HTTPRoute or
// GRPCRoute reaches a Service port the policy targets (the Gateway is what opens the TLS connection, so it is the
// ancestor Gateway API's policy model asks for), each with the policy's Accepted and ResolvedRefs conditions. A policy
// that no route of ours reaches gets no status from us, as a route that names none of our Gateways gets none.
//
// The verdict is the policy's own, the same for every ancestor: Accepted=False Conflicted when an older policy
// targets the same Service port; Invalid or NoValidCACertificate when it cannot be applied; ResolvedRefs=False
// (InvalidCACertificateRef, InvalidKind) for each unusable CA reference. The ancestors need the routes' attachments
// (a pass after the routes); the session keeps them per Service (`TlsPortUses`) and builds the statuses of one
// namespace's policies at a time.

import { serviceTargets } from './backendtlspolicy.ts';
import type { CheckedPolicy } from '../context.ts';
import {
  policyAccepted,
  policyConflicted,
  policyInvalid,
  policyInvalidCACertificateRef,
  policyInvalidKind,
  policyNoValidCACertificate,
  policyResolvedRefs,
  stampConditions,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import { namespacedKey, parseNamespacedKey } from '../keys.ts';
import { stringAt } from '../read.ts';
import { GATEWAY_GROUP } from '../referencegrant.ts';
import { generationOf, nameOf, namespaceOf } from '../resources.ts';
import type { BackendTLSPolicy } from '../resources.ts';
import { MAX_POLICY_ANCESTORS } from '../status.ts';
import type { ObjectStatus, PolicyAncestorStatus } from '../status.ts';

export type PolicyObjectStatus = Extract<ObjectStatus, { kind: 'BackendTLSPolicy' }>;

/** Which Gateways reach which Service ports with TLS: `<namespace>/<service>` → port name → Gateway keys (a set, or a map with counts). */
export type TlsPortUses = ReadonlyMap<string, ReadonlyMap<string, { keys(): Iterable<string> }>>;

function ancestorsOf(policy: BackendTLSPolicy, uses: TlsPortUses): string[] {
  const gateways = new Set<string>();
  const namespace = namespaceOf(policy);
  for (const { service, sectionName } of serviceTargets(policy)) {
    const byPort = uses.get(namespacedKey(namespace, service));
    if (byPort === undefined) continue;
    for (const [port, keys] of byPort)
      if (sectionName === undefined || sectionName === port) for (const key of keys.keys()) gateways.add(key);
  }
  return [...gateways].sort();
}

/** The policy's Accepted and ResolvedRefs conditions, the same for every ancestor. */
function policyConditions({ check, conflict }: CheckedPolicy): ConditionDraft[] {
  let accepted: ConditionDraft;
  if (conflict !== undefined) accepted = policyConflicted(conflict);
  else if (check.rejection?.reason === 'Invalid') accepted = policyInvalid(check.rejection.message);
  else if (check.rejection?.reason === 'NoValidCACertificate')
    accepted = policyNoValidCACertificate(check.rejection.message);
  else accepted = policyAccepted();
  const first = check.refProblems[0];
  const message = check.refProblems.map((p) => p.message).join('; ');
  const resolved =
    first === undefined
      ? policyResolvedRefs()
      : first.reason === 'InvalidKind'
        ? policyInvalidKind(message)
        : policyInvalidCACertificateRef(message);
  return [accepted, resolved];
}

/**
 * The statuses of one namespace's checked policies, for those that some Gateway of ours reaches; at most 16 ancestors
 * each, the first by namespace/name.
 */
export function backendTlsPolicyStatuses(
  policies: readonly CheckedPolicy[],
  uses: TlsPortUses,
  controllerName: string,
  now: string,
): PolicyObjectStatus[] {
  const out: PolicyObjectStatus[] = [];
  for (const checked of policies) {
    const { policy } = checked;
    const ancestors = ancestorsOf(policy, uses).slice(0, MAX_POLICY_ANCESTORS);
    if (ancestors.length === 0) continue;
    const generation = generationOf(policy);
    const conditions = stampConditions(policyConditions(checked), generation, now);
    const entries: PolicyAncestorStatus[] = ancestors.map((key) => {
      const { namespace, name } = parseNamespacedKey(key);
      return {
        ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name },
        controllerName,
        conditions,
      };
    });
    out.push({
      kind: 'BackendTLSPolicy',
      apiVersion: stringAt(policy.apiVersion) ?? 'gateway.networking.k8s.io/v1',
      namespace: namespaceOf(policy),
      name: nameOf(policy),
      generation,
      status: { ancestors: entries },
    });
  }
  return out;
}
