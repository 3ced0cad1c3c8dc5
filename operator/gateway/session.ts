// A translation session: `translate` (translate.ts) for a set of objects that changes a few at a time, at the cost of
// the change. It is a stateful wrapper around the pure translator, owned by its caller (one per operator, living in
// the translator's worker thread): it holds the objects, the lookups over them (context-index.ts), and per Gateway
// and per route what was built and what that read, and after each run it hands out only what changed: IR records to
// upsert or remove, statuses to set or remove. The translator itself stays pure and unchanged in its output; the
// session calls the same building blocks, and a property test holds it to `translate` over random edits.
//
// A run, in the order of `translate`'s passes:
//   1. object changes go into the lookups, which say which dependency keys changed;
//   2. GatewayClasses (all of them, when one changed: there are few); Gateways whose object, class or lookups
//      changed; a Gateway whose listeners changed as routes see them marks its routes for attachment;
//   3. addresses (in service mode with the Gateways' Services, read from the lookups every run) and programmed
//      listeners, for all Gateways (few): cheap, and they depend on every Gateway;
//   4. the routes that something they depend on changed (session-routes.ts), then the backends whose users,
//      spec or endpoints changed (session-backends.ts);
//   5. BackendTLSPolicy statuses of the namespaces whose policies, their references or the Gateways reaching their
//      Services changed (session-policies.ts);
//   6. Gateway statuses (they count attached routes), then the IR check and what goes out (session-ir.ts).
// What it does not do incrementally, it does from scratch: two objects of one kind with the same namespace/name (or
// otherwise equal precedence) make a run a plain `translate` of everything; a new set of options (controller name,
// features, address mode and its settings) rebuilds what it remembers. GatewayClasses record what they read (their
// parameters' ConfigMap), and are built again when that changes.
//
// Statuses are compared without their time: a status that did not change otherwise is not handed out again, so it
// keeps the `lastTransitionTime` of the run that produced it (a status writer keeps unchanged conditions' times
// anyway, see status.ts `mergeConditions`). With one clock value for all runs, `result()` equals `translate`'s.

import type { Problem } from '../../shared/validation/problem.ts';
import { programListeners } from './assemble.ts';
import { ContextIndex, gatewayDependency, trackedContext } from './context-index.ts';
import type { TranslateContext } from './context.ts';
import { Dependents } from './dependents.ts';
import { gatewayStatus } from './gateway.ts';
import type { GatewayNode } from './gateway.ts';
import { gatewayServices } from './gateway-service.ts';
import type { GatewayService } from './gateway-service.ts';
import { gatewayClassStatus } from './gatewayclass.ts';
import type { GatewayClassNode } from './gatewayclass.ts';
import { buildListenerSets, withAttachedListenerSets } from './listenerset.ts';
import { resolveOptions } from './options.ts';
import type { AddressAllocations, PortAllocations, ResolvedOptions, TranslateOptions } from './options.ts';
import { buildResourceSnapshot, comparePrecedence, nameOf, namespaceOf, snapshotListOf } from './resources.ts';
import type { KubeObject, SnapshotList } from './resources.ts';
import { SessionIr } from './session-ir.ts';
import { ListenerSetIndex, ListenerSetTable, listenersSignature } from './session-listenersets.ts';
import { PolicyTable } from './session-policies.ts';
import type { RecordChanges } from './session-ir.ts';
import { RouteTable } from './session-routes.ts';
import type { RouteKind } from './session-routes.ts';
import type { ObjectStatus } from './status.ts';
import { assignAddresses, buildClasses, buildGateway, compareStatuses, translate } from './translate.ts';
import type { TranslateResult } from './translate.ts';

export type { RecordChanges };

export interface StatusChanges {
  /** New or changed statuses, in `TranslateResult.statuses` order. */
  upsert: ObjectStatus[];
  /** Keys (`statusKey`) of objects that no longer get a status from us. */
  remove: string[];
}

export interface SessionOutput {
  ir: RecordChanges;
  statuses: StatusChanges;
  addresses: AddressAllocations;
  ports: PortAllocations;
  /** Every Gateway's Service (service mode; few, so always all of them). */
  services: GatewayService[];
  dropped: Problem[];
  /** incremental: from what was remembered; rebuilt: everything translated again (first run, new options); full: a plain `translate`. */
  mode: 'incremental' | 'rebuilt' | 'full';
  /** Routes whose rules were translated in this run. */
  translatedRoutes: number;
}

