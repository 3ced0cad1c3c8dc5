// Per-generation routing tables of a shard: socket → listeners by hostname → virtual hosts by route hostname.
// Virtual hosts whose set of route records did not change are carried over from the previous generation, so the
// cost of a generation follows the size of the change, not the number of routes.

import type { RecordIndex } from '../../shared/ir/delta.ts';
import type { Listener } from '../../shared/ir/listener.ts';
import type { HttpRoute } from '../../shared/ir/route.ts';
import { socketKey } from '../../shared/validation/references.ts';
import { HostIndex } from './hostnames.ts';
import { compileVirtualHost } from './vhost.ts';
import type { VirtualHost } from './vhost.ts';
import type { TlsMaterial } from './tls-contexts.ts';

export interface CompiledListener {
  key: string;
  listener: Listener;
  /** The scheme clients used to reach this listener (X-Forwarded-Proto, redirects). */
  scheme: 'http' | 'https';
  vhosts: HostIndex<VirtualHost>;
}

export interface SocketTable {
  key: string;
  address: string;
  port: number;
  protocol: Listener['protocol'];
  listeners: HostIndex<CompiledListener>;
  /** The same listeners, in snapshot order (TLS certificate selection walks them). */
  listenerList: CompiledListener[];
  /** Certificates by SNI, for sockets that terminate TLS; filled by the shard after compiling the routes. */
  tls: TlsMaterial | null;
}

interface CachedVirtualHost {
  routes: Set<HttpRoute>;
  vhost: VirtualHost;
}

/** Survives from one generation to the next inside a shard. */
export type VirtualHostCache = Map<string, CachedVirtualHost>;

export interface HttpTables {
  sockets: Map<string, SocketTable>;
  cache: VirtualHostCache;
}

function groupRoutes(index: RecordIndex): Map<string, Map<string, HttpRoute[]>> {
  const byListener = new Map<string, Map<string, HttpRoute[]>>();
  for (const route of index.httpRoutes.values()) {
    for (const parent of route.parents) {
      let byHost = byListener.get(parent.listenerKey);
      if (byHost === undefined) byListener.set(parent.listenerKey, (byHost = new Map()));
      const hostnames = parent.hostnames.length === 0 ? [''] : parent.hostnames;
      for (const host of hostnames) {
        const list = byHost.get(host);
        if (list === undefined) byHost.set(host, [route]);
        else if (list[list.length - 1] !== route) list.push(route);
      }
    }
  }
  return byListener;
}

function sameRoutes(cached: CachedVirtualHost | undefined, routes: HttpRoute[]): cached is CachedVirtualHost {
  if (cached === undefined || cached.routes.size !== routes.length) return false;
  for (const route of routes) if (!cached.routes.has(route)) return false;
  return true;
}

export function compileHttpTables(index: RecordIndex, previous: VirtualHostCache): HttpTables {
  const grouped = groupRoutes(index);
  const cache: VirtualHostCache = new Map();
  const sockets = new Map<string, SocketTable>();
  for (const listener of index.listeners.values()) {
    const key = socketKey(listener);
    let table = sockets.get(key);
    if (table === undefined) {
      table = { key, address: listener.address, port: listener.port, protocol: listener.protocol, listeners: new HostIndex(), listenerList: [], tls: null };
      sockets.set(key, table);
    }
    const compiled: CompiledListener = {
      key: listener.key,
      listener,
      scheme: listener.protocol === 'HTTP' ? 'http' : 'https',
      vhosts: new HostIndex(),
    };
    for (const [host, routes] of grouped.get(listener.key) ?? []) {
      const cacheKey = `${listener.key}\n${host}`;
      const cached = previous.get(cacheKey);
      const entry = sameRoutes(cached, routes) ? cached : { routes: new Set(routes), vhost: compileVirtualHost(routes) };
      cache.set(cacheKey, entry);
      compiled.vhosts.set(host, entry.vhost);
    }
    table.listeners.set(listener.hostname ?? '', compiled);
    table.listenerList.push(compiled);
  }
  return { sockets, cache };
}
