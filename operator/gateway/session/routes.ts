// The routes of a translation session (session.ts), each remembered with what its translation read, so that a run
// translates a route again only when something it depends on changed, and only as far as needed:
//   3. the route object, or a lookup its rules read (Service, ReferenceGrant, the checked BackendTLSPolicies of a
//      namespace): build the node again (routes/routes.ts `buildRouteNode`: rules, matches, filters, backend refs);
//   2. a Gateway or ListenerSet it names changed what attachment sees, or a Namespace's labels it was checked
//      against: attach again (parents, attachedRoutes contributions, status);
//   1. its rank, or whether a listener it reaches is programmed: assemble its IR record again.
// A fresh session (`translate`) runs every step for every route, so a remembered route is what a fresh run would
// build for it. EndpointSlices are not read here at all (session/backends.ts).

import type { HttpRoute, StreamRoute } from '../../../shared/ir/route.ts';
import { routeKey } from '../../../shared/ir/keys.ts';
import { httpRouteRecord, routeBackendKeys, streamRouteRecord } from './records.ts';
import type { ParentResult } from '../routes/attach.ts';
import type { BackendSpec } from '../backends/backend.ts';
import { trackedContext, trackedGateways, trackedListenerSets } from './context-index.ts';
import type { TranslateContext } from '../context.ts';
import { Dependents } from './dependents.ts';
import type { GatewayNode } from '../gateways/gateway.ts';
import type { HttpRouteNode } from '../routes/httproute.ts';
import type { ListenerSetNode } from '../gateways/listenerset.ts';
import { RankGroups } from './rank-groups.ts';
import { routeStatus, tlsPortPairs } from '../routes/route-status.ts';
import { attachRoute, buildRouteNode, countedListeners, isHttpRouteKind } from '../routes/routes.ts';
import type { HttpRouteKind, RouteNode } from '../routes/routes.ts';
import { createdAt } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import { BackendTable } from './backends.ts';
import { TlsUseCounts } from './policies.ts';
import { namespacedKey } from '../keys.ts';
import { serviceRefsOf } from '../policies/backendtrafficpolicy.ts';
import type { ObjectStatus } from '../status.ts';
import type { StreamRouteKind, StreamRouteNode } from '../routes/streamroute.ts';

export type RouteKind = HttpRouteKind | StreamRouteKind;

interface RouteEntry {
  kind: RouteKind;
  node: RouteNode;
  /** Backends the node's references resolved to, by key. */
  specs: Map<string, BackendSpec>;
  /** Undefined: no parentRef names one of our Gateways (no status, no IR). */
  parents: ParentResult[] | undefined;
  /** Listener keys that count the route in attachedRoutes. */
  counted: string[];
  /** Its IR record, when it has one. */
  record: HttpRoute | StreamRoute | undefined;
  backendKeys: string[];
  /** (Service port, Gateway) pairs it adds to the BackendTLSPolicy uses. */
  tlsPairs: Array<[string, string]>;
}

export interface RouteRunInput {
  context: TranslateContext;
  /** Our Gateways by `<namespace>/<name>`. */
  gateways: ReadonlyMap<string, GatewayNode>;
  /** The ListenerSets of our Gateways by `<namespace>/<name>`. */
  listenerSets: ReadonlyMap<string, ListenerSetNode>;
  /** Keys of the listeners in the IR. */
  programmed: ReadonlySet<string>;
  /** Dependency keys (context-index.ts) whose value changed since the last run. */
  changedDeps: ReadonlySet<string>;
  /** Listener keys that went into or out of the IR since the last run. */
  changedListeners: ReadonlySet<string>;
  controllerName: string;
  now: string;
}

export interface RouteRunOutput {
  /** Route records to set (or take out: undefined), by IR list and key. */
  records: Array<{ list: 'httpRoutes' | 'streamRoutes'; key: string; record: HttpRoute | StreamRoute | undefined }>;
  /** Statuses to set (or take out), by status key (`<kind>/<namespace>/<name>`). */
  statuses: Array<{ key: string; status: ObjectStatus | undefined }>;
  /** Routes whose node was built again. */
  translated: number;
}

/** How much of a route to redo (each level includes those below it). */
type Level = 1 | 2 | 3;
const RECORD: Level = 1;
const PARENTS: Level = 2;
const NODE: Level = 3;

export class RouteTable {
  readonly #objects = new Map<string, { kind: RouteKind; object: KubeObject }>();
  readonly #entries = new Map<string, RouteEntry>();
  readonly #nodeDeps = new Dependents();
  readonly #parentDeps = new Dependents();
  /** Route id → the listener keys its attachments reach (its record changes when one is programmed or not). */
  readonly #listenerDeps = new Dependents();
  readonly #httpRanks = new RankGroups();
  readonly #streamRanks = new RankGroups();
  readonly #ranks = new Map<string, number>();
  readonly #pending = new Set<string>();
  /** attachedRoutes by listener key. */
  readonly counts = new Map<string, number>();
  readonly backends = new BackendTable();
  /** Which Gateways reach which Service ports a BackendTLSPolicy targets (the policies' ancestors). */
  readonly tlsUses = new TlsUseCounts();

