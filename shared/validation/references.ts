// Whole-snapshot checks: references between records resolve, and listeners that share a socket can share it.

import type { ReadonlyRecordIndex } from '../ir/delta.ts';
import { recordRef } from '../ir/keys.ts';
import type { Listener } from '../ir/listener.ts';
import type { HttpFilter, HttpRoute, StreamRoute, WeightedBackend } from '../ir/route.ts';
import { problem } from './problem.ts';
import type { Problem } from './problem.ts';

/** The port a listener's socket binds (`bindPort` when there is one). */
export function boundPort(listener: Pick<Listener, 'port' | 'bindPort'>): number {
  return listener.bindPort ?? listener.port;
}

/** Listeners with the same socket key are served by one socket in every shard. */
export function socketKey(listener: Pick<Listener, 'protocol' | 'address' | 'port' | 'bindPort'>): string {
  return `${listener.protocol === 'UDP' ? 'udp' : 'tcp'}:${listener.address}:${boundPort(listener)}`;
}

/** Protocols that can share one socket, told apart by hostname (Host header or SNI). */
function socketFamily(protocol: Listener['protocol']): string {
  return protocol === 'HTTPS' || protocol === 'TLS' ? 'tls' : protocol;
}

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

export function validateListenerSockets(index: ReadonlyRecordIndex, out: Problem[]): void {
  const bySocket = new Map<string, Listener[]>();
  const byPort = new Map<string, Set<string>>();
  for (const listener of index.listeners.values()) {
    const key = socketKey(listener);
    const group = bySocket.get(key);
    if (group === undefined) bySocket.set(key, [listener]);
    else group.push(listener);
    const portKey = `${listener.protocol === 'UDP' ? 'udp' : 'tcp'}:${boundPort(listener)}`;
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
        out.push(
          problem(
            'ListenerConflict',
            `${at}.protocol`,
            `${at} uses ${listener.protocol} on ${socketKey(listener)}, which ${first.key} uses for ${first.protocol}`,
          ),
        );
        continue;
      }
      if ((family === 'TCP' || family === 'UDP') && listener !== first) {
        out.push(
          problem(
            'ListenerConflict',
            at,
            `${at} and ${first.key} both take ${socketKey(listener)}; ${family} listeners cannot share a port`,
          ),
        );
        continue;
      }
      const host = listener.hostname ?? '';
      const holder = hostnames.get(host);
      if (holder !== undefined) {
        out.push(
          problem(
            'ListenerConflict',
            `${at}.hostname`,
            `${at} and ${holder} both take hostname "${host || '*'}" on ${socketKey(listener)}`,
          ),
        );
      } else hostnames.set(host, listener.key);
    }
  }
  for (const [portKey, addresses] of byPort) {
    if (addresses.size > 1 && [...addresses].some((a) => UNSPECIFIED.has(a))) {
      out.push(
        problem(
          'ListenerConflict',
          'listeners',
          `port ${portKey} is bound both on an unspecified address and on ${[...addresses].filter((a) => !UNSPECIFIED.has(a)).join(', ')}`,
        ),
      );
    }
  }
}

function validateBackendRef(index: ReadonlyRecordIndex, key: string | null, at: string, out: Problem[]): void {
  if (key !== null && !index.backends.has(key))
    out.push(problem('UnknownReference', at, `${at} names backend "${key}", which is not in the snapshot`));
}

function validateFilterRefs(index: ReadonlyRecordIndex, filters: HttpFilter[], at: string, out: Problem[]): void {
  filters.forEach((filter, i) => {
    if (filter.type === 'RequestMirror' || filter.type === 'ExternalAuth')
      validateBackendRef(index, filter.backendKey, `${at}[${i}].backendKey`, out);
  });
}

function validateBackends(index: ReadonlyRecordIndex, backends: WeightedBackend[], at: string, out: Problem[]): void {
  backends.forEach((b, i) => {
    validateBackendRef(index, b.backendKey, `${at}[${i}].backendKey`, out);
    if (b.filters) validateFilterRefs(index, b.filters, `${at}[${i}].filters`, out);
  });
}

const HTTP_LISTENERS = new Set(['HTTP', 'HTTPS']);
const STREAM_LISTENERS = new Set(['TCP', 'UDP', 'TLS']);

/** Record kinds whose records refer to other records. */
export type ReferringKind = 'listeners' | 'httpRoutes' | 'streamRoutes' | 'backends';
export const REFERRING_KINDS: readonly ReferringKind[] = ['listeners', 'httpRoutes', 'streamRoutes', 'backends'];

