// The translator's one orchestrator: a translation session holds the objects, the lookups over them
// (context-index.ts), and per Gateway and per route what was built and what that read; each run translates again
// what changed since the previous run and hands out only what changed: IR records to upsert or remove, statuses to
// set or remove. `translate` (translate.ts) is a fresh session's first run, so a fresh and an incremental run go
// through the same passes below. The operator owns one session (in the translator's worker thread).
// Must not read the clock or the environment (both come in the options), change an object it was given, or throw.
//
// The passes, in `run`, in the order their inputs become available:
//   1. object changes go into the lookups, which say which dependency keys changed;
//   2. BackendTLSPolicies checked, once per policy — they read only the lookups, and the routes' backends read them
//      (session/policies.ts);
//   3. GatewayClasses — a Gateway is ours only through an accepted class of ours (session/gateways.ts);
//   4. Gateways and their listeners, conflicts between listeners, their ListenerSets — need the classes, Secrets and
//      grants; a Gateway whose listeners changed as routes see them marks its routes for attachment;
//   5. addresses (pool: an address per Gateway; service mode: internal ports and the Gateway's Service) — need every
//      Gateway: precedence decides who keeps a contested address or port;
//   6. programmed listeners and their IR records, and their authorizers' backends — need the addresses;
//      XTelemetryPolicies put their tracing record on the listeners of the Gateways they take and get their statuses
//      (policies/telemetrypolicy-status.ts) — they need our Gateways (4) and nothing later;
//   7. routes: rules, backends, attachment to listeners, their records — need the checked policies (2), the
//      listeners after conflicts (a conflicted listener admits no route) and whether they are programmed (6)
//      (session/routes.ts);
//  7b. XBackendTrafficPolicies (policies/backendtrafficpolicy-status.ts) — their ancestors are the Gateways of the
//      routes (7) that name their Services, and the session persistence of those accepted goes on backend records (8);
//   8. backend records — need the routes that use them (session/backends.ts);
//   9. BackendTLSPolicy statuses — their ancestors are the Gateways whose routes reach the Service ports they target,
//      so they need the routes' attachments (7);
//  10. Gateway and ListenerSet statuses — they count attachedRoutes (7) and programmed listeners (6);
//  11. the final IR check, and what goes out (session/ir.ts).
// A new set of options (controller name, features, address mode and its settings) starts over: everything is
// translated again. Statuses equal but for their time are not handed out again (session/statuses.ts), so with one
// clock value for all runs, `result()` of a session fed change by change equals that of a fresh one.

import type { Problem } from '../../shared/validation/problem.ts';
import { programListeners } from './session/records.ts';
import type { CheckedPolicy } from './context.ts';
import { ContextIndex } from './session/context-index.ts';
import type { TranslateContext } from './context.ts';
import { gatewayStatus } from './gateways/gateway.ts';
import { gatewayNamespaceObjects } from './gateways/gateway-infrastructure.ts';
import type { GatewayNamespaceObjects } from './gateways/gateway-infrastructure.ts';
import { gatewayServices } from './gateways/gateway-service.ts';
import type { GatewayService } from './gateways/gateway-service.ts';
import { dependencyEntry, namespacedKey, objectKey, parseNamespacedKey, statusKey } from './keys.ts';
import { withAttachedListenerSets } from './gateways/listenerset.ts';
import type { SessionPersistence } from '../../shared/ir/route.ts';
import { completeOptions } from './options.ts';
import type { AddressAllocations, PortAllocations, CompleteOptions, TranslateOptions } from './options.ts';
import { nameOf, namespaceOf, snapshotListOf } from './resources.ts';
import type { KubeObject, SnapshotList } from './resources.ts';
import { PolicyStatusKeys, telemetryPass, trafficPass } from './session/gateway-policies.ts';
import { GatewayTable, assignAddresses } from './session/gateways.ts';
import type { GatewaySource } from './session/gateways.ts';
import { SessionIr } from './session/ir.ts';
import type { RecordChanges } from './session/ir.ts';
import { ListenerSetIndex } from './session/listenersets.ts';
import { PolicyTable } from './session/policies.ts';
import { RouteTable } from './session/routes.ts';
import type { RouteKind } from './session/routes.ts';
import { StatusTable } from './session/statuses.ts';
import type { StatusChanges } from './session/statuses.ts';
import type { TranslateResult } from './translate.ts';