  /**
   * Service (`namespace/name`) → keys of our Gateways to which a route naming it in a backendRef (resolved or not) is
   * attached, for the Services in `wanted`. Walks every route: the session calls it only while some
   * XBackendTrafficPolicy exists (their ancestors).
   */
  gatewaysNaming(wanted: ReadonlySet<string>): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [id, entry] of this.#entries) {
      const gateways = (entry.parents ?? [])
        .filter((p) => p.attachments.length > 0)
        .map((p) => namespacedKey(p.gateway.namespace, p.gateway.name));
      const object = this.#objects.get(id)?.object;
      if (gateways.length === 0 || object === undefined) continue;
      for (const service of serviceRefsOf(object)) {
        if (!wanted.has(service)) continue;
        let set = out.get(service);
        if (set === undefined) out.set(service, (set = new Set()));
        for (const g of gateways) set.add(g);
      }
    }
    return out;
  }

  /** A route object of a supported kind appeared, changed or went (`object` undefined); `id` is `<kind>/<ns>/<name>`. */
  objectChanged(id: string, kind: RouteKind, object: KubeObject | undefined): void {
    const ranks = isHttpRouteKind(kind) ? this.#httpRanks : this.#streamRanks;
    if (object === undefined) {
      this.#objects.delete(id);
      ranks.remove(id);
    } else {
      const previous = this.#objects.get(id)?.object;
      this.#objects.set(id, { kind, object });
      // A route's rank moves only with its creation time (its namespace and name are part of its id).
      if (previous === undefined || createdAt(previous) !== createdAt(object)) ranks.add(id, object);
    }
    this.#pending.add(id);
  }

  run(input: RouteRunInput): RouteRunOutput {
    const levels = new Map<string, Level>();
    const raise = (level: Level) => (id: string) => {
      if ((levels.get(id) ?? 0) < level) levels.set(id, level);
    };
    for (const id of this.#pending) raise(NODE)(id);
    this.#pending.clear();
    this.#nodeDeps.collect(input.changedDeps, raise(NODE));
    this.#parentDeps.collect(input.changedDeps, raise(PARENTS));
    this.#listenerDeps.collect(input.changedListeners, raise(RECORD));
    for (const ranks of [this.#httpRanks.take(), this.#streamRanks.take()]) {
      for (const [id, rank] of ranks) {
        if (this.#ranks.get(id) === rank) continue;
        this.#ranks.set(id, rank);
        raise(RECORD)(id);
      }
    }
    const out: RouteRunOutput = { records: [], statuses: [], translated: 0 };
    for (const [id, level] of levels) this.#update(id, level, input, out);
    return out;
  }

  #update(id: string, level: Level, input: RouteRunInput, out: RouteRunOutput): void {
    const current = this.#objects.get(id);
    const entry = this.#entries.get(id);
    if (current === undefined) {
      if (entry !== undefined) this.#drop(id, entry, out);
      return;
    }
    const { kind, object } = current;
    let node = entry?.node;
    let specs = entry?.specs ?? new Map<string, BackendSpec>();
    if (node === undefined || level >= NODE) {
      const deps = new Set<string>();
      node = buildRouteNode(trackedContext(input.context, deps), object, kind);
      specs = node.resolvedBackends;
      this.#nodeDeps.set(id, deps);
      out.translated++;
      level = NODE;
    }
    let parents = entry?.parents;
    let counted = entry?.counted ?? [];
    let tlsPairs = entry?.tlsPairs ?? [];
    if (level >= PARENTS) {
      const deps = new Set<string>();
      parents = attachRoute(
        trackedContext(input.context, deps),
        object,
        node,
        trackedGateways(input.gateways, deps),
        trackedListenerSets(input.listenerSets, deps),
      );
      this.#parentDeps.set(id, deps);
      this.#listenerDeps.set(id, parents?.flatMap((p) => p.attachments.map((a) => a.listener.key)) ?? []);
      const next = parents === undefined ? [] : countedListeners(node, parents).map((l) => l.key);
      this.#count(counted, -1);
      this.#count(next, 1);
      counted = next;
      const pairs = parents === undefined ? [] : tlsPortPairs(node, parents);
      this.tlsUses.count(tlsPairs, -1);
      this.tlsUses.count(pairs, 1);
      tlsPairs = pairs;
      out.statuses.push({
        key: id,
        status: parents === undefined ? undefined : routeStatus(node, parents, input.controllerName, input.now),
      });
    }
    const rank = this.#ranks.get(id) ?? 0;
    const record =
      parents === undefined
        ? undefined
        : node.kind === 'HTTPRoute' || node.kind === 'GRPCRoute'
          ? httpRouteRecord(node as HttpRouteNode, parents, rank, input.programmed)
          : streamRouteRecord(node as StreamRouteNode, parents, rank, input.programmed);
    const backendKeys = record === undefined ? [] : [...routeBackendKeys(record)];
    for (const key of backendKeys) this.backends.addRef(specs.get(key) as BackendSpec);
    for (const key of entry?.backendKeys ?? []) this.backends.removeRef(key);
    const list = isHttpRouteKind(kind) ? 'httpRoutes' : 'streamRoutes';
    out.records.push({ list, key: routeKey(node.kind, node.namespace, node.name), record });
    this.#entries.set(id, { kind, node, specs, parents, counted, record, backendKeys, tlsPairs });
  }

  #drop(id: string, entry: RouteEntry, out: RouteRunOutput): void {
    this.#entries.delete(id);
    this.#ranks.delete(id);
    this.#nodeDeps.delete(id);
    this.#parentDeps.delete(id);
    this.#listenerDeps.delete(id);
    this.#count(entry.counted, -1);
    this.tlsUses.count(entry.tlsPairs, -1);
    for (const key of entry.backendKeys) this.backends.removeRef(key);
    const list = isHttpRouteKind(entry.kind) ? 'httpRoutes' : 'streamRoutes';
    out.records.push({
      list,
      key: routeKey(entry.node.kind, entry.node.namespace, entry.node.name),
      record: undefined,
    });
    out.statuses.push({ key: id, status: undefined });
  }

  #count(listenerKeys: readonly string[], by: number): void {
    for (const key of listenerKeys) {
      const count = (this.counts.get(key) ?? 0) + by;
      if (count === 0) this.counts.delete(key);
      else this.counts.set(key, count);
    }
  }
}
