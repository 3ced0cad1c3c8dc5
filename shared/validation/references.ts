// Whole-snapshot checks: references between records resolve, and listeners that share a socket can share it.

import type { RecordIndex } from '../ir/delta.ts';
import type { Listener } from '../ir/listener.ts';
import type { HttpFilter, WeightedBackend } from '../ir/route.ts';
import { problem } from './problem.ts';
import type { Problem } from './problem.ts';

/** Listeners with the same socket key are served by one socket in every shard. */
export function socketKey(listener: Pick<Listener, 'protocol' | 'address' | 'port'>): string {
  return `${listener.protocol === 'UDP' ? 'udp' : 'tcp'}:${listener.address}:${listener.port}`;
}

/** Protocols that can share one socket, told apart by hostname (Host header or SNI). */
function socketFamily(protocol: Listener['protocol']): string {
  return protocol === 'HTTPS' || protocol === 'TLS' ? 'tls' : protocol;
}

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

export function validateListenerSockets(index: RecordIndex, out: Problem[]): void {
  const bySocket = new Map<string, Listener[]>();
  const byPort = new Map<string, Set<string>>();
  for (const listener of index.listeners.values()) {
    const key = socketKey(listener);
    const group = bySocket.get(key);
    if (group === undefined) bySocket.set(key, [listener]);
    else group.push(listener);
    const portKey = `${listener.protocol === 'UDP' ? 'udp' : 'tcp'}:${listener.port}`;
    const addresses = byPort.get(portKey) ?? new Set<string>();
    addresses.add(listener.address);
    byPort.set(portKey, addresses);
  }
  for (const group of bySocket.values()) {
    const first = group[0];
    const family = socketFamily(first.protocol);
    const hostnames = new Map<string, string>();
    for (const listener of group) {
      const at = `listeners[${listener.key}]`;
      if (socketFamily(listener.protocol) !== family) {
        out.push(problem('ListenerConflict', `${at}.protocol`, `${at} uses ${listener.protocol} on ${socketKey(listener)}, which ${first.key} uses for ${first.protocol}`));
        continue;
      }
      if ((family === 'TCP' || family === 'UDP') && listener !== first) {
        out.push(problem('ListenerConflict', at, `${at} and ${first.key} both take ${socketKey(listener)}; ${family} listeners cannot share a port`));
        continue;
      }
      const host = listener.hostname ?? '';
      const holder = hostnames.get(host);
      if (holder !== undefined) {
        out.push(problem('ListenerConflict', `${at}.hostname`, `${at} and ${holder} both take hostname "${host || '*'}" on ${socketKey(listener)}`));
      } else hostnames.set(host, listener.key);
    }
  }
  for (const [portKey, addresses] of byPort) {
    if (addresses.size > 1 && [...addresses].some((a) => UNSPECIFIED.has(a))) {
      out.push(problem('ListenerConflict', 'listeners', `port ${portKey} is bound both on an unspecified address and on ${[...addresses].filter((a) => !UNSPECIFIED.has(a)).join(', ')}`));
    }
  }
}

function checkBackendRef(index: RecordIndex, key: string | null, at: string, out: Problem[]): void {
  if (key !== null && !index.backends.has(key)) out.push(problem('UnknownReference', at, `${at} names backend "${key}", which is not in the snapshot`));
}

function checkFilterRefs(index: RecordIndex, filters: HttpFilter[], at: string, out: Problem[]): void {
  filters.forEach((filter, i) => {
    if (filter.type === 'RequestMirror') checkBackendRef(index, filter.backendKey, `${at}[${i}].backendKey`, out);
  });
}

function checkBackends(index: RecordIndex, backends: WeightedBackend[], at: string, out: Problem[]): void {
  backends.forEach((b, i) => {
    checkBackendRef(index, b.backendKey, `${at}[${i}].backendKey`, out);
    if (b.filters) checkFilterRefs(index, b.filters, `${at}[${i}].filters`, out);
  });
}

const HTTP_LISTENERS = new Set(['HTTP', 'HTTPS']);
const STREAM_LISTENERS = new Set(['TCP', 'UDP', 'TLS']);

export function validateReferences(index: RecordIndex, out: Problem[]): void {
  for (const listener of index.listeners.values()) {
    for (const [i, key] of (listener.tls?.certificateKeys ?? []).entries()) {
      if (!index.certificates.has(key)) {
        out.push(problem('UnknownReference', `listeners[${listener.key}].tls.certificateKeys[${i}]`, `listener ${listener.key} names certificate "${key}", which is not in the snapshot`));
      }
    }
  }
  for (const route of index.httpRoutes.values()) {
    const at = `httpRoutes[${route.key}]`;
    route.parents.forEach((parent, i) => {
      const listener = index.listeners.get(parent.listenerKey);
      if (listener === undefined) {
        out.push(problem('UnknownReference', `${at}.parents[${i}]`, `${at} is attached to listener "${parent.listenerKey}", which is not in the snapshot`));
      } else if (!HTTP_LISTENERS.has(listener.protocol)) {
        out.push(problem('InvalidValue', `${at}.parents[${i}]`, `${at} is an HTTP route attached to ${listener.protocol} listener ${listener.key}`));
      }
    });
    route.rules.forEach((rule, r) => {
      checkFilterRefs(index, rule.filters, `${at}.rules[${r}].filters`, out);
      checkBackends(index, rule.backends, `${at}.rules[${r}].backends`, out);
    });
  }
  for (const route of index.streamRoutes.values()) {
    const at = `streamRoutes[${route.key}]`;
    route.parents.forEach((parent, i) => {
      const listener = index.listeners.get(parent.listenerKey);
      if (listener === undefined) {
        out.push(problem('UnknownReference', `${at}.parents[${i}]`, `${at} is attached to listener "${parent.listenerKey}", which is not in the snapshot`));
      } else if (!STREAM_LISTENERS.has(listener.protocol)) {
        out.push(problem('InvalidValue', `${at}.parents[${i}]`, `${at} is a stream route attached to ${listener.protocol} listener ${listener.key}`));
      }
    });
    checkBackends(index, route.backends, `${at}.backends`, out);
  }
  for (const backend of index.backends.values()) {
    const clientKey = backend.tls?.clientCertificateKey;
    if (clientKey !== undefined && !index.certificates.has(clientKey)) {
      out.push(problem('UnknownReference', `backends[${backend.key}].tls.clientCertificateKey`, `backend ${backend.key} names client certificate "${clientKey}", which is not in the snapshot`));
    }
  }
}