export type { RecordChanges, StatusChanges };

export interface SessionOutput {
  ir: RecordChanges;
  statuses: StatusChanges;
  addresses: AddressAllocations;
  ports: PortAllocations;
  /** Every Gateway's Service (service mode; few, so always all of them). */
  services: GatewayService[];
  /** Every Gateway's objects in its own namespace (classes in the GatewayInfrastructure mode; few, so all of them). */
  infrastructure: GatewayNamespaceObjects[];
  dropped: Problem[];
  /** incremental: from what was remembered; rebuilt: everything translated again (first run, new options). */
  mode: 'incremental' | 'rebuilt';
  /** Routes whose rules were translated in this run. */
  translatedRoutes: number;
}

const ROUTE_LISTS: Partial<Record<SnapshotList, RouteKind>> = {
  httpRoutes: 'HTTPRoute',
  grpcRoutes: 'GRPCRoute',
  tlsRoutes: 'TLSRoute',
  tcpRoutes: 'TCPRoute',
  udpRoutes: 'UDPRoute',
};

/** What a session remembers between runs; thrown away whole when the options change. */
class PassTables {
  readonly gateways = new GatewayTable();
  readonly routes = new RouteTable();
  programmed = new Set<string>();
  /** Backend keys the programmed listeners' authorizers use (GEP-5224), counted in `routes.backends` like a route's. */
  listenerAuthBackends: string[] = [];
  readonly policies = new PolicyTable();
}

