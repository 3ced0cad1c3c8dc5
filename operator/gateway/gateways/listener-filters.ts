// Gateway `spec.listeners[].filters.requests[]` (GEP-5224, GatewayListenerFilters) → the listener's refusal and
// reference problems. Portico's data plane runs no pre-routing filter yet, so any listener that lists one is refused
// (Accepted=False UnsupportedValue, GEP-5224 "unsupported-filter rejection"), which keeps it out of the IR: its
// traffic is refused, never served without the filter. The references are still checked, so that a bad one is told
// apart (ResolvedRefs=False InvalidListenerFilterRef, or RefNotPermitted across namespaces without a grant).
// Must not resolve anything but Services (the only kind an ExternalAuth backendRef may name here).

import { namespacedKey } from '../keys.ts';
import type { TranslateContext } from '../context.ts';
import { at, listAt, objectAt, show, stringAt } from '../read.ts';
import { GATEWAY_GROUP, isReferenceAllowed } from '../referencegrant.ts';
import type { ListenerNode } from './listener.ts';

/** Why an `externalAuth.backendRef` cannot be used, or undefined when it names an existing Service port. */
function checkAuthBackendRef(
  context: TranslateContext,
  node: ListenerNode,
  ref: Record<string, unknown>,
  field: string,
): { reason: 'InvalidListenerFilterRef' | 'RefNotPermitted'; message: string } | undefined {
  const group = ref.group === undefined ? '' : stringAt(ref.group);
  const kind = ref.kind === undefined ? 'Service' : stringAt(ref.kind);
  const name = stringAt(ref.name);
  if (group !== '' || kind !== 'Service' || name === undefined) {
    const what = `${show(group)}/${show(kind)} ${show(ref.name)}`;
    return {
      reason: 'InvalidListenerFilterRef',
      message: `${field} refers to ${what}; only core Services are supported`,
    };
  }
  const from = node.owner?.namespace ?? node.gatewayNamespace;
  const namespace = stringAt(ref.namespace) ?? from;
  const referrer = node.owner === undefined ? 'Gateway' : 'ListenerSet';
  if (
    !isReferenceAllowed(
      context.grants,
      { group: GATEWAY_GROUP, kind: referrer, namespace: from },
      {
        group: '',
        kind: 'Service',
        namespace,
        name,
      },
    )
  ) {
    return {
      reason: 'RefNotPermitted',
      message: `${field} refers to Service ${namespace}/${name}, and no ReferenceGrant in ${namespace} allows ${referrer}s from ${from} to refer to it`,
    };
  }
  const service = context.services.get(namespacedKey(namespace, name));
  if (service === undefined)
    return {
      reason: 'InvalidListenerFilterRef',
      message: `${field} refers to Service ${namespace}/${name}, which does not exist`,
    };
  const ports = listAt(objectAt(service.spec).ports).map((p) => objectAt(p).port);
  if (!ports.includes(ref.port))
    return {
      reason: 'InvalidListenerFilterRef',
      message: `${field}: Service ${namespace}/${name} has no port ${show(ref.port)}`,
    };
  return undefined;
}

/** Refuses a listener that lists request filters, and records what is wrong with their references. */
export function applyListenerFilters(
  node: ListenerNode,
  raw: Record<string, unknown>,
  context: TranslateContext,
): void {
  if (raw.filters === undefined) return;
  const field = `${node.field}.filters.requests`;
  const requests = listAt(objectAt(raw.filters).requests);
  const types: string[] = [];
  for (const [i, entry] of requests.entries()) {
    const filter = objectAt(entry);
    const where = at(field, i);
    types.push(`${where} ${show(filter.type)}`);
    if (filter.type === 'ExternalAuth') {
      const problem = checkAuthBackendRef(
        context,
        node,
        objectAt(objectAt(filter.externalAuth).backendRef),
        `${where}.externalAuth.backendRef`,
      );
      if (problem !== undefined) node.refProblems.push(problem);
    } else if (filter.type === 'ExtensionRef') {
      const ref = objectAt(filter.extensionRef);
      node.refProblems.push({
        reason: 'InvalidListenerFilterRef',
        message: `${where}.extensionRef ${show(ref.group)}/${show(ref.kind)} ${show(ref.name)} cannot be resolved: no extension filters are supported`,
      });
    }
  }
  if (requests.length === 0) return;
  node.rejection ??= {
    reason: 'UnsupportedValue',
    message: `${types.join(', ')}: listener request filters are not supported, so the listener is not served (its requests would go unfiltered)`,
  };
  node.supportedKinds = [];
}
