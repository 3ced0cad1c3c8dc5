// Stream routes (TCPRoute, UDPRoute, TLSRoute) compiled per listener: a TCP or UDP listener forwards every
// connection to one route (the lowest rank, i.e. the oldest, when several attach); a TLS listener picks the route
// by the SNI name, exact before wildcard.

import type { ReadonlyRecordIndex } from '../../shared/ir/delta.ts';
import type { StreamRoute } from '../../shared/ir/route.ts';
import { HostIndex } from '../http/hostnames.ts';

export interface CompiledStreamRoute {
  routeKey: string;
  routeName: string;
  rank: number;
  backends: Array<{ backendKey: string | null; weight: number }>;
  totalWeight: number;
}

/** Routes of one listener, by SNI hostname ('' for routes that name none). */
export type StreamChoices = HostIndex<CompiledStreamRoute>;

const compiled = new WeakMap<StreamRoute, CompiledStreamRoute>();

function compile(route: StreamRoute): CompiledStreamRoute {
  let c = compiled.get(route);
  if (c === undefined) {
    const backends = route.backends.map((b) => ({ backendKey: b.backendKey, weight: b.weight }));
    c = {
      routeKey: route.key,
      routeName: `${route.source.namespace}/${route.source.name}`,
      rank: route.rank,
      backends,
      totalWeight: backends.reduce((a, b) => a + b.weight, 0),
    };
    compiled.set(route, c);
  }
  return c;
}

export function compileStreamChoices(index: ReadonlyRecordIndex): Map<string, StreamChoices> {
  const byListener = new Map<string, StreamChoices>();
  for (const route of index.streamRoutes.values()) {
    const c = compile(route);
    for (const parent of route.parents) {
      let choices = byListener.get(parent.listenerKey);
      if (choices === undefined) byListener.set(parent.listenerKey, (choices = new HostIndex()));
      for (const host of parent.hostnames.length === 0 ? [''] : parent.hostnames) {
        const current = choices.get(host);
        if (current === undefined || c.rank < current.rank) choices.set(host, c);
      }
    }
  }
  return byListener;
}

/** A backend reference by weight; null when the route has no usable backend (the connection is refused). */
export function pickStreamBackend(route: CompiledStreamRoute): string | null {
  if (route.totalWeight === 0) return null;
  let point = Math.random() * route.totalWeight;
  for (const b of route.backends) {
    point -= b.weight;
    if (point < 0) return b.backendKey;
  }
  return route.backends[route.backends.length - 1].backendKey;
}
