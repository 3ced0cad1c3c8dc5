// The route pass: every route of a kind this installation supports is translated (its rules into IR rules, its
// parentRefs into attachments), and the listeners it attaches to count it. A route none of whose parentRefs names
// one of our Gateways is not ours: it gets no status and no IR. Each route is translated inside a guard, so that a
// route the translator cannot handle gets a condition saying so and never stops the others.

import { resolveParentRefs } from './attach.ts';
import type { ParentResult } from './attach.ts';
import type { TranslateContext } from '../context.ts';
import type { GatewayNode } from '../gateways/gateway.ts';
import type { ListenerNode } from '../gateways/listener.ts';
import type { ListenerSetNode } from '../gateways/listenerset.ts';
import { buildHttpRouteNode } from './httproute.ts';
import type { HttpRouteNode } from './httproute.ts';
import { parentAccepted } from './route-status.ts';
import type { RouteNodeCommon } from './route-status.ts';
import { nameOf, namespaceOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import { buildStreamRouteNode } from './streamroute.ts';
import type { StreamRouteKind, StreamRouteNode } from './streamroute.ts';

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
    resolvedBackends: new Map(),
  };
  if (isHttpRouteKind(kind)) {
    try {
      return buildHttpRouteNode(context, route, kind);
    } catch (error) {
      return failedNode<HttpRouteNode>({ ...base, kind, rules: [], backendTlsPorts: [] }, error);
    }
  }
  try {
    return buildStreamRouteNode(context, route, kind);
  } catch (error) {
    return failedNode<StreamRouteNode>({ ...base, kind, backends: [], backendTlsPorts: [] }, error);
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
      { kind: node.kind, namespace: node.namespace, hostnames, useDefaultGateways: route.spec?.useDefaultGateways },
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
