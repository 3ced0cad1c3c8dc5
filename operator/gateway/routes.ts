// The route pass: every route of a kind this installation supports is translated (its rules into IR rules, its
// parentRefs into attachments), and the listeners it attaches to count it. A route none of whose parentRefs names
// one of our Gateways is not ours: it gets no status and no IR. Each route is translated inside a guard, so that a
// route the translator cannot handle gets a condition saying so and never stops the others.

import { resolveParentRefs } from './attach.ts';
import type { ParentResult } from './attach.ts';
import type { TranslateContext } from './context.ts';
import type { GatewayNode } from './gateway.ts';
import type { ListenerNode } from './listener.ts';
import { listenerSetsOf } from './listenerset.ts';
import type { ListenerSetNode } from './listenerset.ts';
import { buildHttpRouteNode } from './httproute.ts';
import type { HttpRouteNode } from './httproute.ts';
import { parentAccepted } from './route-status.ts';
import type { RouteNodeCommon } from './route-status.ts';
import { comparePrecedence, createdAt, nameOf, namespaceOf } from './resources.ts';
import type { KubeObject, ResourceSnapshot } from './resources.ts';
import { buildStreamRouteNode } from './streamroute.ts';
import type { StreamRouteKind, StreamRouteNode } from './streamroute.ts';

export interface TranslatedRoute<N extends RouteNodeCommon> {
  node: N;
  parents: ParentResult[];
  /** IR rank: precedence among routes that can share a listener (lower wins). */
  rank: number;
}

export interface RoutePassResult {
  http: TranslatedRoute<HttpRouteNode>[];
  stream: TranslatedRoute<StreamRouteNode>[];
}

/**
 * Ranks that follow Gateway API precedence (older first, then namespace/name) and stay put when unrelated routes come
 * and go, so that deltas stay small: the creation second, with routes created in the same second spread over
 * [second, second + 1) in namespace/name order.
 */
export function assignRanks(routes: readonly KubeObject[]): Map<KubeObject, number> {
  const sorted = [...routes].sort(comparePrecedence);
  const ranks = new Map<KubeObject, number>();
  let start = 0;
  while (start < sorted.length) {
    const second = Math.floor(createdAt(sorted[start]) / 1000);
    let end = start;
    while (end < sorted.length && Math.floor(createdAt(sorted[end]) / 1000) === second) end++;
    for (let i = start; i < end; i++) ranks.set(sorted[i], second + (i - start) / (end - start));
    start = end;
  }
  return ranks;
}

function failedNode<N extends RouteNodeCommon>(base: N, error: unknown): N {
  return {
    ...base,
    rejection: {
      reason: 'UnsupportedValue',
      message: `The route could not be translated: ${(error as Error)?.message ?? String(error)}`,
    },
  };
}

export const HTTP_ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'] as const;
export const STREAM_ROUTE_KINDS = ['TLSRoute', 'TCPRoute', 'UDPRoute'] as const;
export type HttpRouteKind = (typeof HTTP_ROUTE_KINDS)[number];
export type RouteNode = HttpRouteNode | StreamRouteNode;

export function isHttpRouteKind(kind: string): kind is HttpRouteKind {
  return kind === 'HTTPRoute' || kind === 'GRPCRoute';
}

/** The node of one route, built in a guard: a route the translator cannot handle gets a condition saying so. */
export function buildRouteNode(
  context: TranslateContext,
  route: KubeObject,
  kind: HttpRouteKind | StreamRouteKind,
): RouteNode {
  const base = {
    source: route,
    namespace: namespaceOf(route),
    name: nameOf(route),
    hostnames: [],
    dropped: [],
    refProblems: [],
  };
  if (isHttpRouteKind(kind)) {
    const backendTlsPorts = new Set<string>();
    try {
      // The node's own view of the context, to collect the Service ports a BackendTLSPolicy targets.
      const node = buildHttpRouteNode({ ...context, backendTlsPorts }, route, kind);
      node.backendTlsPorts = [...backendTlsPorts].sort();
      return node;
    } catch (error) {
      return failedNode<HttpRouteNode>({ ...base, kind, rules: [], backendTlsPorts: [] }, error);
    }
  }
  try {
    return buildStreamRouteNode(context, route, kind);
  } catch (error) {
    return failedNode<StreamRouteNode>({ ...base, kind, backends: [] }, error);
  }
}

