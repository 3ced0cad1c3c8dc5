// Gateway: the gateway-level checks (class, parametersRef, spec.addresses), its listener nodes, and at the end its
// status in Gateway API shape. Listener checks live in listener.ts; address allocation in address.ts (pool mode) and
// gateway-service.ts (service mode).

import { checkIpAddress } from '../../../shared/validation/fields.ts';
import type { AddressOutcome } from './address.ts';
import { ROUTABILITY_CLUSTER, routabilityProblem } from './routability.ts';
import type { AddressEntry } from './routability.ts';
import {
  gatewayAccepted,
  gatewayAddressesAssigned,
  gatewayAddressesNotAssigned,
  gatewayAddressesPartiallyAssigned,
  gatewayDefaultGateway,
  gatewayAddressNotAssigned,
  gatewayAddressNotUsable,
  gatewayInvalid,
  gatewayInsecureFrontendValidationMode,
  gatewayInvalidParameters,
  gatewayListenersNotResolved,
  gatewayListenersNotValid,
  gatewayNotProgrammedInvalid,
  gatewayProgrammed,
  gatewayResolvedRefs,
  gatewayInvalidClientCertificateRef,
  gatewayRefNotPermitted,
  gatewayUnsupportedAddress,
  listenerAccepted,
  listenerConflicted,
  listenerInvalidCACertificateKind,
  listenerInvalidListenerFilterRef,
  listenerInvalidCACertificateRef,
  listenerInvalidCertificateRef,
  listenerInvalidRouteKinds,
  listenerNoConflicts,
  listenerNoValidCACertificate,
  listenerInvalidListenerFilter,
  listenerNotAcceptedForConflict,
  listenerNotProgrammedForConflict,
  listenerNotProgrammedInvalid,
  listenerOverlappingHostnames,
  listenerPortUnavailable,
  listenerProgrammed,
  listenerRefNotPermitted,
  listenerResolvedRefs,
  listenerUnsupportedProtocol,
  listenerUnsupportedValue,
  stampConditions,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import { stringRecord } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import type { TranslateContext } from '../context.ts';
import type { GatewayClassNode } from './gatewayclass.ts';
import type { GatewayInfrastructure, GatewayService } from './gateway-service.ts';
import { resolveBackendClientCertificate } from './gateway-backend-tls.ts';
import type { BackendTlsOutcome } from './gateway-backend-tls.ts';
import type { ListenerSetNode } from './listenerset.ts';
import { detectListenerConflicts } from './listener-conflicts.ts';
import { readListenerList } from './listener-list.ts';
import type { ListenerNode } from './listener.ts';
import { isObject, listAt, nonEmptyString, objectAt, show, stringAt } from '../read.ts';
import { generationOf, nameOf, namespaceOf } from '../resources.ts';
import type { Gateway } from '../resources.ts';
import type { ListenerStatus, ObjectStatus } from '../status.ts';

export interface GatewayNode {
  source: Gateway;
  namespace: string;
  name: string;
  /** `<namespace>/<name>`. */
  key: string;
  /** Accepted=False for a reason of the Gateway as a whole (class, parameters, addresses). */
  rejection?: ConditionDraft;
  /** `spec.tls.backend`: the client certificate presented to TLS backends, or why there is none. */
  backendTls?: BackendTlsOutcome;
  /** ListenerSets whose parentRef names this Gateway, in precedence order (listenerset.ts); set when supported. */
  listenerSets?: ListenerSetNode[];
  /** IP addresses asked for in `spec.addresses`. */
  requestedAddresses: string[];
  /** `spec.addresses` has an entry without a value: "assign me one" (GatewayAddressEmpty). */
  wantsAssignedAddress: boolean;
  /** Every IPAddress entry of `spec.addresses` with its routability (GEP-5093), in spec order. */
  addressEntries: AddressEntry[];
  /** Filled after the address pass (address-status.ts): the entries left unsatisfied; absent while not reconciled. */
  assigned?: { unsatisfied: string[] };
  listeners: ListenerNode[];
  /** Listener entries left out of the status (no name, or a name used twice), with why. */
  unnamedListeners: string[];
  /** The class and `spec.infrastructure` (what the Gateway's Service is made of in service mode). */
  infrastructure?: GatewayInfrastructure;
  /** GEP-3793 `spec.defaultScope`: `All` makes it a default Gateway (routes with `useDefaultGateways: All` attach). */
  defaultScope?: 'All';
  /** Filled by the address pass. */
  address?: AddressOutcome;
  /** Service mode: filled by the address pass. */
  service?: GatewayService;
}

function applyAddresses(node: GatewayNode, spec: Record<string, unknown>, context: TranslateContext): void {
  const features = context.options.supportedFeatures;
  if (spec.addresses !== undefined && !Array.isArray(spec.addresses)) {
    node.rejection ??= gatewayInvalid(`spec.addresses must be a list; it is ${show(spec.addresses)}`);
    return;
  }
  for (const [i, item] of listAt(spec.addresses).entries()) {
    const field = `spec.addresses[${i}]`;
    const a = objectAt(item);
    const type = a.type === undefined ? 'IPAddress' : a.type;
    if (type !== 'IPAddress') {
      node.rejection ??= gatewayUnsupportedAddress(
        `${field}.type ${show(type)} is not supported; only IPAddress addresses can be bound`,
      );
      continue;
    }
    const value = a.value === undefined ? '' : stringAt(a.value);
    const routability = a.routability === undefined ? '' : stringAt(a.routability);
    if (routability === undefined) {
      node.rejection ??= gatewayInvalid(`${field}.routability ${show(a.routability)} must be a string`);
      continue;
    }
    const entry: AddressEntry = { field, value: value || undefined, routability };
    const unsatisfiable = routabilityProblem(routability, context.options.addressMode, features);
    if (unsatisfiable !== undefined) entry.unsatisfiable = unsatisfiable;
    node.addressEntries.push(entry);
    // An entry no address can satisfy asks the address pass for nothing: it is only reported.
    if (unsatisfiable !== undefined) continue;
    if (value === '') {
      node.wantsAssignedAddress = true;
      continue;
    }
    const problem = checkIpAddress(value);
    if (value === undefined || problem !== null) {
      node.rejection ??= gatewayInvalid(`${field}.value ${show(a.value)} ${problem ?? 'must be a string'}`);
    } else if (!features.has('GatewayStaticAddresses')) {
      node.rejection ??= gatewayUnsupportedAddress(
        `${field}: requesting a specific address is not supported by this installation`,
      );
    } else node.requestedAddresses.push(value);
  }
}

/**
 * Service mode, GEP-5093: a Gateway whose every address entry asks for `Cluster` gets a Service of type ClusterIP
 * whatever its class says, so that no load balancer exposes it outside the cluster. With entries of other scopes the
 * class's type stands (a LoadBalancer Service has a cluster IP too); a static `Cluster` address is then honoured only
 * when that type is not LoadBalancer: the requested value would otherwise become the load balancer's address.
 */
function applyClusterScope(node: GatewayNode, context: TranslateContext): void {
  const infrastructure = node.infrastructure;
  const entries = node.addressEntries.filter((e) => e.unsatisfiable === undefined);
  if (context.options.addressMode !== 'service' || infrastructure === undefined || entries.length === 0) return;
  if (entries.every((e) => e.routability === ROUTABILITY_CLUSTER)) {
    infrastructure.serviceType = 'ClusterIP';
    return;
  }
  if (infrastructure.serviceType !== 'LoadBalancer') return;
  for (const entry of entries) {
    if (entry.routability !== ROUTABILITY_CLUSTER || entry.value === undefined) continue;
    entry.unsatisfiable = `a static Cluster address is honoured only when every spec.addresses entry asks for Cluster (the Service is then of type ClusterIP); this Gateway's Service is of type LoadBalancer, whose cluster IP the API server chooses`;
    const at = node.requestedAddresses.indexOf(entry.value);
    if (at !== -1) node.requestedAddresses.splice(at, 1);
  }
}

function applyListeners(node: GatewayNode, spec: Record<string, unknown>, context: TranslateContext): void {
  const { listeners, unnamed } = readListenerList(context, node, spec, spec.listeners);
  node.listeners.push(...listeners);
  node.unnamedListeners.push(...unnamed);
  detectListenerConflicts(node.listeners, context.options.supportedFeatures.has('TLSRouteModeMixed'));
}

export function buildGatewayNode(
  context: TranslateContext,
  gateway: Gateway,
  gatewayClass: GatewayClassNode,
): GatewayNode {
  const namespace = namespaceOf(gateway);
  const name = nameOf(gateway);
  const spec = objectAt(gateway.spec);
  const node: GatewayNode = {
    source: gateway,
    namespace,
    name,
    key: namespacedKey(namespace, name),
    requestedAddresses: [],
    wantsAssignedAddress: false,
    addressEntries: [],
    listeners: [],
    unnamedListeners: [],
  };
  if (!gatewayClass.accepted) node.rejection = gatewayInvalid(`GatewayClass ${gatewayClass.name} is not accepted`);
  const infrastructure = objectAt(spec.infrastructure);
  node.infrastructure = {
    className: gatewayClass.name,
    serviceType: gatewayClass.parameters.serviceType,
    mode: gatewayClass.parameters.infrastructure,
    labels: stringRecord(infrastructure.labels),
    annotations: stringRecord(infrastructure.annotations),
  };
  const parametersRef = infrastructure.parametersRef;
  if (parametersRef !== undefined && parametersRef !== null) {
    node.rejection ??= gatewayInvalidParameters(
      `spec.infrastructure.parametersRef ${show(parametersRef)} is not supported: a Gateway takes no parameters (its GatewayClass may name a ConfigMap)`,
    );
  }
  applyAddresses(node, spec, context);
  applyClusterScope(node, context);
  if (spec.defaultScope === 'All') node.defaultScope = 'All';
  else if (spec.defaultScope !== undefined && spec.defaultScope !== 'None')
    node.rejection ??= gatewayInvalid(`spec.defaultScope ${show(spec.defaultScope)} must be All or None`);
  applyListeners(node, spec, context);
  node.backendTls = resolveBackendClientCertificate(context, node, spec);
  return node;
}

function acceptedCondition(node: GatewayNode): ConditionDraft {
  if (node.rejection !== undefined) return node.rejection;
  const invalid = node.listeners.filter((l) => l.rejection !== undefined || l.conflict !== undefined);
  const valid = node.listeners.length - invalid.length;
  if (invalid.length === 0 && node.unnamedListeners.length === 0) {
    return valid > 0 ? gatewayAccepted() : gatewayListenersNotValid(false, 'The Gateway has no listeners');
  }
  const reasons = [
    ...invalid.map((l) => `${l.name} (${(l.rejection ?? l.conflict)?.reason})`),
    ...node.unnamedListeners,
  ];
  const accepted = node.listeners.filter((l) => !invalid.includes(l)).map((l) => l.name);
  return gatewayListenersNotValid(
    valid > 0,
    `Invalid listeners: ${reasons.join(', ')}; accepted listeners: ${accepted.join(', ') || 'none'}`,
  );
}

export function isGatewayAccepted(node: GatewayNode): boolean {
  return acceptedCondition(node).status === 'True';
}

/** Can this Gateway's listeners go into the IR at all (accepted, with an address to bind)? */
export function isGatewayServable(node: GatewayNode): boolean {
  return isGatewayAccepted(node) && node.address?.address !== undefined;
}

function programmedCondition(node: GatewayNode, accepted: ConditionDraft, programmedCount: number): ConditionDraft {
  if (accepted.status !== 'True') return gatewayNotProgrammedInvalid('The Gateway is not accepted');
  const outcome = node.address;
  if (outcome?.address === undefined) {
    const problem = outcome?.problem;
    if (problem?.reason === 'AddressNotUsable') return gatewayAddressNotUsable(problem.message);
    return gatewayAddressNotAssigned(problem?.message ?? 'No address was assigned');
  }
  if (programmedCount === 0) return gatewayNotProgrammedInvalid('No listener of the Gateway can be programmed');
  // Nothing published: no spec.addresses entry is satisfied (GEP-5093: AddressNotAssigned, whatever the reason; an
  // address the Service got instead of the requested one is not published), or the Service has no address yet.
  if (outcome.published.length === 0) {
    const why = [outcome.pending ?? 'No address was assigned', outcome.problem?.message].filter((m) => m !== undefined);
    return gatewayAddressNotAssigned(why.join('; '));
  }
  if (outcome.problem !== undefined) return gatewayAddressNotUsable(outcome.problem.message);
  return gatewayProgrammed(`The Gateway is programmed on ${outcome.published.map((a) => a.value).join(', ')}`);
}

/** The conditions of one listener (of the Gateway, or of a ListenerSet attached to it). */
export function listenerConditions(node: GatewayNode, listener: ListenerNode, programmed: boolean): ConditionDraft[] {
  const drafts: ConditionDraft[] = [];
  const { rejection, conflict } = listener;
  if (rejection !== undefined) {
    const build = {
      PortUnavailable: listenerPortUnavailable,
      UnsupportedProtocol: listenerUnsupportedProtocol,
      UnsupportedValue: listenerUnsupportedValue,
      NoValidCACertificate: listenerNoValidCACertificate,
      InvalidListenerFilter: listenerInvalidListenerFilter,
    }[rejection.reason];
    drafts.push(build(rejection.message));
  } else if (conflict !== undefined) drafts.push(listenerNotAcceptedForConflict(conflict.reason, conflict.message));
  else drafts.push(listenerAccepted());

  if (programmed) drafts.push(listenerProgrammed());
  else if (conflict !== undefined && rejection === undefined)
    drafts.push(listenerNotProgrammedForConflict(conflict.reason, conflict.message));
  else if (rejection !== undefined) drafts.push(listenerNotProgrammedInvalid('The listener is not accepted'));
  else if (!isGatewayServable(node))
    drafts.push(listenerNotProgrammedInvalid('The Gateway is not accepted or has no address'));
  else drafts.push(listenerNotProgrammedInvalid('The listener has no usable certificate'));

  const first = listener.refProblems[0];
  if (first === undefined) drafts.push(listenerResolvedRefs());
  else {
    const message = listener.refProblems.map((p) => p.message).join('; ');
    const build = {
      InvalidCertificateRef: listenerInvalidCertificateRef,
      RefNotPermitted: listenerRefNotPermitted,
      InvalidRouteKinds: listenerInvalidRouteKinds,
      InvalidCACertificateRef: listenerInvalidCACertificateRef,
      InvalidCACertificateKind: listenerInvalidCACertificateKind,
      InvalidListenerFilterRef: listenerInvalidListenerFilterRef,
    }[first.reason];
    drafts.push(build(message));
  }
  drafts.push(conflict === undefined ? listenerNoConflicts() : listenerConflicted(conflict.reason, conflict.message));
  if (listener.overlapsWith.length > 0) {
    drafts.push(
      listenerOverlappingHostnames(
        `The hostname of this listener overlaps with that of listeners ${listener.overlapsWith.join(', ')} on port ${listener.port}`,
      ),
    );
  }
  return drafts;
}

/** ResolvedRefs: the Gateway's own references (spec.tls.backend) first, then a summary of its listeners'. */
function resolvedRefsCondition(node: GatewayNode, unresolved: readonly string[]): ConditionDraft {
  const listeners =
    unresolved.length === 0 ? undefined : `Listeners with unresolved references: ${unresolved.join(', ')}`;
  const backend = node.backendTls;
  if (backend !== undefined && !backend.ok) {
    const message = [backend.message, listeners].filter((m) => m !== undefined).join('; ');
    return backend.reason === 'RefNotPermitted'
      ? gatewayRefNotPermitted(message)
      : gatewayInvalidClientCertificateRef(message);
  }
  return listeners === undefined ? gatewayResolvedRefs() : gatewayListenersNotResolved(listeners);
}

/** GEP-5093 AddressesAssigned: omitted until addresses are reconciled, and on a Gateway that is not accepted. */
function addressesAssignedCondition(node: GatewayNode, accepted: ConditionDraft): ConditionDraft | undefined {
  const assigned = node.assigned;
  if (assigned === undefined || accepted.status !== 'True') return undefined;
  const published = node.address?.published ?? [];
  if (assigned.unsatisfied.length === 0)
    return gatewayAddressesAssigned(
      node.addressEntries.length === 0
        ? `Addresses selected by default: ${published.map((a) => a.value).join(', ')}`
        : `Every spec.addresses entry is assigned: ${published.map((a) => a.value).join(', ')}`,
    );
  const message = `Unsatisfied: ${assigned.unsatisfied.join('; ')}`;
  return published.length > 0
    ? gatewayAddressesPartiallyAssigned(`Assigned: ${published.map((a) => a.value).join(', ')}. ${message}`)
    : gatewayAddressesNotAssigned(message);
}

/** The Gateway's status; `programmed` holds the keys of the listeners that went into the IR. */
export function gatewayStatus(node: GatewayNode, programmed: ReadonlySet<string>, now: string): ObjectStatus {
  const generation = generationOf(node.source);
  const accepted = acceptedCondition(node);
  const programmedCount = node.listeners.filter((l) => programmed.has(l.key)).length;
  const unresolved = node.listeners.filter((l) => l.refProblems.length > 0).map((l) => l.name);
  const drafts = [
    accepted,
    programmedCondition(node, accepted, programmedCount),
    resolvedRefsCondition(node, unresolved),
  ];
  const assigned = addressesAssignedCondition(node, accepted);
  if (assigned !== undefined) drafts.push(assigned);
  if (node.defaultScope !== undefined && accepted.status === 'True')
    drafts.push(gatewayDefaultGateway(`Gateway has default scope ${node.defaultScope}`));
  const insecure = node.listeners
    .filter((l) => l.clientValidation?.mode === 'AllowInsecureFallback')
    .map((l) => l.name);
  if (insecure.length > 0) {
    drafts.push(
      gatewayInsecureFrontendValidationMode(
        `Listeners ${insecure.join(', ')} let clients in without a valid certificate (AllowInsecureFallback)`,
      ),
    );
  }
  const conditions = stampConditions(drafts, generation, now);
  const listeners: ListenerStatus[] = node.listeners.map((l) => ({
    name: l.name,
    supportedKinds: l.supportedKinds,
    attachedRoutes: l.attachedRoutes,
    conditions: stampConditions(listenerConditions(node, l, programmed.has(l.key)), generation, now),
  }));
  // status.addresses lists what is bound: nothing while no listener is programmed.
  const addresses = programmedCount > 0 ? (node.address?.published ?? []) : [];
  return {
    kind: 'Gateway',
    apiVersion: stringAt(node.source.apiVersion) ?? 'gateway.networking.k8s.io/v1',
    namespace: node.namespace,
    name: node.name,
    generation,
    status: { conditions, addresses: addresses.map((a) => ({ ...a })), listeners },
  };
}

/** `spec.gatewayClassName`, when it is a string. */
export function gatewayClassNameOf(gateway: Gateway): string | undefined {
  return isObject(gateway.spec) ? nonEmptyString(gateway.spec.gatewayClassName) : undefined;
}