/** The key of a status: `<kind>/<namespace>/<name>` (no namespace for GatewayClasses). */
export function statusKey(status: { kind: string; namespace?: string; name: string }): string {
  return `${status.kind}/${status.namespace ?? ''}/${status.name}`;
}

/** A status as compared between runs: everything but the time. */
function statusFingerprint(status: ObjectStatus): string {
  return JSON.stringify(status, (key, value) => (key === 'lastTransitionTime' ? undefined : value));
}

const ROUTE_LISTS: Partial<Record<SnapshotList, RouteKind>> = {
  httpRoutes: 'HTTPRoute',
  grpcRoutes: 'GRPCRoute',
  tlsRoutes: 'TLSRoute',
  tcpRoutes: 'TCPRoute',
  udpRoutes: 'UDPRoute',
};

/** The identity translate keys an object by (two objects with one identity: the session translates from scratch). */
function identityOf(list: SnapshotList, object: KubeObject): string | undefined {
  if (list === 'gatewayClasses') return `GatewayClass//${nameOf(object)}`;
  if (list === 'gateways' || ROUTE_LISTS[list] !== undefined)
    return `${ROUTE_LISTS[list] ?? 'Gateway'}/${namespaceOf(object)}/${nameOf(object)}`;
  if (list === 'listenerSets') return `ListenerSet/${namespaceOf(object)}/${nameOf(object)}`;
  return undefined;
}

interface GatewayEntry {
  node: GatewayNode;
  /** What route attachment reads of the Gateway (attach.ts): routes attach again when it changes. */
  signature: string;
}

function attachmentSignature(node: GatewayNode): string {
  return JSON.stringify(listenersSignature(node.listeners));
}

/** What a session remembers between runs; thrown away whole when the options change. */
class Memo {
  readonly routes = new RouteTable();
  classes = new Map<string, GatewayClassNode>();
  /** What building the classes read (their parameters' ConfigMaps). */
  classDeps = new Set<string>();
  readonly gateways = new Map<string, GatewayEntry>();
  readonly gatewayNodes = new Map<string, GatewayNode>();
  readonly gatewayDeps = new Dependents();
  gatewayOrder: GatewayNode[] = [];
  programmed = new Set<string>();
  /** Listener key → the client certificate its Gateway presents to TLS backends. */
  clientCertificates = new Map<string, string>();
  classesDirty = true;
  readonly pendingGateways = new Set<string>();
  readonly listenerSets = new ListenerSetTable();
  readonly policies = new PolicyTable();
  /** Namespaces whose BackendTLSPolicy statuses are to be built again whatever changed (all of them after a rebuild). */
  readonly pendingPolicyNamespaces = new Set<string>();
}

export class TranslationSession {
  readonly #objects = new Map<string, KubeObject>();
  /** Objects as they were before the changes not yet run, by store key. */
  readonly #before = new Map<string, KubeObject | undefined>();
  readonly #index = new ContextIndex();
  /** Objects by identity (GatewayClasses, Gateways, routes). */
  readonly #byIdentity = new Map<string, KubeObject[]>();
  readonly #listenerSets = new ListenerSetIndex();
  #duplicates = 0;
  #memo: Memo | null = null;
  #fingerprint = '';
  #features: ReadonlySet<string> = new Set();
  readonly #ir = new SessionIr();
  readonly #statuses = new Map<string, ObjectStatus>();
  #statusChanges = new Map<string, ObjectStatus | undefined>();
  /** In a run that rebuilds the memo: statuses not set (yet) in this run. */
  #stale: Set<string> | null = null;
  #addresses: AddressAllocations = {};
  #ports: PortAllocations = {};
  #services: GatewayService[] = [];

