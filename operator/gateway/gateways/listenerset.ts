// ListenerSet: listeners added to a Gateway of ours from another object (often another namespace), bound on the
// Gateway's addresses. The Gateway decides which namespaces may attach (`spec.allowedListeners`, None by default).
// Its listeners are checked as a Gateway's are (listener.ts), with three differences: `allowedRoutes` `Same` means
// the ListenerSet's namespace, certificate references use the ListenerSet's own ReferenceGrants, and conflicts are
// settled by precedence — the Gateway's own listeners first, then ListenerSets oldest first (then by namespace/name),
// each in spec order: a listener that cannot be told apart from one before it is Conflicted, the earlier one keeps
// working (Gateway API ListenerSetSpec.Listeners). Routes attach to a ListenerSet by naming it in a parentRef
// (attach.ts); a parentRef to the Gateway reaches only the Gateway's own listeners.
// Must not: change the Gateway's own listeners or conditions (only its `attachedListenerSets` count tells of them).

import {
  listenerSetAccepted,
  listenerSetListenersNotValid,
  listenerSetNotAllowed,
  listenerSetNotProgrammedListenersNotValid,
  listenerSetNotProgrammedNotAllowed,
  listenerSetParentNotAccepted,
  listenerSetParentNotProgrammed,
  listenerSetProgrammed,
  stampConditions,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import { labelsOfNamespace } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import type { TranslateContext } from '../context.ts';
import { isGatewayAccepted, listenerConditions } from './gateway.ts';
import type { GatewayNode } from './gateway.ts';
import { hostnamesOverlap } from '../hostname.ts';
import { conflictBetween } from './listener-conflicts.ts';
import { isListenerServable } from './listener.ts';
import { readListenerList } from './listener-list.ts';
import type { ListenerNode } from './listener.ts';
import { nonEmptyString, objectAt, show, stringAt } from '../read.ts';
import { GATEWAY_GROUP } from '../referencegrant.ts';
import { generationOf, nameOf, namespaceOf } from '../resources.ts';
import type { ListenerSet } from '../resources.ts';
import { matchesLabels, parseLabelSelector } from '../selector.ts';
import type { ObjectStatus } from '../status.ts';

export interface ListenerSetNode {
  source: ListenerSet;
  namespace: string;
  name: string;
  /** `<namespace>/<name>`. */
  key: string;
  /** The parent Gateway (one of ours). */
  gateway: GatewayNode;
  /** Not attached at all: the Gateway does not admit it, or is not accepted itself. */
  detached?: { reason: 'NotAllowed' | 'ParentNotAccepted'; message: string };
  listeners: ListenerNode[];
  /** Listener entries left out of the status (no name, or a name used twice), with why. */
  unnamedListeners: string[];
}

/** The Gateway (`<namespace>/<name>`) a ListenerSet's `spec.parentRef` names; undefined when it names anything else. */
export function parentGatewayKey(listenerSet: ListenerSet): string | undefined {
  const ref = objectAt(objectAt(listenerSet.spec).parentRef);
  const group = ref.group === undefined ? GATEWAY_GROUP : ref.group;
  const kind = ref.kind === undefined ? 'Gateway' : ref.kind;
  const name = nonEmptyString(ref.name);
  const namespace = ref.namespace === undefined ? namespaceOf(listenerSet) : nonEmptyString(ref.namespace);
  if (group !== GATEWAY_GROUP || kind !== 'Gateway' || name === undefined || namespace === undefined) return undefined;
  return namespacedKey(namespace, name);
}

/** `spec.allowedListeners` of the Gateway lets ListenerSets of `namespace` attach (undefined), or says why not. */
function whyNotAllowed(context: TranslateContext, gateway: GatewayNode, namespace: string): string | undefined {
  const namespaces = objectAt(objectAt(objectAt(gateway.source.spec).allowedListeners).namespaces);
  const from = namespaces.from === undefined ? 'None' : namespaces.from;
  const field = `Gateway ${gateway.key} spec.allowedListeners.namespaces`;
  switch (from) {
    case 'All':
      return undefined;
    case 'Same':
      return namespace === gateway.namespace
        ? undefined
        : `${field}.from is Same, and this ListenerSet is in namespace ${namespace}`;
    case 'Selector': {
      const parsed = parseLabelSelector(namespaces.selector, `${field}.selector`);
      if (!parsed.ok) return parsed.message;
      return matchesLabels(parsed.selector, labelsOfNamespace(context, namespace))
        ? undefined
        : `${field}.selector does not select namespace ${namespace}`;
    }
    case 'None':
      return `${field}.from is None: the Gateway admits no ListenerSets`;
    default:
      return `${field}.from ${show(from)} is not All, Same, Selector or None`;
  }
}

/** Does the Gateway admit ListenerSets at all (so that its status counts them)? */
export function admitsListenerSets(gateway: GatewayNode): boolean {
  const from = objectAt(objectAt(objectAt(gateway.source.spec).allowedListeners).namespaces).from;
  return from === 'All' || from === 'Same' || from === 'Selector';
}

function applyListeners(context: TranslateContext, node: ListenerSetNode): void {
  const owner = { namespace: node.namespace, name: node.name };
  const gatewaySpec = objectAt(node.gateway.source.spec);
  const { listeners, unnamed } = readListenerList(
    context,
    node.gateway,
    gatewaySpec,
    objectAt(node.source.spec).listeners,
    owner,
  );
  node.listeners.push(...listeners);
  node.unnamedListeners.push(...unnamed);
}

function describe(listener: ListenerNode): string {
  return listener.owner === undefined
    ? `listener ${listener.name} of Gateway ${listener.gatewayNamespace}/${listener.gatewayName}`
    : `listener ${listener.name} of ListenerSet ${listener.owner.namespace}/${listener.owner.name}`;
}

/**
 * The ListenerSets of one Gateway (`objects`: those whose parentRef names it, in precedence order), with their
 * listeners checked and their conflicts settled against the Gateway's listeners and each other.
 */
export function buildListenerSets(
  context: TranslateContext,
  gateway: GatewayNode,
  objects: readonly ListenerSet[],
): ListenerSetNode[] {
  const mixed = context.options.supportedFeatures.has('TLSRouteModeMixed');
  // Listeners of higher precedence: the Gateway's (conflicted among themselves or not), then accepted ones of sets.
  const taken: ListenerNode[] = gateway.listeners.filter((l) => l.rejection === undefined);
  const nodes: ListenerSetNode[] = [];
  for (const source of objects) {
    const namespace = namespaceOf(source);
    const name = nameOf(source);
    const node: ListenerSetNode = {
      source,
      namespace,
      name,
      key: namespacedKey(namespace, name),
      gateway,
      listeners: [],
      unnamedListeners: [],
    };
    nodes.push(node);
    const notAllowed = whyNotAllowed(context, gateway, namespace);
    if (notAllowed !== undefined) node.detached = { reason: 'NotAllowed', message: notAllowed };
    else if (!isGatewayAccepted(gateway))
      node.detached = { reason: 'ParentNotAccepted', message: `Gateway ${gateway.key} is not accepted` };
    if (node.detached !== undefined) continue;
    try {
      applyListeners(context, node);
    } catch (error) {
      // Guarded like a Gateway: a set the translator cannot read gets a status saying so, the others are unaffected.
      node.listeners = [];
      node.unnamedListeners = [
        `The ListenerSet could not be translated: ${(error as Error)?.message ?? String(error)}`,
      ];
    }
    for (const listener of node.listeners) {
      if (listener.rejection !== undefined) continue;
      for (const earlier of taken) {
        const clash = conflictBetween(listener, earlier, mixed);
        if (clash === undefined) continue;
        listener.conflict = {
          reason: clash.reason,
          message: `Listener ${listener.name} cannot be told apart from ${describe(earlier)}, which takes precedence: it ${clash.what}`,
        };
        listener.supportedKinds = [];
        break;
      }
      if (listener.conflict === undefined) taken.push(listener);
    }
    for (const listener of node.listeners) {
      if (
        listener.rejection !== undefined ||
        listener.conflict !== undefined ||
        (listener.protocol !== 'HTTPS' && listener.protocol !== 'TLS')
      )
        continue;
      for (const other of taken) {
        if (
          other === listener ||
          other.port !== listener.port ||
          (other.protocol !== 'HTTPS' && other.protocol !== 'TLS')
        )
          continue;
        if (hostnamesOverlap(listener.hostname, other.hostname)) listener.overlapsWith.push(other.name);
      }
    }
  }
  return nodes;
}

/** Accepted=True: attached, with at least one listener that can be served. */
export function isListenerSetAccepted(node: ListenerSetNode): boolean {
  return node.detached === undefined && node.listeners.some(isListenerServable);
}

function conditions(node: ListenerSetNode, programmedCount: number): ConditionDraft[] {
  const { detached } = node;
  if (detached?.reason === 'NotAllowed')
    return [listenerSetNotAllowed(detached.message), listenerSetNotProgrammedNotAllowed(detached.message)];
  if (detached !== undefined)
    return [listenerSetParentNotAccepted(detached.message), listenerSetParentNotProgrammed(detached.message)];
  const invalid = [
    ...node.listeners
      .filter((l) => !isListenerServable(l))
      .map(
        (l) =>
          `${l.name} (${(l.rejection ?? l.conflict)?.reason ?? l.refProblems[0]?.reason ?? 'no usable certificate'})`,
      ),
    ...node.unnamedListeners,
  ];
  const valid = node.listeners.filter(isListenerServable).map((l) => l.name);
  if (invalid.length > 0 || valid.length === 0) {
    const message =
      valid.length === 0 && invalid.length === 0
        ? 'The ListenerSet has no listeners'
        : `Invalid listeners: ${invalid.join(', ')}; accepted listeners: ${valid.join(', ') || 'none'}`;
    const accepted = listenerSetListenersNotValid(valid.length > 0, message);
    if (valid.length === 0) return [accepted, listenerSetNotProgrammedListenersNotValid(message)];
    return [
      accepted,
      programmedCount > 0
        ? listenerSetProgrammed()
        : listenerSetParentNotProgrammed(`Gateway ${node.gateway.key} is not programmed (no address)`),
    ];
  }
  if (programmedCount > 0) return [listenerSetAccepted(), listenerSetProgrammed()];
  return [
    listenerSetAccepted(),
    listenerSetParentNotProgrammed(`Gateway ${node.gateway.key} is not programmed (no address)`),
  ];
}

/** The ListenerSet's status; `programmed` holds the keys of the listeners that went into the IR. */
export function listenerSetStatus(node: ListenerSetNode, programmed: ReadonlySet<string>, now: string): ObjectStatus {
  const generation = generationOf(node.source);
  const programmedCount = node.listeners.filter((l) => programmed.has(l.key)).length;
  const listeners = node.listeners.map((l) => ({
    name: l.name,
    supportedKinds: l.supportedKinds,
    attachedRoutes: l.attachedRoutes,
    conditions: stampConditions(listenerConditions(node.gateway, l, programmed.has(l.key)), generation, now),
  }));
  return {
    kind: 'ListenerSet',
    apiVersion: stringAt(node.source.apiVersion) ?? 'gateway.networking.k8s.io/v1',
    namespace: node.namespace,
    name: node.name,
    generation,
    status: { conditions: stampConditions(conditions(node, programmedCount), generation, now), listeners },
  };
}

/** The Gateway's status with `attachedListenerSets`, when it admits ListenerSets and they are supported. */
export function withAttachedListenerSets(status: ObjectStatus, gateway: GatewayNode): ObjectStatus {
  if (status.kind !== 'Gateway' || gateway.listenerSets === undefined || !admitsListenerSets(gateway)) return status;
  return {
    ...status,
    status: { ...status.status, attachedListenerSets: gateway.listenerSets.filter(isListenerSetAccepted).length },
  };
}

/** Every listener bound on the Gateway's addresses: its own, then those of its accepted ListenerSets. */
export function boundListeners(gateway: GatewayNode): ListenerNode[] {
  const fromSets = (gateway.listenerSets ?? [])
    .filter(isListenerSetAccepted)
    .flatMap((s) => s.listeners.filter((l) => l.conflict === undefined));
  return [...gateway.listeners, ...fromSets];
}
