// The console's map: GatewayClasses → Gateways (and ListenerSets) with their listeners → routes with their rules →
// backends (Services) with their endpoints, each object with a state read from its conditions. Built from the
// objects the operator holds and the statuses it computed; pure (no I/O, no clock), so it is tested on plain data.
// Secrets, ConfigMaps and anything else not listed in MAP_KINDS never enter the map: nothing secret reaches the page.

import type { KubeObject } from '../gateway/resources.ts';
import type { StoredStatus } from '../status/status-board.ts';

/** ok: every condition as hoped; warning: part refused or unresolved; error: refused; pending: not yet programmed. */
export type State = 'ok' | 'warning' | 'error' | 'pending' | 'none';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface Card {
  id: string;
  kind: string;
  namespace?: string;
  name: string;
  state: State;
  /** One line: what is wrong (reason: message), or what is right. */
  summary: string;
  spec: unknown;
  status: unknown;
}

export interface ListenerCard {
  name: string;
  protocol: string;
  port: number;
  hostname?: string;
  state: State;
  summary: string;
  attachedRoutes: number;
}

export interface GatewayCard extends Card {
  className: string;
  addresses: string[];
  listeners: ListenerCard[];
}

export interface ListenerSetCard extends Card {
  gateway: string;
  listeners: ListenerCard[];
}

export interface Attachment {
  /** `Gateway/ns/name` or `ListenerSet/ns/name` */
  parent: string;
  sectionName?: string;
  port?: number;
  state: State;
  reason: string;
  message: string;
}

export interface RuleCard {
  name: string;
  matches: string[];
  filters: string[];
  backends: Array<{ service: string; port?: number; weight: number; trafficKey: string }>;
}

export interface RouteCard extends Card {
  hostnames: string[];
  attachments: Attachment[];
  rules: RuleCard[];
  trafficKey: string;
}

export interface BackendCard extends Card {
  ports: Array<{ port: number; name?: string; trafficKey: string }>;
  endpoints: Array<{ address: string; ready: boolean }>;
}

export interface ConsoleMap {
  classes: Card[];
  gateways: GatewayCard[];
  listenerSets: ListenerSetCard[];
  routes: RouteCard[];
  backends: BackendCard[];
  /** ReferenceGrants and policies: shown in the detail list, not in a lane. */
  others: Card[];
  namespaces: string[];
}

const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);
const OTHER_KINDS = new Set([
  'ReferenceGrant',
  'BackendTLSPolicy',
  'XBackendTrafficPolicy',
  'BackendTrafficPolicy',
  'XTelemetryPolicy',
]);

