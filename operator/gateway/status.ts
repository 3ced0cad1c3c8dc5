// Status objects in the exact Gateway API shape, and the pure helpers the status writer needs around them: keep a
// condition's lastTransitionTime while it does not change, keep other controllers' conditions and route parent
// entries, and tell a no-op write from a real one. No I/O here.

import type { Condition } from './conditions.ts';

export interface RouteGroupKind {
  group: string;
  kind: string;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  conditions: Condition[];
  addresses: Array<{ type: string; value: string }>;
  listeners: ListenerStatus[];
  /** ListenerSets attached (Accepted=True); present when the Gateway admits some (`spec.allowedListeners`). */
  attachedListenerSets?: number;
}

/** A ListenerSet's status: its conditions and one entry per listener (`ListenerEntryStatus`, the listener shape). */
export interface ListenerSetStatus {
  conditions: Condition[];
  listeners: ListenerStatus[];
}

export interface GatewayClassStatus {
  conditions: Condition[];
  supportedFeatures: Array<{ name: string }>;
}

/** A route's `spec.parentRefs[]` entry, echoed as written (only the fields Gateway API defines). */
export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface RouteStatus {
  parents: RouteParentStatus[];
}

/** `PolicyAncestorStatus`: the policy's status as seen from one ancestor (for BackendTLSPolicy: a Gateway). */
export interface PolicyAncestorStatus {
  ancestorRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface PolicyStatus {
  ancestors: PolicyAncestorStatus[];
}

/** Gateway API caps `status.ancestors` at 16 entries (all controllers together). */
export const MAX_POLICY_ANCESTORS = 16;

export type ObjectStatus =
  | { kind: 'GatewayClass'; apiVersion: string; name: string; generation: number; status: GatewayClassStatus }
  | { kind: 'Gateway'; apiVersion: string; namespace: string; name: string; generation: number; status: GatewayStatus }
  | {
      kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
      apiVersion: string;
      namespace: string;
      name: string;
      generation: number;
      status: RouteStatus;
    }
  | {
      kind: 'BackendTLSPolicy';
      apiVersion: string;
      namespace: string;
      name: string;
      generation: number;
      status: PolicyStatus;
    }
  | {
      kind: 'XTelemetryPolicy';
      apiVersion: string;
      namespace: string;
      name: string;
      generation: number;
      status: PolicyStatus;
    }
  | {
      kind: 'XBackendTrafficPolicy';
      apiVersion: string;
      namespace: string;
      name: string;
      generation: number;
      status: PolicyStatus;
    }
  | {
      kind: 'ListenerSet';
      apiVersion: string;
      namespace: string;
      name: string;
      generation: number;
      status: ListenerSetStatus;
    };

/** Condition types this controller writes; a previous condition of any other type belongs to someone else. */
export const OWN_CONDITION_TYPES: ReadonlySet<string> = new Set([
  'Accepted',
  'Programmed',
  'ResolvedRefs',
  'Conflicted',
  'OverlappingTLSConfig',
  'SupportedVersion',
  'PartiallyInvalid',
  'InsecureFrontendValidationMode',
  'AddressesAssigned',
  'DefaultGateway',
]);

/**
 * The conditions to write: `next`, except that a condition whose type, status, reason and message did not change
 * keeps its previous lastTransitionTime. Conditions of types this controller does not write stay where they were;
 * those it writes but no longer sets (e.g. PartiallyInvalid after a fix) are removed.
 */
export function mergeConditions(previous: readonly Condition[] | undefined, next: readonly Condition[]): Condition[] {
  const nextByType = new Map(next.map((c) => [c.type, c]));
  const out: Condition[] = [];
  const placed = new Set<string>();
  for (const old of previous ?? []) {
    const fresh = nextByType.get(old.type);
    if (fresh === undefined) {
      if (!OWN_CONDITION_TYPES.has(old.type)) out.push(old);
      continue;
    }
    placed.add(old.type);
    const same = old.status === fresh.status && old.reason === fresh.reason && old.message === fresh.message;
    out.push(same ? { ...fresh, lastTransitionTime: old.lastTransitionTime } : fresh);
  }
  for (const fresh of next) if (!placed.has(fresh.type)) out.push(fresh);
  return out;
}

function sameParentRef(a: ParentReference, b: ParentReference): boolean {
  return (
    (a.group ?? 'gateway.networking.k8s.io') === (b.group ?? 'gateway.networking.k8s.io') &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    a.name === b.name &&
    (a.sectionName ?? '') === (b.sectionName ?? '') &&
    (a.port ?? 0) === (b.port ?? 0)
  );
}

interface SharedEntry {
  controllerName: string;
  conditions: Condition[];
}

/**
 * A list shared between controllers (route `parents`, policy `ancestors`), keyed by a reference and the controller.
 * Entries keep their places (a reordering alone would make every write look like a change): other controllers'
 * entries as they are, ours replaced where they were or dropped, new ones appended (up to `limit` entries in all).
 */
function mergeShared<E extends SharedEntry>(
  old: unknown,
  fresh: readonly E[],
  same: (a: E, b: E) => boolean,
  controllerName: string,
  limit = Infinity,
): E[] {
  const remaining = [...fresh];
  const out: E[] = [];
  for (const entry of Array.isArray(old) ? (old as E[]) : []) {
    if (entry?.controllerName !== controllerName) {
      out.push(entry);
      continue;
    }
    const i = remaining.findIndex((p) => same(entry, p));
    if (i === -1) continue;
    const [mine] = remaining.splice(i, 1);
    out.push({ ...mine, conditions: mergeConditions(entry.conditions, mine.conditions) });
  }
  for (const entry of remaining) if (out.length < limit) out.push(entry);
  return out;
}

/**
 * The whole status to write for one object, given what is on the object now (`previous`, possibly absent or written
 * by someone else) and what the translator computed (`next`). Route parents and policy ancestors of other
 * controllers are kept as they are; ours are replaced (and dropped when the translator no longer reports them).
 */
// biome-ignore lint/suspicious/noExplicitAny: the stored status is whatever the API server holds; read field by field
export function mergeStatus(previous: any, next: ObjectStatus, controllerName: string): ObjectStatus['status'] {
  switch (next.kind) {
    case 'GatewayClass':
      return { ...next.status, conditions: mergeConditions(previous?.conditions, next.status.conditions) };
    case 'Gateway':
    case 'ListenerSet': {
      const oldListeners = new Map<string, ListenerStatus>(
        (Array.isArray(previous?.listeners) ? previous.listeners : []).map((l: ListenerStatus) => [l?.name, l]),
      );
      return {
        ...next.status,
        conditions: mergeConditions(previous?.conditions, next.status.conditions),
        listeners: next.status.listeners.map((l) => ({
          ...l,
          conditions: mergeConditions(oldListeners.get(l.name)?.conditions, l.conditions),
        })),
      };
    }
    case 'BackendTLSPolicy':
    case 'XTelemetryPolicy':
    case 'XBackendTrafficPolicy': {
      const same = (a: PolicyAncestorStatus, b: PolicyAncestorStatus) =>
        a.ancestorRef !== undefined && sameParentRef(a.ancestorRef, b.ancestorRef);
      return {
        ancestors: mergeShared(previous?.ancestors, next.status.ancestors, same, controllerName, MAX_POLICY_ANCESTORS),
      };
    }
    default: {
      const same = (a: RouteParentStatus, b: RouteParentStatus) =>
        a.parentRef !== undefined && sameParentRef(a.parentRef, b.parentRef);
      return { parents: mergeShared(previous?.parents, next.status.parents, same, controllerName) };
    }
  }
}

/** Deep equality of two JSON values, ignoring key order: a write whose status equals what is there is skipped. */
export function statusEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => statusEquals(item, other[i]));
  }
  const left = Object.entries(a as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const right = b as Record<string, unknown>;
  const rightCount = Object.values(right).filter((v) => v !== undefined).length;
  return left.length === rightCount && left.every(([k, v]) => statusEquals(v, right[k]));
}

const KIND_ORDER = [
  'GatewayClass',
  'Gateway',
  'ListenerSet',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'UDPRoute',
  'BackendTLSPolicy',
  'XTelemetryPolicy',
  'XBackendTrafficPolicy',
];

/** The order of `TranslateResult.statuses`: by kind (classes, Gateways, routes, policies), then namespace/name. */
export function compareStatuses(a: ObjectStatus, b: ObjectStatus): number {
  const byKind = KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind);
  if (byKind !== 0) return byKind;
  const left = `${'namespace' in a ? a.namespace : ''}/${a.name}`;
  const right = `${'namespace' in b ? b.namespace : ''}/${b.name}`;
  return left < right ? -1 : left > right ? 1 : 0;
}
