// IR assembly: the records the data plane gets, from the nodes the passes built. A listener goes in when it and
// its Gateway can be served; a route when it is accepted by at least one listener that went in; a backend or a
// certificate when something that went in refers to it. Records are sorted by key, so equal input gives equal output.
// Last, the IR is validated with the data plane's own validator; a record it refuses is a translator bug, so it is
// taken out (and reported in `dropped`) rather than letting the data plane NACK the whole generation.

import type { CertificateRecord, Listener, ListenerTls } from '../../../shared/ir/listener.ts';
import { indexSnapshot } from '../../../shared/ir/delta.ts';
import { routeKey } from '../../../shared/ir/keys.ts';
import type { HttpFilter, HttpRoute, RouteAttachment, StreamRoute, WeightedBackend } from '../../../shared/ir/route.ts';
import { IR_VERSION, RECORD_KINDS, emptyRecords } from '../../../shared/ir/snapshot.ts';
import type { RecordKind, SnapshotRecords } from '../../../shared/ir/snapshot.ts';
import type { Problem } from '../../../shared/validation/problem.ts';
import { validateIndex } from '../../../shared/validation/snapshot.ts';
import type { ParentResult } from '../routes/attach.ts';
import { isGatewayServable } from '../gateways/gateway.ts';
import type { GatewayNode } from '../gateways/gateway.ts';
import { isListenerServable } from '../gateways/listener.ts';
import type { ListenerNode } from '../gateways/listener.ts';
import { parentAccepted } from '../routes/route-status.ts';
import type { RouteNodeCommon } from '../routes/route-status.ts';
import type { HttpRouteNode } from '../routes/httproute.ts';
import { boundListeners } from '../gateways/listenerset.ts';
import type { BackendSpec } from '../backends/backend.ts';
import type { StreamRouteNode } from '../routes/streamroute.ts';

export function listenerRecord(gateway: GatewayNode, listener: ListenerNode, address: string): Listener {
  const record: Listener = {
    key: listener.key,
    source:
      listener.owner === undefined
        ? { kind: 'Gateway', namespace: gateway.namespace, name: gateway.name, section: listener.name }
        : {
            kind: 'ListenerSet',
            namespace: listener.owner.namespace,
            name: listener.owner.name,
            section: listener.name,
          },
    address,
    port: listener.port,
    protocol: listener.protocol,
  };
  const bindPort = gateway.address?.bindPorts?.get(listener.port);
  if (bindPort !== undefined) record.bindPort = bindPort;
  if (listener.hostname !== undefined) record.hostname = listener.hostname;
  if (listener.tlsMode !== undefined) {
    const tls: ListenerTls = { mode: listener.tlsMode, certificateKeys: listener.certificates.map((c) => c.key) };
    if (listener.clientValidation !== undefined) tls.clientValidation = listener.clientValidation;
    if (listener.tlsOptions !== undefined) tls.options = listener.tlsOptions;
    record.tls = tls;
  }
  // Gateway `spec.tls.backend.clientCertificateRef`, when it resolved: every listener of the Gateway (and of its
  // ListenerSets) presents it to TLS backends.
  if (gateway.backendTls?.ok) record.backendClientCertificateKey = gateway.backendTls.certificate.key;
  if (listener.externalAuth !== undefined && listener.externalAuth.length > 0)
    record.externalAuth = listener.externalAuth;
  return record;
}

/** The attachments of a route to listeners that went into the IR, one per listener (the first parentRef wins). */
function attachmentsOf(
  route: RouteNodeCommon,
  parents: readonly ParentResult[],
  programmed: ReadonlySet<string>,
): RouteAttachment[] {
  const out: RouteAttachment[] = [];
  for (const parent of parents) {
    if (parentAccepted(route, parent).status !== 'True') continue;
    for (const { listener, hostnames } of parent.attachments) {
      if (programmed.has(listener.key) && !out.some((a) => a.listenerKey === listener.key))
        out.push({ listenerKey: listener.key, hostnames });
    }
  }
  return out;
}

function backendKeysOf(backends: readonly WeightedBackend[], filters: readonly HttpFilter[], into: Set<string>): void {
  for (const f of filters) if (f.type === 'RequestMirror' || f.type === 'ExternalAuth') into.add(f.backendKey);
  for (const b of backends) {
    if (b.backendKey !== null) into.add(b.backendKey);
    backendKeysOf([], b.filters, into);
  }
}

/** Keys of the backends a route record uses (its backendRefs and mirrors). */
export function routeBackendKeys(record: HttpRoute | StreamRoute, into = new Set<string>()): Set<string> {
  if ('rules' in record) for (const rule of record.rules) backendKeysOf(rule.backends, rule.filters, into);
  else backendKeysOf(record.backends, [], into);
  return into;
}