export function idOf(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/** The worst of the conditions: Accepted=False refuses; another False condition warns; Unknown is pending. */
export function stateOf(conditions: readonly Condition[] | undefined): { state: State; summary: string } {
  if (conditions === undefined || conditions.length === 0) return { state: 'pending', summary: 'no status yet' };
  const bad = conditions.filter((c) => c.status !== 'True' && !isPositiveWhenFalse(c.type));
  const badPositive = conditions.filter((c) => c.status === 'True' && isPositiveWhenFalse(c.type));
  const worst = bad.find((c) => c.type === 'Accepted' && c.status === 'False') ?? bad[0] ?? badPositive[0];
  if (worst === undefined) return { state: 'ok', summary: conditions.map((c) => c.type).join(', ') };
  const state: State =
    worst.type === 'Accepted' && worst.status === 'False'
      ? 'error'
      : worst.status === 'Unknown' || worst.reason === 'Pending'
        ? 'pending'
        : 'warning';
  return { state, summary: `${worst.type}=${worst.status} ${worst.reason}: ${worst.message}` };
}

/** Conditions whose good value is False (Conflicted, OverlappingTLSConfig). */
function isPositiveWhenFalse(type: string): boolean {
  return type === 'Conflicted' || type === 'OverlappingTLSConfig';
}

function worse(a: State, b: State): State {
  const order: State[] = ['none', 'ok', 'pending', 'warning', 'error'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}

function card(o: KubeObject, status: StoredStatus | undefined, conditions: Condition[] | undefined): Card {
  const kind = o.kind ?? '';
  const { state, summary } =
    status === undefined ? { state: 'pending' as State, summary: 'no status yet' } : stateOf(conditions);
  return {
    id: idOf(kind, o.metadata?.namespace, o.metadata?.name ?? ''),
    kind,
    namespace: o.metadata?.namespace,
    name: o.metadata?.name ?? '',
    state,
    summary,
    spec: o.spec ?? null,
    status: status?.status ?? null,
  };
}

function listenerCards(o: KubeObject, status: StoredStatus | undefined): ListenerCard[] {
  const statuses = (
    status?.status as { listeners?: Array<{ name: string; attachedRoutes: number; conditions: Condition[] }> }
  )?.listeners;
  return ((o.spec?.listeners ?? []) as Array<{ name: string; protocol: string; port: number; hostname?: string }>).map(
    (l) => {
      const s = statuses?.find((x) => x.name === l.name);
      const { state, summary } =
        s === undefined ? { state: 'pending' as State, summary: 'no status yet' } : stateOf(s.conditions);
      return {
        name: l.name,
        protocol: l.protocol,
        port: l.port,
        hostname: l.hostname,
        state,
        summary,
        attachedRoutes: s?.attachedRoutes ?? 0,
      };
    },
  );
}

function matchText(m: {
  path?: { type?: string; value?: string };
  method?: string;
  headers?: Array<{ name: string; value: string; type?: string }>;
  queryParams?: Array<{ name: string; value: string }>;
}): string {
  const parts: string[] = [];
  if (m.method) parts.push(m.method);
  if (m.path) parts.push(`${m.path.type ?? 'PathPrefix'} ${m.path.value ?? '/'}`);
  for (const h of m.headers ?? [])
    parts.push(`header ${h.name}${h.type === 'RegularExpression' ? '~' : '='}${h.value}`);
  for (const q of m.queryParams ?? []) parts.push(`query ${q.name}=${q.value}`);
  return parts.join(' ') || 'everything';
}

function ruleCards(route: KubeObject): RuleCard[] {
  const ns = route.metadata?.namespace ?? 'default';
  return ((route.spec?.rules ?? []) as Array<Record<string, unknown>>).map((rule, i) => {
    const matches = (rule.matches as Array<Parameters<typeof matchText>[0]> | undefined) ?? [];
    const filters = (rule.filters as Array<{ type: string }> | undefined) ?? [];
    const refs =
      (rule.backendRefs as Array<{
        name: string;
        namespace?: string;
        port?: number;
        weight?: number;
        kind?: string;
      }>) ?? [];
    return {
      name: typeof rule.name === 'string' ? rule.name : `rule ${i + 1}`,
      matches: matches.length === 0 ? ['everything'] : matches.map(matchText),
      filters: filters.map((f) => f.type),
      backends: refs.map((b) => {
        const bns = b.namespace ?? ns;
        return {
          service: idOf(b.kind ?? 'Service', bns, b.name),
          port: b.port,
          weight: b.weight ?? 1,
          trafficKey: `${bns}/${b.name}:${b.port ?? ''}`,
        };
      }),
    };
  });
}

function attachments(route: KubeObject, status: StoredStatus | undefined): Attachment[] {
  const ns = route.metadata?.namespace ?? 'default';
  const parents = (
    status?.status as { parents?: Array<{ parentRef: Record<string, string | number>; conditions: Condition[] }> }
  )?.parents;
  const refs = (route.spec?.parentRefs ?? []) as Array<{
    kind?: string;
    namespace?: string;
    name: string;
    sectionName?: string;
    port?: number;
  }>;
  return refs.map((ref) => {
    const kind = ref.kind ?? 'Gateway';
    const entry = parents?.find(
      (p) =>
        p.parentRef.name === ref.name &&
        (p.parentRef.namespace ?? ns) === (ref.namespace ?? ns) &&
        (p.parentRef.kind ?? 'Gateway') === kind &&
        p.parentRef.sectionName === ref.sectionName &&
        p.parentRef.port === ref.port,
    );
    const { state, summary } =
      entry === undefined ? { state: 'pending' as State, summary: 'no status yet' } : stateOf(entry.conditions);
    const worst = entry?.conditions.find((c) => c.status !== 'True');
    return {
      parent: idOf(kind, ref.namespace ?? ns, ref.name),
      sectionName: ref.sectionName,
      port: ref.port,
      state,
      reason: worst?.reason ?? (state === 'ok' ? 'Accepted' : summary),
      message: worst?.message ?? '',
    };
  });
}

function backendCard(service: KubeObject, slices: KubeObject[]): BackendCard {
  const base = card(service, undefined, undefined);
  const ns = service.metadata?.namespace ?? 'default';
  const endpoints = slices.flatMap((s) =>
    ((s as { endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }).endpoints ?? []).flatMap(
      (e) => e.addresses.map((address) => ({ address, ready: e.conditions?.ready !== false })),
    ),
  );
  const ready = endpoints.filter((e) => e.ready).length;
  const ports = ((service.spec?.ports ?? []) as Array<{ port: number; name?: string }>).map((p) => ({
    port: p.port,
    name: p.name,
    trafficKey: `${ns}/${service.metadata?.name}:${p.port}`,
  }));
  return {
    ...base,
    state: ready > 0 ? 'ok' : 'warning',
    summary: ready > 0 ? `${ready} of ${endpoints.length} endpoints ready` : 'no ready endpoint',
    spec: { type: service.spec?.type, ports: service.spec?.ports, selector: service.spec?.selector },
    status: { endpoints },
    ports,
    endpoints,
  };
}

export function buildMap(objects: Iterable<KubeObject>, statuses: readonly StoredStatus[]): ConsoleMap {
  const statusById = new Map(statuses.map((s) => [idOf(s.kind, s.namespace, s.name), s]));
  const map: ConsoleMap = {
    classes: [],
    gateways: [],
    listenerSets: [],
    routes: [],
    backends: [],
    others: [],
    namespaces: [],
  };
  const namespaces = new Set<string>();
  const services: KubeObject[] = [];
  const slicesByService = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const kind = o.kind ?? '';
    const ns = o.metadata?.namespace;
    const status = statusById.get(idOf(kind, ns, o.metadata?.name ?? ''));
    const conditions = (status?.status as { conditions?: Condition[] } | undefined)?.conditions;
    if (ns !== undefined) namespaces.add(ns);
    if (kind === 'GatewayClass') map.classes.push(card(o, status, conditions));
    else if (kind === 'Gateway') {
      const listeners = listenerCards(o, status);
      const base = card(o, status, conditions);
      const state = listeners.reduce((s, l) => worse(s, l.state === 'error' ? 'warning' : l.state), base.state);
      const broken = listeners.find((l) => l.state !== 'ok');
      map.gateways.push({
        ...base,
        state,
        summary:
          base.state === 'ok' && broken
            ? `${listeners.filter((l) => l.state !== 'ok').length} of ${listeners.length} listeners not ready`
            : base.summary,
        className: o.spec?.gatewayClassName ?? '',
        addresses: ((status?.status as { addresses?: Array<{ value: string }> })?.addresses ?? []).map((a) => a.value),
        listeners,
      });
    } else if (kind === 'ListenerSet' || kind === 'XListenerSet') {
      const parent = o.spec?.parentRef ?? {};
      map.listenerSets.push({
        ...card(o, status, conditions),
        gateway: idOf('Gateway', parent.namespace ?? ns, parent.name ?? ''),
        listeners: listenerCards(o, status),
      });
    } else if (ROUTE_KINDS.has(kind)) {
      const base = card(o, status, conditions);
      const attached = attachments(o, status);
      const accepted = attached.filter((a) => a.state === 'ok').length;
      const refused = attached.find((a) => a.state !== 'ok');
      const state: State =
        attached.length === 0 ? 'error' : refused === undefined ? 'ok' : accepted > 0 ? 'warning' : refused.state;
      map.routes.push({
        ...base,
        state,
        summary:
          refused === undefined
            ? attached.length === 0
              ? 'no parentRefs'
              : 'Accepted'
            : refused.state === 'pending'
              ? 'waiting for a status'
              : `${refused.state === 'error' ? 'refused by' : 'a problem with'} ${attached.length - accepted} of ${attached.length} parents: ${refused.reason}`,
        hostnames: o.spec?.hostnames ?? [],
        attachments: attached,
        rules: ruleCards(o),
        trafficKey: `${ns ?? ''}/${o.metadata?.name ?? ''}`,
      });
    } else if (kind === 'Service') services.push(o);
    else if (kind === 'EndpointSlice') {
      const owner = (o.metadata?.labels as Record<string, string> | undefined)?.['kubernetes.io/service-name'];
      if (owner !== undefined) {
        const key = `${ns}/${owner}`;
        slicesByService.set(key, [...(slicesByService.get(key) ?? []), o]);
      }
    } else if (OTHER_KINDS.has(kind)) {
      const ancestors = (status?.status as { ancestors?: Array<{ conditions: Condition[] }> } | undefined)?.ancestors;
      map.others.push(card(o, status, conditions ?? ancestors?.flatMap((a) => a.conditions)));
    }
  }
  for (const s of services)
    map.backends.push(backendCard(s, slicesByService.get(`${s.metadata?.namespace}/${s.metadata?.name}`) ?? []));
  for (const list of [map.classes, map.gateways, map.listenerSets, map.routes, map.backends, map.others] as Card[][])
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  map.namespaces = [...namespaces].sort();
  return map;
}