/** The route's parent results; undefined when none of its parentRefs is ours (it then gets no status and no IR). */
export function attachRoute(
  context: TranslateContext,
  route: KubeObject,
  node: RouteNode,
  gateways: ReadonlyMap<string, GatewayNode>,
  listenerSets?: ReadonlyMap<string, ListenerSetNode>,
): ParentResult[] | undefined {
  // Only HTTP kinds and TLSRoute have hostnames; TCP and UDP routes take whatever the listener accepts.
  const hostnames = node.kind === 'TCPRoute' || node.kind === 'UDPRoute' ? undefined : node.hostnames;
  let parents: ParentResult[];
  try {
    parents = resolveParentRefs(
      context,
      { kind: node.kind, namespace: node.namespace, hostnames },
      route.spec?.parentRefs,
      gateways,
      listenerSets,
    );
  } catch {
    return undefined;
  }
  return parents.length === 0 ? undefined : parents;
}

/** The listeners that count the route in attachedRoutes: once each, for every parentRef that attached it while it is accepted there. */
export function countedListeners(route: RouteNodeCommon, parents: readonly ParentResult[]): ListenerNode[] {
  const counted = new Map<string, ListenerNode>();
  for (const parent of parents) {
    if (parentAccepted(route, parent).status !== 'True') continue;
    for (const { listener } of parent.attachments) if (!counted.has(listener.key)) counted.set(listener.key, listener);
  }
  return [...counted.values()];
}

export function translateRoutes(
  context: TranslateContext,
  resources: ResourceSnapshot,
  gateways: ReadonlyMap<string, GatewayNode>,
  listenerSets?: ReadonlyMap<string, ListenerSetNode>,
): RoutePassResult {
  const features = context.options.supportedFeatures;
  listenerSets ??= listenerSetsOf(gateways.values());
  const result: RoutePassResult = { http: [], stream: [] };
  const httpKinds = [
    ['HTTPRoute', resources.httpRoutes],
    ['GRPCRoute', resources.grpcRoutes],
  ] as const;
  const httpRanks = assignRanks(httpKinds.flatMap(([kind, list]) => (features.has(kind) ? list : [])));
  for (const [kind, list] of httpKinds) {
    if (!features.has(kind)) continue;
    for (const route of list) {
      const node = buildRouteNode(context, route, kind) as HttpRouteNode;
      const parents = attachRoute(context, route, node, gateways, listenerSets);
      if (parents === undefined) continue;
      for (const listener of countedListeners(node, parents)) listener.attachedRoutes++;
      result.http.push({ node, parents, rank: httpRanks.get(route) ?? 0 });
    }
  }
  const streamKinds: ReadonlyArray<readonly [StreamRouteKind, readonly KubeObject[]]> = [
    ['TLSRoute', resources.tlsRoutes],
    ['TCPRoute', resources.tcpRoutes],
    ['UDPRoute', resources.udpRoutes],
  ];
  const streamRanks = assignRanks(streamKinds.flatMap(([kind, list]) => (features.has(kind) ? list : [])));
  for (const [kind, list] of streamKinds) {
    if (!features.has(kind)) continue;
    for (const route of list) {
      const node = buildRouteNode(context, route, kind) as StreamRouteNode;
      const parents = attachRoute(context, route, node, gateways, listenerSets);
      if (parents === undefined) continue;
      for (const listener of countedListeners(node, parents)) listener.attachedRoutes++;
      result.stream.push({ node, parents, rank: streamRanks.get(route) ?? 0 });
    }
  }
  return result;
}