function validateParents(
  index: ReadonlyRecordIndex,
  route: HttpRoute | StreamRoute,
  at: string,
  allowed: ReadonlySet<string>,
  what: string,
  out: Problem[],
): void {
  route.parents.forEach((parent, i) => {
    const listener = index.listeners.get(parent.listenerKey);
    if (listener === undefined) {
      out.push(
        problem(
          'UnknownReference',
          `${at}.parents[${i}]`,
          `${at} is attached to listener "${parent.listenerKey}", which is not in the snapshot`,
        ),
      );
    } else if (!allowed.has(listener.protocol)) {
      out.push(
        problem(
          'InvalidValue',
          `${at}.parents[${i}]`,
          `${at} is ${what} attached to ${listener.protocol} listener ${listener.key}`,
        ),
      );
    }
  });
}

/** The reference checks of one record (well-formed, see records.ts) against the index it belongs to. */
export function validateRecordReferences(
  index: ReadonlyRecordIndex,
  kind: ReferringKind,
  // biome-ignore lint/suspicious/noExplicitAny: a record from the wire, already checked for shape by records.ts
  record: any,
  out: Problem[],
): void {
  switch (kind) {
    case 'listeners': {
      const listener = record as Listener;
      for (const [i, key] of (listener.tls?.certificateKeys ?? []).entries()) {
        if (!index.certificates.has(key)) {
          out.push(
            problem(
              'UnknownReference',
              `listeners[${listener.key}].tls.certificateKeys[${i}]`,
              `listener ${listener.key} names certificate "${key}", which is not in the snapshot`,
            ),
          );
        }
      }
      const clientKey = listener.backendClientCertificateKey;
      if (clientKey !== undefined && !index.certificates.has(clientKey)) {
        out.push(
          problem(
            'UnknownReference',
            `listeners[${listener.key}].backendClientCertificateKey`,
            `listener ${listener.key} names backend client certificate "${clientKey}", which is not in the snapshot`,
          ),
        );
      }
      (listener.externalAuth ?? []).forEach((auth, i) =>
        validateBackendRef(index, auth.backendKey, `listeners[${listener.key}].externalAuth[${i}].backendKey`, out),
      );
      return;
    }
    case 'httpRoutes': {
      const route = record as HttpRoute;
      const at = `httpRoutes[${route.key}]`;
      validateParents(index, route, at, HTTP_LISTENERS, 'an HTTP route', out);
      route.rules.forEach((rule, r) => {
        validateFilterRefs(index, rule.filters, `${at}.rules[${r}].filters`, out);
        validateBackends(index, rule.backends, `${at}.rules[${r}].backends`, out);
      });
      return;
    }
    case 'streamRoutes': {
      const route = record as StreamRoute;
      const at = `streamRoutes[${route.key}]`;
      validateParents(index, route, at, STREAM_LISTENERS, 'a stream route', out);
      validateBackends(index, route.backends, `${at}.backends`, out);
      return;
    }
    case 'backends':
      // A backend refers to nothing: the client certificate it is reached with is the listener's.
      return;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** What a record refers to, as `<kind>|<key>` (for an index of referrers: who must be checked again when a target goes). */
// biome-ignore lint/suspicious/noExplicitAny: a record from the wire, already checked for shape by records.ts
export function referencesOf(kind: ReferringKind, record: any): string[] {
  const out: string[] = [];
  const backendsOf = (backends: WeightedBackend[], filters: HttpFilter[]) => {
    for (const f of filters)
      if (f.type === 'RequestMirror' || f.type === 'ExternalAuth') out.push(recordRef('backends', f.backendKey));
    for (const b of backends) {
      if (b.backendKey !== null) out.push(recordRef('backends', b.backendKey));
      for (const f of b.filters ?? [])
        if (f.type === 'RequestMirror' || f.type === 'ExternalAuth') out.push(recordRef('backends', f.backendKey));
    }
  };
  switch (kind) {
    case 'listeners': {
      for (const key of (record as Listener).tls?.certificateKeys ?? []) out.push(recordRef('certificates', key));
      const clientKey = (record as Listener).backendClientCertificateKey;
      if (clientKey !== undefined) out.push(recordRef('certificates', clientKey));
      for (const auth of (record as Listener).externalAuth ?? [])
        if (auth.backendKey !== null) out.push(recordRef('backends', auth.backendKey));
      break;
    }
    case 'httpRoutes':
      for (const parent of (record as HttpRoute).parents) out.push(recordRef('listeners', parent.listenerKey));
      for (const rule of (record as HttpRoute).rules) backendsOf(rule.backends, rule.filters);
      break;
    case 'streamRoutes':
      for (const parent of (record as StreamRoute).parents) out.push(recordRef('listeners', parent.listenerKey));
      backendsOf((record as StreamRoute).backends, []);
      break;
  }
  return out;
}

export function validateReferences(index: ReadonlyRecordIndex, out: Problem[]): void {
  for (const listener of index.listeners.values()) validateRecordReferences(index, 'listeners', listener, out);
  for (const route of index.httpRoutes.values()) validateRecordReferences(index, 'httpRoutes', route, out);
  for (const route of index.streamRoutes.values()) validateRecordReferences(index, 'streamRoutes', route, out);
  for (const backend of index.backends.values()) validateRecordReferences(index, 'backends', backend, out);
}