export class TranslationSession {
  /** Every object, by `objectKey`. */
  readonly #objects = new Map<string, KubeObject>();
  /** Objects as they were before the changes not yet run, by key. */
  readonly #before = new Map<string, KubeObject | undefined>();
  readonly #index = new ContextIndex();
  /** GatewayClass, Gateway and route objects by list, then key. */
  readonly #lists = new Map<SnapshotList, Map<string, KubeObject>>();
  readonly #listenerSets = new ListenerSetIndex();
  #tables: PassTables | null = null;
  #fingerprint = '';
  #features: ReadonlySet<string> = new Set();
  readonly #ir = new SessionIr();
  readonly #statuses = new StatusTable();
  #addresses: AddressAllocations = {};
  #ports: PortAllocations = {};
  #services: GatewayService[] = [];
  #infrastructure: GatewayNamespaceObjects[] = [];
  readonly #telemetryStatuses = new PolicyStatusKeys();
  readonly #trafficStatuses = new PolicyStatusKeys();
  /** The session records XBackendTrafficPolicies put on Services' backends, by Service. */
  readonly #backendSessions = new Map<string, SessionPersistence>();
  readonly #source: GatewaySource = {
    classes: () => [...(this.#lists.get('gatewayClasses')?.values() ?? [])],
    gatewayKeys: () => [...(this.#lists.get('gateways')?.values() ?? [])].map(gatewayKeyOf),
    gateway: (key) => this.#objects.get(statusKey({ kind: 'Gateway', ...parseNamespacedKey(key) })),
    listenerSetsOf: (key) => this.#listenerSets.of(key),
  };

  /**
   * Objects came or changed (`upserted`), or went (`removed`, by `objectKey`); the next run translates them. Two
   * objects with one key (a missing namespace and `default`) are one object to the translator: the later replaces.
   */
  apply(upserted: Iterable<KubeObject>, removed: Iterable<string>): void {
    for (const object of upserted) this.#put(objectKey(object), object);
    for (const key of removed) this.#put(key, undefined);
  }

  get size(): number {
    return this.#objects.size;
  }

  run(options: TranslateOptions = {}): SessionOutput {
    const resolved = completeOptions(options);
    this.#checkOptions(resolved);
    this.#ir.begin();
    this.#statuses.begin();
    // 1. objects into the lookups (a rebuilt tables reads the lookups as they are after this).
    const changedDeps = this.#takeObjectChanges();
    const rebuilt = this.#tables === null;
    const tables = this.#tables ?? this.#newTables();
    const context = this.#context(resolved, tables.policies.checked);
    // 2. BackendTLSPolicies.
    tables.policies.check(context, this.#index.backendTlsPolicies, changedDeps);
    // 3, 4. classes, Gateways, ListenerSets.
    tables.gateways.buildClasses(this.#source, context, changedDeps, this.#statuses);
    tables.gateways.buildGateways(this.#source, context, changedDeps, this.#statuses);
    // 5. addresses.
    const gateways = tables.gateways.order;
    ({ addresses: this.#addresses, ports: this.#ports } = assignAddresses(gateways, context));
    this.#services = gatewayServices(gateways);
    // After the addresses: the mode's EndpointSlices point at what the address pass chose.
    this.#infrastructure = gatewayNamespaceObjects(gateways, context);
    // 6. programmed listeners.
    // A Gateway's backend client certificate is on its listener records only: no route or backend record depends on it.
    const { listeners, programmed, certificates, authBackends } = programListeners(gateways);
    // The listeners' authorizers are backends like a route's: counted (new before old, so a kept one never drops to
    // zero), their records built and kept up to date with their EndpointSlices in pass 8.
    for (const spec of authBackends.values()) tables.routes.backends.addRef(spec);
    for (const key of tables.listenerAuthBackends) tables.routes.backends.removeRef(key);
    tables.listenerAuthBackends = [...authBackends.keys()];
    const changedListeners = new Set<string>();
    for (const key of programmed) if (!tables.programmed.has(key)) changedListeners.add(key);
    for (const key of tables.programmed) if (!programmed.has(key)) changedListeners.add(key);
    tables.programmed = programmed;
    this.#telemetryStatuses.write(
      this.#statuses,
      telemetryPass({
        context,
        policies: [...(this.#lists.get('telemetryPolicies')?.values() ?? [])],
        gateways,
        allGatewayKeys: this.#source.gatewayKeys(),
        listeners,
        resolved,
      }),
    );
    this.#ir.replaceAll('listeners', new Map(listeners.map((l) => [l.key, l])));
    this.#ir.replaceAll('certificates', certificates);
    // 7. routes.
    const routes = tables.routes.run({
      context,
      gateways: tables.gateways.nodes,
      listenerSets: tables.gateways.listenerSets.nodes,
      programmed,
      changedDeps,
      changedListeners,
      controllerName: resolved.controllerName,
      now: resolved.now,
    });
    for (const { list, key, record } of routes.records) this.#ir.set(list, key, record);
    for (const { key, status } of routes.statuses) this.#statuses.set(key, status);
    // 7b. XBackendTrafficPolicies — their ancestors are the Gateways of the routes (7) that name their Services, and
    // the session persistence of those that take a Service goes on its backend records (8).
    this.#trafficStatuses.write(
      this.#statuses,
      trafficPass({
        context,
        policies: [...(this.#lists.get('backendTrafficPolicies')?.values() ?? [])],
        routes: tables.routes,
        sessions: this.#backendSessions,
        resolved,
      }),
    );
    // 8. backends.
    for (const dep of changedDeps) {
      const service = dependencyEntry(dep, 'eps');
      if (service !== undefined) tables.routes.backends.endpointsChanged(service);
    }
    for (const [key, record] of tables.routes.backends.take(context, this.#backendSessions))
      this.#ir.set('backends', key, record);
    // 9. BackendTLSPolicy statuses.
    if (this.#features.has('BackendTLSPolicy'))
      tables.policies.statuses(tables.routes.tlsUses, resolved.controllerName, resolved.now, (key, status) =>
        this.#statuses.set(key, status),
      );
    // 10. Gateway and ListenerSet statuses.
    for (const node of gateways) {
      for (const listener of node.listeners) listener.attachedRoutes = tables.routes.counts.get(listener.key) ?? 0;
      this.#statuses.set(
        statusKey({ kind: 'Gateway', namespace: node.namespace, name: node.name }),
        withAttachedListenerSets(gatewayStatus(node, programmed, resolved.now), node),
      );
    }
    tables.gateways.listenerSets.statuses(gateways, tables.routes.counts, programmed, resolved.now, (key, status) =>
      this.#statuses.set(key, status),
    );
    // 11. the IR check, and what goes out.
    const statuses = this.#statuses.end();
    this.#ir.publish();
    return {
      ir: this.#ir.changes(),
      statuses,
      addresses: this.#addresses,
      ports: this.#ports,
      services: this.#services,
      infrastructure: this.#infrastructure,
      dropped: this.#ir.dropped,
      mode: rebuilt ? 'rebuilt' : 'incremental',
      translatedRoutes: routes.translated,
    };
  }

  /** Everything, as `translate` returns it. */
  result(): TranslateResult {
    return {
      ir: this.#ir.records(),
      statuses: this.#statuses.all(),
      addresses: this.#addresses,
      ports: this.#ports,
      services: this.#services,
      infrastructure: this.#infrastructure,
      dropped: this.#ir.dropped,
    };
  }

  #put(key: string, object: KubeObject | undefined): void {
    if (!this.#before.has(key)) this.#before.set(key, this.#objects.get(key));
    if (object === undefined) this.#objects.delete(key);
    else this.#objects.set(key, object);
  }

  /** New options start over: what was remembered was translated with the old ones. */
  #checkOptions(resolved: CompleteOptions): void {
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
    if (fingerprint === this.#fingerprint) return;
    this.#fingerprint = fingerprint;
    this.#features = resolved.supportedFeatures;
    this.#tables = null;
  }

  /** Puts the objects changed since the last run into the lookups and the tables; returns the changed dependency keys. */
  #takeObjectChanges(): Set<string> {
    const changedDeps = new Set<string>();
    for (const [key, before] of this.#before) {
      const after = this.#objects.get(key);
      if (before !== after) this.#objectChanged(key, before, after, changedDeps);
    }
    this.#before.clear();
    return changedDeps;
  }

  /** One object replaced (`before` → `after`, either may be absent); both have `key`, hence one kind and list. */
  #objectChanged(
    key: string,
    before: KubeObject | undefined,
    after: KubeObject | undefined,
    changedDeps: Set<string>,
  ): void {
    const list = snapshotListOf(after ?? before);
    if (list === undefined) return;
    this.#index.update(list, before, after, changedDeps);
    const tables = this.#tables;
    if (list === 'listenerSets') {
      // A ListenerSet is built with its parent Gateways (before and after).
      for (const parent of this.#listenerSets.moved(before, after)) tables?.gateways.gatewayChanged(parent);
      return;
    }
    if (
      list !== 'gatewayClasses' &&
      list !== 'gateways' &&
      list !== 'telemetryPolicies' &&
      list !== 'backendTrafficPolicies' &&
      ROUTE_LISTS[list] === undefined
    )
      return;
    let objects = this.#lists.get(list);
    if (objects === undefined) this.#lists.set(list, (objects = new Map()));
    if (after === undefined) objects.delete(key);
    else objects.set(key, after);
    if (tables === null || list === 'telemetryPolicies' || list === 'backendTrafficPolicies') return;
    if (list === 'gatewayClasses') tables.gateways.classChanged();
    else if (list === 'gateways') tables.gateways.gatewayChanged(gatewayKeyOf((after ?? before) as KubeObject));
    else {
      const kind = ROUTE_LISTS[list] as RouteKind;
      if (this.#features.has(kind)) tables.routes.objectChanged(key, kind, after);
    }
  }

  /** A tables with nothing in it and every GatewayClass, Gateway and route to translate. */
  #newTables(): PassTables {
    const tables = new PassTables();
    for (const [list, objects] of this.#lists) {
      const kind = ROUTE_LISTS[list];
      if (kind === undefined || !this.#features.has(kind)) continue;
      for (const [key, object] of objects) tables.routes.objectChanged(key, kind, object);
    }
    // Classes are dirty in a new table, and building them marks every Gateway.
    tables.policies.checkAll(this.#index.backendTlsPolicies.keys());
    this.#tables = tables;
    this.#statuses.startOver();
    this.#ir.reset();
    return tables;
  }

  #context(options: CompleteOptions, policies: ReadonlyMap<string, readonly CheckedPolicy[]>): TranslateContext {
    const index = this.#index;
    return {
      options,
      services: index.services,
      secrets: index.secrets,
      configMaps: index.configMaps,
      clusterTrustBundles: index.clusterTrustBundles,
      endpointSlices: index.endpointSlices,
      namespaceLabels: index.namespaceLabels,
      grants: index.grants,
      backendTlsPolicies: policies,
    };
  }
}

/** A Gateway's key in the session's maps: `<namespace>/<name>`. */
function gatewayKeyOf(gateway: KubeObject): string {
  return namespacedKey(namespaceOf(gateway), nameOf(gateway));
}