  /** Objects came, changed or went (by the caller's key, e.g. `<kind>/<namespace>/<name>`); the next run translates them. */
  apply(upserted: Iterable<readonly [string, KubeObject]>, removed: Iterable<string>): void {
    for (const [key, object] of upserted) {
      if (!this.#before.has(key)) this.#before.set(key, this.#objects.get(key));
      this.#objects.set(key, object);
    }
    for (const key of removed) {
      if (!this.#before.has(key)) this.#before.set(key, this.#objects.get(key));
      this.#objects.delete(key);
    }
  }

  get size(): number {
    return this.#objects.size;
  }

  run(options: TranslateOptions = {}): SessionOutput {
    const resolved = resolveOptions(options);
    const fingerprint = JSON.stringify([
      resolved.controllerName,
      resolved.addressPool,
      resolved.addressMode,
      resolved.serviceNamespace,
      resolved.internalPorts ?? null,
      resolved.bindAddress,
      resolved.supportedFeatureList,
      resolved.crdBundleVersion ?? null,
    ]);
    if (fingerprint !== this.#fingerprint) {
      this.#fingerprint = fingerprint;
      this.#features = resolved.supportedFeatures;
      this.#memo = null;
    }
    const changedDeps = new Set<string>();
    for (const [key, before] of this.#before) {
      const after = this.#objects.get(key);
      if (before !== after) this.#objectChanged(before, after, changedDeps);
    }
    this.#before.clear();
    this.#ir.begin();
    this.#statusChanges = new Map();
    if (this.#duplicates > 0 || this.#index.hasTies) return this.#fullRun(options);
    const rebuilt = this.#memo === null;
    const memo = this.#memo ?? this.#newMemo();
    const context = this.#context(resolved);
    this.#classes(memo, context, changedDeps);
    this.#gateways(memo, context, changedDeps);
    ({ addresses: this.#addresses, ports: this.#ports } = assignAddresses(memo.gatewayOrder, context));
    this.#services = gatewayServices(memo.gatewayOrder);
    const { listeners, programmed, certificates, clientCertificates } = programListeners(memo.gatewayOrder);
    const changedListeners = new Set<string>();
    for (const key of programmed)
      if (!memo.programmed.has(key) || memo.clientCertificates.get(key) !== clientCertificates.get(key))
        changedListeners.add(key);
    for (const key of memo.programmed) if (!programmed.has(key)) changedListeners.add(key);
    memo.programmed = programmed;
    memo.clientCertificates = clientCertificates;
    this.#ir.replaceAll('listeners', new Map(listeners.map((l) => [l.key, l])));
    this.#ir.replaceAll('certificates', certificates);
    const routes = memo.routes.run({
      context,
      gateways: memo.gatewayNodes,
      listenerSets: memo.listenerSets.nodes,
      programmed,
      clientCertificates,
      changedDeps,
      changedListeners,
      controllerName: resolved.controllerName,
      now: resolved.now,
    });
    for (const { list, key, record } of routes.records) this.#ir.set(list, key, record);
    for (const { key, status } of routes.statuses) this.#setStatus(key, status);
    for (const dep of changedDeps)
      if (dep.startsWith('eps|') && dep !== 'eps|*') memo.routes.backends.endpointsChanged(dep.slice(4));
    for (const [key, record] of memo.routes.backends.take(context)) this.#ir.set('backends', key, record);
    if (this.#features.has('BackendTLSPolicy')) {
      memo.policies.run(
        context,
        memo.routes.tlsUses,
        memo.pendingPolicyNamespaces,
        changedDeps,
        resolved.controllerName,
        resolved.now,
        (key, status) => this.#setStatus(key, status),
      );
      memo.pendingPolicyNamespaces.clear();
    }
    for (const node of memo.gatewayOrder) {
      for (const listener of node.listeners) listener.attachedRoutes = memo.routes.counts.get(listener.key) ?? 0;
      this.#setStatus(
        `Gateway/${node.key}`,
        withAttachedListenerSets(gatewayStatus(node, programmed, resolved.now), node),
      );
    }
    memo.listenerSets.statuses(memo.gatewayOrder, memo.routes.counts, programmed, resolved.now, (key, status) =>
      this.#setStatus(key, status),
    );
    for (const key of this.#stale ?? []) this.#setStatus(key, undefined);
    this.#stale = null;
    this.#ir.publish();
    return this.#output(rebuilt ? 'rebuilt' : 'incremental', routes.translated);
  }

  /** Everything, as `translate` returns it (for tests, and to compare with it). */
  result(): TranslateResult {
    return {
      ir: this.#ir.records(),
      statuses: [...this.#statuses.values()].sort(compareStatuses),
      addresses: this.#addresses,
      ports: this.#ports,
      services: this.#services,
      dropped: this.#ir.dropped,
    };
  }

  #objectChanged(before: KubeObject | undefined, after: KubeObject | undefined, changedDeps: Set<string>): void {
    const beforeList = before === undefined ? undefined : snapshotListOf(before);
    const afterList = after === undefined ? undefined : snapshotListOf(after);
    for (const list of new Set([beforeList, afterList])) {
      if (list === undefined) continue;
      const was = beforeList === list ? before : undefined;
      const is = afterList === list ? after : undefined;
      this.#index.update(list, was, is, changedDeps);
      if (list === 'listenerSets')
        for (const parent of this.#listenerSets.moved(was, is)) this.#memo?.pendingGateways.add(parent);
      const identity = identityOf(list, (is ?? was) as KubeObject);
      if (identity === undefined) continue;
      if (was !== undefined) this.#forget(identity, was);
      if (is !== undefined) this.#remember(identity, is);
      this.#memoChanged(list, identity);
    }
  }

  #remember(identity: string, object: KubeObject): void {
    const objects = this.#byIdentity.get(identity);
    if (objects === undefined) this.#byIdentity.set(identity, [object]);
    else {
      objects.push(object);
      if (objects.length === 2) this.#duplicates++;
    }
  }

  #forget(identity: string, object: KubeObject): void {
    const objects = this.#byIdentity.get(identity) ?? [];
    objects.splice(objects.indexOf(object), 1);
    if (objects.length === 1) this.#duplicates--;
    if (objects.length === 0) this.#byIdentity.delete(identity);
  }

  /** The object of an identity; undefined when there is none (or two: the session then runs from scratch). */
  #single(identity: string): KubeObject | undefined {
    const objects = this.#byIdentity.get(identity);
    return objects?.length === 1 ? objects[0] : undefined;
  }

  #memoChanged(list: SnapshotList, identity: string): void {
    const memo = this.#memo;
    if (memo === null) return;
    if (list === 'gatewayClasses') memo.classesDirty = true;
    else if (list === 'gateways') memo.pendingGateways.add(identity.slice('Gateway/'.length));
    else if (list === 'listenerSets')
      return; // its parent Gateways are built again (see #objectChanged)
    else {
      const kind = ROUTE_LISTS[list] as RouteKind;
      if (this.#features.has(kind)) memo.routes.objectChanged(identity, kind, this.#single(identity));
    }
  }

  /** A memo with nothing in it and every GatewayClass, Gateway and route to translate. */
  #newMemo(): Memo {
    const memo = new Memo();
    const features = this.#features;
    for (const [identity, objects] of this.#byIdentity) {
      const kind = identity.slice(0, identity.indexOf('/'));
      if (kind === 'Gateway') memo.pendingGateways.add(identity.slice('Gateway/'.length));
      else if (kind !== 'GatewayClass' && kind !== 'ListenerSet' && features.has(kind))
        memo.routes.objectChanged(identity, kind as RouteKind, objects[0]);
    }
    for (const namespace of this.#index.backendTlsPolicies.keys()) memo.pendingPolicyNamespaces.add(namespace);
    this.#memo = memo;
    // Statuses are compared with those handed out before; those nobody sets again in this run are gone.
    this.#stale = new Set(this.#statuses.keys());
    this.#ir.reset();
    return memo;
  }

  #context(options: ResolvedOptions): TranslateContext {
    const index = this.#index;
    return {
      options,
      services: index.services,
      secrets: index.secrets,
      configMaps: index.configMaps,
      endpointSlices: index.endpointSlices,
      namespaceLabels: index.namespaceLabels,
      grants: index.grants,
      backendTlsPolicies: index.backendTlsPolicies,
      backends: new Map(),
    };
  }

  /**
   * GatewayClasses change rarely and are few: when one changes (or what one read), all are built again, and every
   * Gateway with them.
   */
  #classes(memo: Memo, context: TranslateContext, changedDeps: ReadonlySet<string>): void {
    if (!memo.classesDirty && ![...memo.classDeps].some((dep) => changedDeps.has(dep))) return;
    memo.classesDirty = false;
    const objects: KubeObject[] = [];
    for (const [identity, list] of this.#byIdentity) if (identity.startsWith('GatewayClass/')) objects.push(...list);
    memo.classDeps = new Set();
    memo.classes = buildClasses(objects.sort(comparePrecedence), trackedContext(context, memo.classDeps));
    const names = new Set(memo.classes.keys());
    for (const node of memo.classes.values())
      this.#setStatus(statusKey({ kind: 'GatewayClass', name: node.name }), gatewayClassStatus(node, context.options));
    for (const key of this.#statuses.keys())
      if (key.startsWith('GatewayClass//') && !names.has(key.slice('GatewayClass//'.length)))
        this.#setStatus(key, undefined);
    for (const gateway of memo.gateways.keys()) memo.pendingGateways.add(gateway);
    for (const identity of this.#byIdentity.keys())
      if (identity.startsWith('Gateway/')) memo.pendingGateways.add(identity.slice('Gateway/'.length));
  }

  #gateways(memo: Memo, context: TranslateContext, changedDeps: Set<string>): void {
    memo.gatewayDeps.collect(changedDeps, (key) => memo.pendingGateways.add(key));
    let reorder = false;
    for (const key of memo.pendingGateways) {
      const object = this.#single(`Gateway/${key}`);
      const deps = new Set<string>();
      const tracked = trackedContext(context, deps);
      const node = object === undefined ? undefined : buildGateway(tracked, object, memo.classes);
      if (node !== undefined && this.#features.has('ListenerSet'))
        node.listenerSets = buildListenerSets(tracked, node, this.#listenerSets.of(key));
      const previous = memo.gateways.get(key);
      memo.listenerSets.gatewayBuilt(previous?.node, node, changedDeps);
      if (node === undefined) {
        memo.gatewayDeps.delete(key);
        if (previous === undefined) continue;
        memo.gateways.delete(key);
        memo.gatewayNodes.delete(key);
        this.#setStatus(`Gateway/${key}`, undefined);
        changedDeps.add(gatewayDependency(key));
        reorder = true;
        continue;
      }
      memo.gatewayDeps.set(key, deps);
      const signature = attachmentSignature(node);
      if (previous === undefined || previous.signature !== signature) changedDeps.add(gatewayDependency(key));
      reorder ||= previous === undefined || previous.node.source !== object;
      memo.gateways.set(key, { node, signature });
      memo.gatewayNodes.set(key, node);
    }
    memo.pendingGateways.clear();
    if (reorder || memo.gatewayOrder.some((n) => memo.gatewayNodes.get(n.key) !== n)) {
      memo.gatewayOrder = [...memo.gatewayNodes.values()].sort((a, b) => comparePrecedence(a.source, b.source));
    }
  }

  #setStatus(key: string, status: ObjectStatus | undefined): void {
    this.#stale?.delete(key);
    const current = this.#statuses.get(key);
    if (status === undefined) {
      if (current === undefined) return;
      this.#statuses.delete(key);
      this.#statusChanges.set(key, undefined);
      return;
    }
    if (current !== undefined && statusFingerprint(current) === statusFingerprint(status)) return;
    this.#statuses.set(key, status);
    this.#statusChanges.set(key, status);
  }

  /** A plain `translate` of everything, for what the session does not do incrementally (see the top of the file). */
  #fullRun(options: TranslateOptions): SessionOutput {
    const full = translate(buildResourceSnapshot(this.#objects.values()), options);
    this.#ir.publishWhole(full.ir, full.dropped);
    const keys = new Set<string>();
    for (const status of full.statuses) {
      keys.add(statusKey(status));
      this.#setStatus(statusKey(status), status);
    }
    for (const key of [...this.#statuses.keys()]) if (!keys.has(key)) this.#setStatus(key, undefined);
    this.#addresses = full.addresses;
    this.#ports = full.ports;
    this.#services = full.services;
    this.#memo = null;
    return this.#output('full', -1);
  }

  #output(mode: SessionOutput['mode'], translatedRoutes: number): SessionOutput {
    const ir = this.#ir.changes();
    const statuses: StatusChanges = { upsert: [], remove: [] };
    for (const [key, status] of this.#statusChanges) {
      if (status === undefined) statuses.remove.push(key);
      else statuses.upsert.push(status);
    }
    statuses.upsert.sort(compareStatuses);
    return {
      ir,
      statuses,
      addresses: this.#addresses,
      ports: this.#ports,
      services: this.#services,
      dropped: this.#ir.dropped,
      mode,
      translatedRoutes,
    };
  }
}
