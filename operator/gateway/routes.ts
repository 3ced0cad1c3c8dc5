// The route pass: every route of a kind this installation supports is translated (its rules into IR rules, its
// parentRefs into attachments), and the listeners it attaches to count it. A route none of whose parentRefs names
// one of our Gateways is not ours: it gets no status and no IR. Each route is translated inside a guard, so that a
// route the translator cannot handle gets a condition saying so and never stops the others.

import { resolveParentRefs } from './attach.ts';
import type { ParentResult } from './attach.ts';
import type { TranslateContext } from './context.ts';
import type { GatewayNode } from './gateway.ts';
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
  return { ...base, rejection: { reason: 'UnsupportedValue', message: `The route could not be translated: ${(error as Error)?.message ?? String(error)}` } };
}

/** Translates one route in a guard; undefined when none of its parentRefs is ours. */
function translateOne<N extends RouteNodeCommon>(
  context: TranslateContext,
  route: KubeObject,
  gateways: ReadonlyMap<string, GatewayNode>,
  build: () => N,
  empty: N,
  hostnamesOf: (node: N) => readonly string[] | undefined,
): { node: N; parents: ParentResult[] } | undefined {
  let node: N;
  try {
    node = build();
  } catch (error) {
    node = failedNode(empty, error);
  }
  let parents: ParentResult[];
  try {
    parents = resolveParentRefs(context, { kind: node.kind, namespace: node.namespace, hostnames: hostnamesOf(node) }, route.spec?.parentRefs, gateways);
  } catch {
    return undefined;
  }
  return parents.length === 0 ? undefined : { node, parents };
}

/** Listeners count each route once, for every parentRef that attached it while the route is accepted there. */
function countAttachments(route: RouteNodeCommon, parents: readonly ParentResult[]): void {
  const counted = new Set<string>();
  for (const parent of parents) {
    if (parentAccepted(route, parent).status !== 'True') continue;
    for (const { listener } of parent.attachments) {
      if (counted.has(listener.key)) continue;
      counted.add(listener.key);
      listener.attachedRoutes++;
    }
  }
}

export function translateRoutes(context: TranslateContext, resources: ResourceSnapshot, gateways: ReadonlyMap<string, GatewayNode>): RoutePassResult {
  const features = context.options.supportedFeatures;
  const result: RoutePassResult = { http: [], stream: [] };
  const httpKinds = [
    ['HTTPRoute', resources.httpRoutes],
    ['GRPCRoute', resources.grpcRoutes],
  ] as const;
  const httpRanks = assignRanks(httpKinds.flatMap(([kind, list]) => (features.has(kind) ? list : [])));
  for (const [kind, list] of httpKinds) {
    if (!features.has(kind)) continue;
    for (const route of list) {
      const empty: HttpRouteNode = { kind, source: route, namespace: namespaceOf(route), name: nameOf(route), hostnames: [], rules: [], dropped: [], refProblems: [] };
      const done = translateOne(context, route, gateways, () => buildHttpRouteNode(context, route, kind), empty, (n) => n.hostnames);
      if (done === undefined) continue;
      countAttachments(done.node, done.parents);
      result.http.push({ ...done, rank: httpRanks.get(route) ?? 0 });
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
      const empty: StreamRouteNode = { kind, source: route, namespace: namespaceOf(route), name: nameOf(route), hostnames: [], dropped: [], backends: [], refProblems: [] };
      const hostnamesOf = (n: StreamRouteNode) => (kind === 'TLSRoute' ? n.hostnames : undefined);
      const done = translateOne(context, route, gateways, () => buildStreamRouteNode(context, route, kind), empty, hostnamesOf);
      if (done === undefined) continue;
      countAttachments(done.node, done.parents);
      result.stream.push({ ...done, rank: streamRanks.get(route) ?? 0 });
    }
  }
  return result;
}
