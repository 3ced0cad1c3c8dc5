// XTelemetryPolicy → which policy takes which Gateway, and `status.ancestors` (GEP-713 and GEP-4768). One entry per
// `targetRefs[]` entry (the ancestor is the target, a Gateway), with Accepted and ResolvedRefs:
//  - a Gateway of ours: Accepted=True (the oldest valid policy, then first by namespace/name, takes it: GEP-4768
//    allows one policy per Gateway) or False — Conflicted (an older one took it), Invalid (the spec cannot be applied:
//    an invalid policy takes nothing, so the next one in line applies: keep what works);
//  - a Gateway that does not exist: Accepted=False TargetNotFound (GEP-4768 conformance test 5);
//  - another kind than Gateway: Accepted=False Invalid (the CRD supports Gateways only, "Core for Gateway");
//  - a Gateway of another controller: no entry (we must only write ancestors we are responsible for).
// Runs every translation on all policies: they are few, and their records ride on the listener records, which are
// rebuilt every run anyway.

import type { ListenerTracing } from '../../../shared/ir/tracing.ts';
import {
  policyAccepted,
  policyAcceptedWithNote,
  policyConflicted,
  policyInvalid,
  policyResolvedRefs,
  policyTargetNotFound,
  stampConditions,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import type { TranslateContext } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import { at, listAt, nonEmptyString, objectAt, stringAt } from '../read.ts';
import { GATEWAY_GROUP } from '../referencegrant.ts';
import { comparePrecedence, generationOf, nameOf, namespaceOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import { MAX_POLICY_ANCESTORS } from '../status.ts';
import type { ObjectStatus, PolicyAncestorStatus } from '../status.ts';
import { TELEMETRY_KIND, checkTelemetryPolicy } from './telemetrypolicy.ts';

export type TelemetryPolicyStatus = Extract<ObjectStatus, { kind: 'XTelemetryPolicy' }>;

export interface TelemetryOutcome {
  /** Gateway key → the record for its listeners (null: the winner says ImplementationDefault). */
  byGateway: Map<string, ListenerTracing | null>;
  statuses: TelemetryPolicyStatus[];
}

export interface TelemetryInputs {
  context: TranslateContext;
  /** Every XTelemetryPolicy (any order). */
  policies: readonly KubeObject[];
  /** Keys (`namespace/name`) of every Gateway object, ours or not. */
  gateways: ReadonlySet<string>;
  /** Keys of our Gateways. */
  ours: ReadonlySet<string>;
  controllerName: string;
  now: string;
}

interface Target {
  ref: { group: string; kind: string; namespace: string; name: string };
  field: string;
}

/** `spec.targetRefs[]`, without repeats (the CRD asks them distinct; a repeat gets no second entry). */
function targetsOf(policy: KubeObject): Target[] {
  const out: Target[] = [];
  for (const [i, entry] of listAt(objectAt(policy.spec).targetRefs).entries()) {
    const r = objectAt(entry);
    const ref = {
      group: stringAt(r.group) ?? '',
      kind: stringAt(r.kind) ?? '',
      namespace: namespaceOf(policy),
      name: nonEmptyString(r.name) ?? '',
    };
    if (ref.name === '') continue;
    if (!out.some((t) => t.ref.group === ref.group && t.ref.kind === ref.kind && t.ref.name === ref.name))
      out.push({ ref, field: at('spec.targetRefs', i) });
  }
  return out;
}

/** Decides every policy's targets (in precedence order) and builds their statuses. */
export function applyTelemetryPolicies(inputs: TelemetryInputs): TelemetryOutcome {
  const { context, gateways, ours } = inputs;
  const byGateway = new Map<string, ListenerTracing | null>();
  const owners = new Map<string, string>();
  const statuses: TelemetryPolicyStatus[] = [];
  for (const policy of [...inputs.policies].sort(comparePrecedence)) {
    const check = checkTelemetryPolicy(context, policy);
    const resolved = check.resolvedRefs ?? policyResolvedRefs();
    const invalid =
      check.invalid ??
      (check.resolvedRefs === null
        ? undefined
        : `spec.tracing.provider.backendRef cannot be used: ${check.resolvedRefs.message}`);
    const accepted =
      check.omitted.length === 0
        ? policyAccepted()
        : policyAcceptedWithNote(
            `The policy is accepted; not filled by Portico, so omitted from spans: ${check.omitted.join(', ')}`,
          );
    const self = `${TELEMETRY_KIND} ${namespaceOf(policy)}/${nameOf(policy)}`;
    const entries: PolicyAncestorStatus[] = [];
    const generation = generationOf(policy);
    const add = (target: Target, conditions: ConditionDraft[]): void => {
      if (entries.length >= MAX_POLICY_ANCESTORS) return;
      entries.push({
        ancestorRef: target.ref,
        controllerName: inputs.controllerName,
        conditions: stampConditions(conditions, generation, inputs.now),
      });
    };
    for (const target of targetsOf(policy)) {
      const { ref, field } = target;
      if (ref.group !== GATEWAY_GROUP || ref.kind !== 'Gateway') {
        add(target, [
          policyInvalid(`${field} refers to ${ref.group}/${ref.kind}: ${TELEMETRY_KIND} applies to Gateways only`),
          resolved,
        ]);
        continue;
      }
      const key = namespacedKey(ref.namespace, ref.name);
      if (!gateways.has(key)) {
        add(target, [policyTargetNotFound(`${field}: Gateway ${key} does not exist`), resolved]);
        continue;
      }
      if (!ours.has(key)) continue;
      const owner = owners.get(key);
      if (invalid !== undefined) add(target, [policyInvalid(invalid), resolved]);
      else if (owner !== undefined && owner !== self)
        add(target, [
          policyConflicted(
            `${owner} targets Gateway ${key} too and takes precedence (older, or first by namespace/name)`,
          ),
          resolved,
        ]);
      else {
        owners.set(key, self);
        byGateway.set(key, check.tracing);
        add(target, [accepted, resolved]);
      }
    }
    if (entries.length === 0) continue;
    statuses.push({
      kind: 'XTelemetryPolicy',
      apiVersion: stringAt(policy.apiVersion) ?? 'gateway.networking.x-k8s.io/v1alpha1',
      namespace: namespaceOf(policy),
      name: nameOf(policy),
      generation,
      status: { ancestors: entries },
    });
  }
  return { byGateway, statuses };
}
