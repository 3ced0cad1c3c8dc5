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
import { compileStreamChoices } from '../l4/stream-tables.ts';
import type { StreamChoices } from '../l4/stream-tables.ts';

export interface CompiledListener {
  key: string;
  listener: Listener;
  /** The scheme clients used to reach this listener (X-Forwarded-Proto, redirects). */
  scheme: 'http' | 'https';
  vhosts: HostIndex<VirtualHost>;
  /** TCP, UDP and TLS listeners: their stream routes (null for HTTP and HTTPS listeners). */
  stream: StreamChoices | null;
}

/**
 * What serves a socket: HTTP, HTTPS (TLS + HTTP), TLS (ClientHello first; HTTPS and TLS listeners may share it),
 * TCP, UDP. Part of the socket's identity: when it changes, a new socket opens beside the old one, which drains.
 */
export type SocketKind = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

export interface SocketTable {
  key: string;
  kind: SocketKind;
  address: string;
  port: number;
  protocol: Listener['protocol'];
  listeners: HostIndex<CompiledListener>;
  /** The same listeners, in snapshot order (TLS certificate selection walks them). */
  listenerList: CompiledListener[];
  /** Certificates by SNI, for sockets that terminate TLS; filled by the shard after compiling the routes. */
  tls: TlsMaterial | null;
  /** Some listener on this socket validates client certificates: the TLS server asks every client for one. */
  clientCertificates: boolean;
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
  const streams = compileStreamChoices(index);
  const cache: VirtualHostCache = new Map();
  const sockets = new Map<string, SocketTable>();
  for (const listener of index.listeners.values()) {
    const key = socketKey(listener);
    let table = sockets.get(key);
    if (table === undefined) {
      table = { key, kind: listener.protocol, address: listener.address, port: listener.port, protocol: listener.protocol, listeners: new HostIndex(), listenerList: [], tls: null, clientCertificates: false };
      sockets.set(key, table);
    }
    const compiled: CompiledListener = {
      key: listener.key,
      listener,
      scheme: listener.protocol === 'HTTP' ? 'http' : 'https',
      vhosts: new HostIndex(),
      stream: listener.protocol === 'HTTP' || listener.protocol === 'HTTPS' ? null : (streams.get(listener.key) ?? new HostIndex()),
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
    if (listener.protocol === 'TLS') table.kind = 'TLS';
    if (listener.tls?.clientValidation !== undefined) table.clientCertificates = true;
  }
  // The kind is part of the key, so that a socket whose kind changes is replaced rather than mis-served.
  const keyed = new Map<string, SocketTable>();
  for (const table of sockets.values()) keyed.set((table.key = `${table.key}|${table.kind}${table.clientCertificates ? '+client-certificates' : ''}`), table);
  return { sockets: keyed, cache };
}
