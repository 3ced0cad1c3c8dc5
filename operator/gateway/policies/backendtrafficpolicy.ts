// XBackendTrafficPolicy (gateway.networking.x-k8s.io/v1alpha1, GEP-1619 and GEP-3388) → checks one policy's spec on
// its own: its targets (core Services only), `sessionPersistence` (the same builder as a route rule's, so the same
// IR record), `retryConstraint` (refused: see below). Which policy takes which Service, and the statuses, are in
// backendtrafficpolicy-status.ts. Reads nothing but the policy; never throws.
//
// `retryConstraint` (a retry budget) is refused with Accepted=False Invalid rather than accepted and not enforced:
// a budget is a limit on retries, and a limit silently dropped lets a retry storm through that the owner of the
// Service asked to stop. The policy's session persistence is then not applied either (the policy as a whole is not).

import type { SessionPersistence } from '../../../shared/ir/route.ts';
import { at, listAt, nonEmptyString, objectAt, show, stringAt } from '../read.ts';
import { namespacedKey } from '../keys.ts';
import { nameOf, namespaceOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import { buildSessionPersistence } from '../sessionpersistence.ts';

export const TRAFFIC_KIND = 'XBackendTrafficPolicy';

/** What one policy says, checked. */
export interface TrafficCheck {
  /** The Services (names, in the policy's namespace) of `spec.targetRefs`, without repeats. */
  services: string[];
  /** The session-persistence record for the targets' backends; undefined: the policy sets none. */
  session?: SessionPersistence;
  /** Accepted=False Invalid: the policy cannot be applied (and takes no Service). */
  invalid?: string;
}

/** The Services (`namespace/name`) a route's rules name in `backendRefs` (core Services; resolved or not). */
export function serviceRefsOf(route: KubeObject): Set<string> {
  const out = new Set<string>();
  for (const rule of listAt(objectAt(route.spec).rules))
    for (const entry of listAt(objectAt(rule).backendRefs)) {
      const ref = objectAt(entry);
      const name = nonEmptyString(ref.name);
      if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service' || name === undefined) continue;
      out.add(namespacedKey(nonEmptyString(ref.namespace) ?? namespaceOf(route), name));
    }
  return out;
}

export function checkTrafficPolicy(policy: KubeObject): TrafficCheck {
  const spec = objectAt(policy.spec);
  const check: TrafficCheck = { services: [] };
  const problems: string[] = [];
  for (const [i, entry] of listAt(spec.targetRefs).entries()) {
    const ref = objectAt(entry);
    const group = stringAt(ref.group) ?? '';
    const kind = stringAt(ref.kind) ?? '';
    const name = nonEmptyString(ref.name);
    if (group !== '' || kind !== 'Service') {
      problems.push(
        `${at('spec.targetRefs', i)} refers to ${show(group)}/${show(kind)}: ${TRAFFIC_KIND} applies to Services only`,
      );
      continue;
    }
    if (name === undefined) problems.push(`${at('spec.targetRefs', i)}.name must be a non-empty string`);
    else if (!check.services.includes(name)) check.services.push(name);
  }
  if (spec.sessionPersistence !== undefined) {
    const owner = `${TRAFFIC_KIND}/${namespaceOf(policy)}/${nameOf(policy)}`;
    const built = buildSessionPersistence(spec.sessionPersistence, 'spec.sessionPersistence', owner);
    if ('problem' in built) problems.push(built.problem);
    else check.session = built.record;
  }
  if (spec.retryConstraint !== undefined)
    problems.push(
      'spec.retryConstraint (a retry budget) is not supported: Portico does not enforce retry budgets, and a limit ' +
        'accepted but not enforced would let retries through that it was meant to stop',
    );
  if (problems.length > 0) check.invalid = problems.join('; ');
  return check;
}
