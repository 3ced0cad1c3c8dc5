// IR assembly: the records the data plane gets, from the nodes the passes built. A listener goes in when it and
// its Gateway can be served; a route when it is accepted by at least one listener that went in; a backend or a
// certificate when something that went in refers to it. Records are sorted by key, so equal input gives equal output.
// Last, the IR is validated with the data plane's own validator; a record it refuses is a translator bug, so it is
// taken out (and reported in `dropped`) rather than letting the data plane NACK the whole generation.

import type { Listener, ListenerTls } from '../../shared/ir/listener.ts';
import { indexSnapshot } from '../../shared/ir/delta.ts';
import { routeKey } from '../../shared/ir/keys.ts';
import type { HttpFilter, HttpRoute, RouteAttachment, StreamRoute, WeightedBackend } from '../../shared/ir/route.ts';
import { IR_VERSION, RECORD_KINDS, emptyRecords } from '../../shared/ir/snapshot.ts';
import type { RecordKind, SnapshotRecords } from '../../shared/ir/snapshot.ts';
import type { Problem } from '../../shared/validation/problem.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import type { ParentResult } from './attach.ts';
import type { TranslateContext } from './context.ts';
import { isGatewayServable } from './gateway.ts';
import type { GatewayNode } from './gateway.ts';
import { isListenerServable } from './listener.ts';
import type { ListenerNode } from './listener.ts';
import { parentAccepted } from './route-status.ts';
import type { RouteNodeCommon } from './route-status.ts';
import type { RoutePassResult } from './routes.ts';

export interface AssembledIr {
  ir: SnapshotRecords;
  /** Keys of the listeners that went into the IR (Programmed=True). */
  programmed: Set<string>;
  /** Records the final validation refused (translator bugs), for the operator to log. */
  dropped: Problem[];
}

function listenerRecord(gateway: GatewayNode, listener: ListenerNode, address: string): Listener {
  const record: Listener = {
    key: listener.key,
    source: { kind: 'Gateway', namespace: gateway.namespace, name: gateway.name, section: listener.name },
    address,
    port: listener.port,
    protocol: listener.protocol,
  };
  if (listener.hostname !== undefined) record.hostname = listener.hostname;
  if (listener.tlsMode !== undefined) {
    const tls: ListenerTls = { mode: listener.tlsMode, certificateKeys: listener.certificates.map((c) => c.key) };
    if (listener.clientValidation !== undefined) tls.clientValidation = listener.clientValidation;
    record.tls = tls;
  }
  return record;
}

/** The attachments of a route to listeners that went into the IR, one per listener (the first parentRef wins). */
function attachmentsOf(route: RouteNodeCommon, parents: readonly ParentResult[], programmed: ReadonlySet<string>): RouteAttachment[] {
  const out: RouteAttachment[] = [];
  for (const parent of parents) {
    if (parentAccepted(route, parent).status !== 'True') continue;
    for (const { listener, hostnames } of parent.attachments) {
      if (programmed.has(listener.key) && !out.some((a) => a.listenerKey === listener.key)) out.push({ listenerKey: listener.key, hostnames });
    }
  }
  return out;
}

function backendKeysOf(backends: readonly WeightedBackend[], filters: readonly HttpFilter[], into: Set<string>): void {
  for (const f of filters) if (f.type === 'RequestMirror') into.add(f.backendKey);
  for (const b of backends) {
    if (b.backendKey !== null) into.add(b.backendKey);
    backendKeysOf([], b.filters, into);
  }
}

function byKey<T extends { key: string }>(records: T[]): T[] {
  return records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function assembleIr(context: TranslateContext, gateways: readonly GatewayNode[], routes: RoutePassResult): AssembledIr {
  const ir = emptyRecords();
  const programmed = new Set<string>();
  const certificates = new Map<string, SnapshotRecords['certificates'][number]>();
  for (const gateway of gateways) {
    const address = gateway.address?.address;
    if (address === undefined || !isGatewayServable(gateway)) continue;
    for (const listener of gateway.listeners) {
      if (!isListenerServable(listener)) continue;
      ir.listeners.push(listenerRecord(gateway, listener, address));
      programmed.add(listener.key);
      for (const certificate of listener.certificates) certificates.set(certificate.key, certificate);
    }
  }
  const backendKeys = new Set<string>();
  for (const { node, parents, rank } of routes.http) {
    const attachments = attachmentsOf(node, parents, programmed);
    if (attachments.length === 0 || node.rules.length === 0 || node.rejection !== undefined) continue;
    const record: HttpRoute = { key: routeKey(node.kind, node.namespace, node.name), source: { kind: node.kind, namespace: node.namespace, name: node.name }, rank, parents: attachments, rules: node.rules };
    ir.httpRoutes.push(record);
    for (const rule of node.rules) backendKeysOf(rule.backends, rule.filters, backendKeys);
  }
  for (const { node, parents, rank } of routes.stream) {
    const attachments = attachmentsOf(node, parents, programmed);
    if (attachments.length === 0 || node.rejection !== undefined) continue;
    const record: StreamRoute = { key: routeKey(node.kind, node.namespace, node.name), source: { kind: node.kind, namespace: node.namespace, name: node.name }, rank, parents: attachments, backends: node.backends };
    ir.streamRoutes.push(record);
    backendKeysOf(node.backends, [], backendKeys);
  }
  for (const key of backendKeys) {
    const backend = context.backends.get(key);
    if (backend !== undefined) ir.backends.push(backend);
  }
  ir.certificates.push(...certificates.values());
  for (const kind of RECORD_KINDS) byKey(ir[kind] as Array<{ key: string }>);
  const dropped = dropInvalidRecords(ir);
  return { ir, programmed, dropped };
}

const RECORD_PATH = /^(listeners|httpRoutes|streamRoutes|backends|certificates)\[([^\]]+)\]/;

/** Removes the records the shared validator refuses, until it refuses none (a few rounds: removals can cascade). */
function dropInvalidRecords(ir: SnapshotRecords): Problem[] {
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
      (ir as unknown as Record<RecordKind, Array<{ key: string }>>)[kind] = (ir[kind] as Array<{ key: string }>).filter((r) => !keys.has(r.key));
    }
  }
  if (validateIndex(indexSnapshot(ir), IR_VERSION).length > 0) Object.assign(ir, emptyRecords());
  return dropped;
}