function byKey<T extends { key: string }>(records: T[]): T[] {
  return records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface ProgrammedListeners {
  /** Listener records, in Gateway precedence order, then spec order. */
  listeners: Listener[];
  /** Their keys (Programmed=True). */
  programmed: Set<string>;
  /** Certificates the listeners use (to terminate TLS, and to present to TLS backends), by key. */
  certificates: Map<string, CertificateRecord>;
  /** The authorizers of their `filters.requests[]` (GEP-5224), by backend key: backend records that must go in. */
  authBackends: Map<string, BackendSpec>;
}

/** The listeners that go into the IR: those of Gateways that can be served (accepted, with an address). */
export function programListeners(gateways: readonly GatewayNode[]): ProgrammedListeners {
  const out: ProgrammedListeners = {
    listeners: [],
    programmed: new Set(),
    certificates: new Map(),
    authBackends: new Map(),
  };
  for (const gateway of gateways) {
    const address = gateway.address?.address;
    if (address === undefined || !isGatewayServable(gateway)) continue;
    // The Gateway's own listeners, then those of its accepted ListenerSets (bound on the same address).
    for (const listener of boundListeners(gateway)) {
      if (!isListenerServable(listener)) continue;
      out.listeners.push(listenerRecord(gateway, listener, address));
      out.programmed.add(listener.key);
      for (const [key, spec] of listener.authBackends) out.authBackends.set(key, spec);
      for (const certificate of listener.certificates) out.certificates.set(certificate.key, certificate);
      if (gateway.backendTls?.ok)
        out.certificates.set(gateway.backendTls.certificate.key, gateway.backendTls.certificate);
    }
  }
  return out;
}

/** The IR record of an HTTP route; undefined when it goes into no programmed listener or has nothing to serve. */
export function httpRouteRecord(
  node: HttpRouteNode,
  parents: readonly ParentResult[],
  rank: number,
  programmed: ReadonlySet<string>,
): HttpRoute | undefined {
  const attachments = attachmentsOf(node, parents, programmed);
  if (attachments.length === 0 || node.rules.length === 0 || node.rejection !== undefined) return undefined;
  return {
    key: routeKey(node.kind, node.namespace, node.name),
    source: { kind: node.kind, namespace: node.namespace, name: node.name },
    rank,
    parents: attachments,
    rules: node.rules,
  };
}

/** The IR record of a TCP, UDP or TLS route; undefined when it goes into no programmed listener. */
export function streamRouteRecord(
  node: StreamRouteNode,
  parents: readonly ParentResult[],
  rank: number,
  programmed: ReadonlySet<string>,
): StreamRoute | undefined {
  const attachments = attachmentsOf(node, parents, programmed);
  if (attachments.length === 0 || node.rejection !== undefined) return undefined;
  return {
    key: routeKey(node.kind, node.namespace, node.name),
    source: { kind: node.kind, namespace: node.namespace, name: node.name },
    rank,
    parents: attachments,
    backends: node.backends,
  };
}

/** Every list of the IR sorted by key, so that equal input gives equal output. */
export function sortRecords(ir: SnapshotRecords): SnapshotRecords {
  for (const kind of RECORD_KINDS) byKey(ir[kind] as Array<{ key: string }>);
  return ir;
}

const RECORD_PATH = /^(listeners|httpRoutes|streamRoutes|backends|certificates)\[([^\]]+)\]/;

/** Removes the records the shared validator refuses, until it refuses none (a few rounds: removals can cascade). */
export function dropInvalidRecords(ir: SnapshotRecords): Problem[] {
  const dropped: Problem[] = [];
  for (let round = 0; round < 8; round++) {
    const problems = validateIndex(indexSnapshot(ir), IR_VERSION);
    if (problems.length === 0) return dropped;
    const doomed = new Map<RecordKind, Set<string>>();
    for (const p of problems) {
      const match = RECORD_PATH.exec(p.path);
      const kind = (match?.[1] ?? p.path.split(/[.[]/)[0]) as RecordKind;
      if (!RECORD_KINDS.includes(kind)) continue;
      const keys = doomed.get(kind) ?? new Set<string>();
      // A problem that names no record (e.g. one about a whole port) takes out every record of its kind.
      if (match === null) for (const r of ir[kind] as Array<{ key: string }>) keys.add(r.key);
      else keys.add(match[2]);
      doomed.set(kind, keys);
      dropped.push(p);
    }
    if (doomed.size === 0) break;
    for (const [kind, keys] of doomed) {
      (ir as unknown as Record<RecordKind, Array<{ key: string }>>)[kind] = (ir[kind] as Array<{ key: string }>).filter(
        (r) => !keys.has(r.key),
      );
    }
  }
  if (validateIndex(indexSnapshot(ir), IR_VERSION).length > 0) Object.assign(ir, emptyRecords());
  return dropped;
}
