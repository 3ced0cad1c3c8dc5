// Per-generation routing tables of a shard: socket → listeners by hostname → virtual hosts by route hostname.
// Virtual hosts whose set of route records did not change are carried over from the previous generation, and only
// the routes a generation changed are looked at, so the cost of a generation follows the size of the change, not
// the number of routes.

import type { ReadonlyRecordIndex } from '../../shared/ir/delta.ts';
import type { Listener } from '../../shared/ir/listener.ts';
import type { HttpRoute } from '../../shared/ir/route.ts';
import { boundPort, socketKey } from '../../shared/validation/references.ts';
import { HostIndex } from './hostnames.ts';
import { compileVirtualHost, updateVirtualHost } from './vhost.ts';
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

export interface HttpTables {
  sockets: Map<string, SocketTable>;
}

/** Keys of the records a generation changed, by kind (upserted or removed). */
export interface TableChanges {
  httpRoutes: readonly string[];
  streamRoutes: readonly string[];
  listeners: readonly string[];
}

/** The (listener, route hostname) pairs a route is served under; '' for a parent without hostnames. */
function vhostKeysOf(route: HttpRoute): string[] {
  const keys: string[] = [];
  for (const parent of route.parents) {
    for (const host of parent.hostnames.length === 0 ? [''] : parent.hostnames)
      keys.push(`${parent.listenerKey}\n${host}`);
  }
  return keys;
}

/**
 * Compiles the tables of a shard generation after generation, at the cost of what changed: routes are grouped by
 * (listener, hostname), and only the groups a generation touches are compiled again; a listener whose record and
 * groups did not change keeps its compiled form. Every generation gets new socket tables (one per socket: few), so
 * the swap stays atomic; the compiled parts they hold are immutable and shared between generations.
 */
export class HttpTableCompiler {
  /** The routes compiled, by key (the previous generation's records, to find what a changed route leaves). */
  #routes = new Map<string, HttpRoute>();
  /** Routes by `<listener>\n<hostname>`, in the order they arrived. */
  #groups = new Map<string, Map<string, HttpRoute>>();
  #vhosts = new Map<string, VirtualHost>();
  #listeners = new Map<string, CompiledListener>();
  #streams = new Map<string, StreamChoices>();

  /** Tables for `index` from nothing (first load, reload, rollback). */
  load(index: ReadonlyRecordIndex): HttpTables {
    this.#routes = new Map();
    this.#groups = new Map();
    this.#vhosts = new Map();
    this.#listeners = new Map();
    const changes: TableChanges = {
      httpRoutes: [...index.httpRoutes.keys()],
      streamRoutes: [],
      listeners: [...index.listeners.keys()],
    };
    return this.#compile(index, changes, true);
  }

  /** Tables for `index`, which differs from the previous generation's in `changes`. */
  apply(index: ReadonlyRecordIndex, changes: TableChanges): HttpTables {
    return this.#compile(index, changes, false);
  }

