// Route ↔ listener attachment, the same for every route kind: each `spec.parentRefs[]` entry that names one of our
// Gateways selects listeners by sectionName and port, keeps those whose allowedRoutes admit the route's kind and
// namespace, then (for kinds with hostnames) those whose hostname intersects the route's. The first filter that
// leaves nothing decides the reason: NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname.
// A parentRef to a ListenerSet of one of our Gateways does the same with the set's listeners (a parentRef to the
// Gateway reaches only the Gateway's own); a ListenerSet the Gateway does not admit attaches nothing.
// ParentRefs to objects that are not ours (other controllers' Gateways, Services, missing Gateways) get no status
// entry: Gateway API leaves those to whoever owns the parent.

import {
  routeAccepted,
  routeNoMatchingListenerHostname,
  routeNoMatchingParent,
  routeNotAllowedByListeners,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import { namespacedKey } from '../keys.ts';
import type { TranslateContext } from '../context.ts';
import type { GatewayNode } from '../gateways/gateway.ts';
import { intersectHostnames } from '../hostname.ts';
import { allowsRoute } from '../gateways/listener.ts';
import type { ListenerNode, RouteKind } from '../gateways/listener.ts';
import type { ListenerSetNode } from '../gateways/listenerset.ts';
import { integerAt, listAt, nonEmptyString, objectAt, stringAt } from '../read.ts';
import { GATEWAY_GROUP } from '../referencegrant.ts';
import { comparePrecedence } from '../resources.ts';
import type { ParentReference } from '../status.ts';

export interface Attachment {
  listener: ListenerNode;
  /** The route's hostnames that intersect the listener's, as written (hostname.ts); [] = any the listener takes. */
  hostnames: string[];
}

export interface ParentResult {
  parentRef: ParentReference;
  /** The Gateway (for a ListenerSet parentRef, the set's parent Gateway). */
  gateway: GatewayNode;
  accepted: ConditionDraft;
  attachments: Attachment[];
}

export interface AttachingRoute {
  kind: RouteKind;
  namespace: string;
  /** Validated `spec.hostnames`, or undefined for kinds without hostnames (TCPRoute, UDPRoute). */
  hostnames: readonly string[] | undefined;
  /** GEP-3793 `spec.useDefaultGateways`: `All` attaches the route to every default Gateway of scope All too. */
  useDefaultGateways?: unknown;
}

/** The parentRef as written, with only the fields Gateway API defines (so the status echoes it exactly). */
function echoParentRef(raw: Record<string, unknown>, name: string): ParentReference {
  const ref: ParentReference = { name };
  const group = stringAt(raw.group);
  const kind = stringAt(raw.kind);
  const namespace = stringAt(raw.namespace);
  const sectionName = stringAt(raw.sectionName);
  const port = integerAt(raw.port);
  if (group !== undefined) ref.group = group;
  if (kind !== undefined) ref.kind = kind;
  if (namespace !== undefined) ref.namespace = namespace;
  if (sectionName !== undefined) ref.sectionName = sectionName;
  if (port !== undefined) ref.port = port;
  return ref;
}

function describeSelection(sectionName: string | undefined, port: number | undefined): string {
  const parts = [
    sectionName === undefined ? '' : `named ${sectionName}`,
    port === undefined ? '' : `on port ${port}`,
  ].filter(Boolean);
  return parts.length === 0 ? 'listener' : `listener ${parts.join(' ')}`;
}

/** Attachment to the listeners of one parent (`parent` names it in messages: `Gateway ns/name`, `ListenerSet ns/name`). */
function attachToListeners(
  context: TranslateContext,
  route: AttachingRoute,
  listeners: readonly ListenerNode[],
  parent: string,
  raw: Record<string, unknown>,
): Omit<ParentResult, 'parentRef' | 'gateway'> {
  const sectionName = raw.sectionName === undefined ? undefined : (stringAt(raw.sectionName) ?? '\u0000');
  const port = raw.port === undefined ? undefined : (integerAt(raw.port) ?? -1);
  const selected = listeners.filter(
    (l) => (sectionName === undefined || l.name === sectionName) && (port === undefined || l.port === port),
  );
  if (selected.length === 0) {
    return {
      accepted: routeNoMatchingParent(`${parent} has no ${describeSelection(sectionName, port)}`),
      attachments: [],
    };
  }
  const allowed = selected.filter((l) => allowsRoute(context, l, route.kind, route.namespace));
  if (allowed.length === 0) {
    const names = selected.map((l) => l.name).join(', ');
    return {
      accepted: routeNotAllowedByListeners(
        `Listeners ${names} of ${parent} do not allow ${route.kind}s from namespace ${route.namespace}`,
      ),
      attachments: [],
    };
  }
  const attachments: Attachment[] = [];
  for (const listener of allowed) {
    const hostnames = route.hostnames === undefined ? [] : intersectHostnames(listener.hostname, route.hostnames);
    if (hostnames !== null) attachments.push({ listener, hostnames });
  }
  if (attachments.length === 0) {
    const names = allowed.map((l) => `${l.name} (${l.hostname ?? 'any'})`).join(', ');
    return {
      accepted: routeNoMatchingListenerHostname(
        `No hostname of the route intersects those of listeners ${names} of ${parent}`,
      ),
      attachments: [],
    };
  }
  return { accepted: routeAccepted(), attachments };
}

function attachToListenerSet(
  context: TranslateContext,
  route: AttachingRoute,
  set: ListenerSetNode,
  raw: Record<string, unknown>,
): Omit<ParentResult, 'parentRef' | 'gateway'> {
  if (set.detached !== undefined) {
    return {
      accepted: routeNotAllowedByListeners(
        `ListenerSet ${set.key} is not attached to Gateway ${set.gateway.key}: ${set.detached.message}`,
      ),
      attachments: [],
    };
  }
  return attachToListeners(context, route, set.listeners, `ListenerSet ${set.key}`, raw);
}

/** One result per distinct parentRef that names one of our Gateways (or a ListenerSet of one), in spec order. */
export function resolveParentRefs(
  context: TranslateContext,
  route: AttachingRoute,
  parentRefs: unknown,
  gateways: ReadonlyMap<string, GatewayNode>,
  listenerSets: ReadonlyMap<string, ListenerSetNode> = new Map(),
): ParentResult[] {
  const results: ParentResult[] = [];
  const seen = new Set<string>();
  for (const entry of listAt(parentRefs)) {
    const raw = objectAt(entry);
    // A null field is an absent one, as the API server prunes nulls before defaulting (a file may still hold them).
    const group = raw.group === undefined || raw.group === null ? GATEWAY_GROUP : raw.group;
    const kind = raw.kind === undefined || raw.kind === null ? 'Gateway' : raw.kind;
    const name = nonEmptyString(raw.name);
    const namespace =
      raw.namespace === undefined || raw.namespace === null ? route.namespace : nonEmptyString(raw.namespace);
    if (
      group !== GATEWAY_GROUP ||
      (kind !== 'Gateway' && kind !== 'ListenerSet') ||
      name === undefined ||
      namespace === undefined
    )
      continue;
    const set = kind === 'ListenerSet' ? listenerSets.get(namespacedKey(namespace, name)) : undefined;
    const gateway = kind === 'Gateway' ? gateways.get(namespacedKey(namespace, name)) : set?.gateway;
    if (gateway === undefined) continue;
    const parentRef = echoParentRef(raw, name);
    const identity = JSON.stringify([kind, namespace, name, parentRef.sectionName, parentRef.port]);
    if (seen.has(identity)) continue;
    seen.add(identity);
    const attached =
      set === undefined
        ? attachToListeners(context, route, gateway.listeners, `Gateway ${gateway.key}`, raw)
        : attachToListenerSet(context, route, set, raw);
    results.push({ parentRef, gateway, ...attached });
  }
  if (route.useDefaultGateways === 'All') {
    // GEP-3793: as if each default Gateway were named in parentRefs (its allowedRoutes still decide), in precedence
    // order; one named explicitly already is not attached twice. parentRefs are never written: status tells.
    const defaults = [...gateways.values()]
      .filter((g) => g.defaultScope === 'All')
      .sort((a, b) => comparePrecedence(a.source, b.source));
    for (const gateway of defaults) {
      const raw = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gateway.namespace, name: gateway.name };
      const identity = JSON.stringify(['Gateway', gateway.namespace, gateway.name, undefined, undefined]);
      if (seen.has(identity)) continue;
      seen.add(identity);
      const attached = attachToListeners(context, route, gateway.listeners, `Gateway ${gateway.key}`, raw);
      results.push({ parentRef: echoParentRef(raw, gateway.name), gateway, ...attached });
    }
  }
  return results;
}