  #compile(index: ReadonlyRecordIndex, changes: TableChanges, full: boolean): HttpTables {
    /** Routes that left and came into each (listener, hostname) group. */
    const dirty = new Map<string, { removed: HttpRoute[]; added: HttpRoute[] }>();
    const touch = (vhostKey: string) => {
      let change = dirty.get(vhostKey);
      if (change === undefined) dirty.set(vhostKey, (change = { removed: [], added: [] }));
      return change;
    };
    for (const key of changes.httpRoutes) {
      const before = this.#routes.get(key);
      const after = index.httpRoutes.get(key);
      if (before === after) continue;
      if (before !== undefined) {
        for (const vhostKey of vhostKeysOf(before)) {
          const group = this.#groups.get(vhostKey);
          if (group?.get(key) !== before) continue;
          group.delete(key);
          touch(vhostKey).removed.push(before);
        }
        this.#routes.delete(key);
      }
      if (after !== undefined) {
        for (const vhostKey of vhostKeysOf(after)) {
          let group = this.#groups.get(vhostKey);
          if (group === undefined) this.#groups.set(vhostKey, (group = new Map()));
          if (group.get(key) === after) continue;
          group.set(key, after);
          touch(vhostKey).added.push(after);
        }
        this.#routes.set(key, after);
      }
    }
    const dirtyListeners = new Set<string>(changes.listeners);
    for (const [vhostKey, { removed, added }] of dirty) {
      const group = this.#groups.get(vhostKey);
      const previous = this.#vhosts.get(vhostKey);
      if (group === undefined || group.size === 0) {
        this.#groups.delete(vhostKey);
        this.#vhosts.delete(vhostKey);
      } else if (previous === undefined || removed.length + added.length > group.size / 2) {
        this.#vhosts.set(vhostKey, compileVirtualHost(group.values()));
      } else this.#vhosts.set(vhostKey, updateVirtualHost(previous, removed, added));
      dirtyListeners.add(vhostKey.slice(0, vhostKey.indexOf('\n')));
    }
    if (full || changes.streamRoutes.length > 0 || changes.listeners.length > 0) {
      this.#streams = compileStreamChoices(index);
      for (const key of index.listeners.keys()) dirtyListeners.add(key);
    }
    const listeners = new Map<string, CompiledListener>();
    for (const listener of index.listeners.values()) {
      const previous = this.#listeners.get(listener.key);
      const compiled =
        previous !== undefined && previous.listener === listener && !dirtyListeners.has(listener.key)
          ? previous
          : this.#compileListener(listener, previous, dirty);
      listeners.set(listener.key, compiled);
    }
    this.#listeners = listeners;
    return { sockets: buildSocketTables(index, listeners) };
  }

  /** A listener's compiled form: its virtual hosts as before, with the changed ones (in `dirty`) replaced. */
  #compileListener(
    listener: Listener,
    previous: CompiledListener | undefined,
    dirty: ReadonlyMap<string, unknown>,
  ): CompiledListener {
    const vhosts = new HostIndex<VirtualHost>();
    const prefix = `${listener.key}\n`;
    if (previous === undefined) {
      for (const [vhostKey, vhost] of this.#vhosts)
        if (vhostKey.startsWith(prefix)) vhosts.set(vhostKey.slice(prefix.length), vhost);
    } else {
      for (const [host, vhost] of previous.vhosts.exact) vhosts.exact.set(host, vhost);
      for (const [suffix, vhost] of previous.vhosts.wildcard) vhosts.wildcard.set(suffix, vhost);
      vhosts.any = previous.vhosts.any;
      for (const vhostKey of dirty.keys()) {
        if (!vhostKey.startsWith(prefix)) continue;
        const host = vhostKey.slice(prefix.length);
        const vhost = this.#vhosts.get(vhostKey);
        if (vhost !== undefined) vhosts.set(host, vhost);
        else vhosts.delete(host);
      }
    }
    return {
      key: listener.key,
      listener,
      scheme: listener.protocol === 'HTTP' ? 'http' : 'https',
      vhosts,
      stream:
        listener.protocol === 'HTTP' || listener.protocol === 'HTTPS'
          ? null
          : (this.#streams.get(listener.key) ?? new HostIndex()),
    };
  }
}

function buildSocketTables(
  index: ReadonlyRecordIndex,
  listeners: ReadonlyMap<string, CompiledListener>,
): Map<string, SocketTable> {
  const sockets = new Map<string, SocketTable>();
  for (const listener of index.listeners.values()) {
    const key = socketKey(listener);
    let table = sockets.get(key);
    if (table === undefined) {
      table = {
        key,
        kind: listener.protocol,
        address: listener.address,
        port: boundPort(listener),
        protocol: listener.protocol,
        listeners: new HostIndex(),
        listenerList: [],
        tls: null,
        clientCertificates: false,
      };
      sockets.set(key, table);
    }
    const compiled = listeners.get(listener.key) as CompiledListener;
    table.listeners.set(listener.hostname ?? '', compiled);
    table.listenerList.push(compiled);
    if (listener.protocol === 'TLS') table.kind = 'TLS';
    if (listener.tls?.clientValidation !== undefined) table.clientCertificates = true;
  }
  // The kind is part of the key, so that a socket whose kind changes is replaced rather than mis-served.
  const keyed = new Map<string, SocketTable>();
  for (const table of sockets.values())
    keyed.set(
      (table.key = `${table.key}|${table.kind}${table.clientCertificates ? '+client-certificates' : ''}`),
      table,
    );
  return keyed;
}

/** The tables of one index, from nothing. */
export function compileHttpTables(index: ReadonlyRecordIndex): HttpTables {
  return new HttpTableCompiler().load(index);
}
