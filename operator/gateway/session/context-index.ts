// The lookups of the translate context (context.ts), kept up to date object by object instead of rebuilt per run,
// for the translation session (session.ts). Each lookup has a dependency key (keys.ts `dependencyKey`: `svc|ns/name`,
// `grants|ns`, …): the index says which keys an object change altered, and a tracked context records which keys a
// translation read, so that the session translates again exactly what read something that changed.
// Lists are in precedence order whatever the order objects arrive in; a lookup by name holds one object (objects are
// kept by `objectKey`, so two with one namespace/name cannot both be here).
// Must not translate anything: it only files objects.

import type { TranslateContext } from '../context.ts';
import { stringRecord } from '../context.ts';
import { dependencyKey, namespacedKey, wholeLookupKey } from '../keys.ts';
import type { Lookup } from '../keys.ts';
import { objectAt, stringAt } from '../read.ts';
import { parseGrant } from '../referencegrant.ts';
import type { GrantRule } from '../referencegrant.ts';
import { comparePrecedence, nameOf, namespaceOf } from '../resources.ts';
import type {
  ClusterTrustBundle,
  ConfigMap,
  EndpointSlice,
  KubeObject,
  Secret,
  Service,
  SnapshotList,
} from '../resources.ts';

/** The lookups kept over the objects (the Gateways and ListenerSets a route reads are the session's nodes). */
type ObjectLookup = Exclude<Lookup, 'gw' | 'ls'>;

const LOOKUP_OF_LIST: Partial<Record<SnapshotList, ObjectLookup>> = {
  services: 'svc',
  secrets: 'secret',
  configMaps: 'cm',
  endpointSlices: 'eps',
  namespaces: 'ns',
  referenceGrants: 'grants',
  backendTlsPolicies: 'btp',
  clusterTrustBundles: 'ctb',
};

function lookupKey(lookup: ObjectLookup, object: KubeObject): string | undefined {
  switch (lookup) {
    case 'svc':
    case 'secret':
    case 'cm':
      return namespacedKey(namespaceOf(object), nameOf(object));
    case 'eps': {
      const service = stringAt(objectAt(objectAt(object.metadata).labels)['kubernetes.io/service-name']);
      return service ? namespacedKey(namespaceOf(object), service) : undefined;
    }
    case 'ns':
    case 'ctb':
      return nameOf(object);
    case 'grants':
    case 'btp':
      return namespaceOf(object);
    default: {
      const never: never = lookup;
      return never;
    }
  }
}

export class ContextIndex {
  readonly services = new Map<string, Service>();
  readonly secrets = new Map<string, Secret>();
  readonly configMaps = new Map<string, ConfigMap>();
  readonly clusterTrustBundles = new Map<string, ClusterTrustBundle>();
  readonly endpointSlices = new Map<string, EndpointSlice[]>();
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  readonly grants = new Map<string, GrantRule[]>();
  readonly backendTlsPolicies = new Map<string, KubeObject[]>();
  /** Objects behind each dependency key, in precedence order. */
  readonly #candidates = new Map<string, KubeObject[]>();
  /** The Namespace object whose labels are in force, by name. */
  readonly #namespaces = new Map<string, KubeObject>();

  /** One object of `list` replaced (`before` → `after`, either may be absent); adds the altered keys to `changed`. */
  update(
    list: SnapshotList,
    before: KubeObject | undefined,
    after: KubeObject | undefined,
    changed: Set<string>,
  ): void {
    const lookup = LOOKUP_OF_LIST[list];
    if (lookup === undefined) return;
    const touched = new Set<string>();
    const beforeKey = before === undefined ? undefined : lookupKey(lookup, before);
    if (before !== undefined && beforeKey !== undefined) {
      const id = dependencyKey(lookup, beforeKey);
      const candidates = this.#candidates.get(id) ?? [];
      const at = candidates.indexOf(before);
      if (at !== -1) candidates.splice(at, 1);
      if (candidates.length === 0) this.#candidates.delete(id);
      touched.add(beforeKey);
    }
    const afterKey = after === undefined ? undefined : lookupKey(lookup, after);
    if (after !== undefined && afterKey !== undefined) {
      const id = dependencyKey(lookup, afterKey);
      let candidates = this.#candidates.get(id);
      if (candidates === undefined) this.#candidates.set(id, (candidates = []));
      // After the objects it does not precede: the order a stable sort of the snapshot lists gives.
      let at = candidates.length;
      while (at > 0 && comparePrecedence(candidates[at - 1], after) > 0) at--;
      candidates.splice(at, 0, after);
      touched.add(afterKey);
    }
    for (const key of touched) this.#refresh(lookup, key, changed);
  }

  #refresh(lookup: ObjectLookup, key: string, changed: Set<string>): void {
    const id = dependencyKey(lookup, key);
    const candidates = this.#candidates.get(id) ?? [];
    const set = <V>(map: Map<string, V>, value: V | undefined): boolean => {
      if (map.get(key) === value) return false;
      if (value === undefined) map.delete(key);
      else map.set(key, value);
      return true;
    };
    const first = candidates[0];
    const some = candidates.length > 0;
    let altered: boolean;
    switch (lookup) {
      case 'svc':
        altered = set(this.services, first);
        break;
      case 'secret':
        altered = set(this.secrets, first);
        break;
      case 'cm':
        altered = set(this.configMaps, first);
        break;
      case 'ctb':
        altered = set(this.clusterTrustBundles, first);
        break;
      case 'eps':
        altered = set(this.endpointSlices, some ? [...candidates] : undefined);
        break;
      case 'grants':
        altered = set(this.grants, some ? candidates.map(parseGrant) : undefined);
        break;
      case 'btp':
        altered = set(this.backendTlsPolicies, some ? [...candidates] : undefined);
        break;
      case 'ns': {
        const last = candidates[candidates.length - 1];
        altered = this.#namespaces.get(key) !== last;
        if (last === undefined) this.#namespaces.delete(key);
        else this.#namespaces.set(key, last);
        if (altered)
          set(this.namespaceLabels, last === undefined ? undefined : stringRecord(objectAt(last.metadata).labels));
        break;
      }
      default: {
        const never: never = lookup;
        altered = never;
      }
    }
    if (altered) {
      changed.add(id);
      changed.add(wholeLookupKey(lookup));
    }
  }
}

/** A map that records the dependency key of every lookup (`dependencyKey`; `wholeLookupKey` for a walk over it). */
class TrackingMap<V> implements ReadonlyMap<string, V> {
  readonly #base: ReadonlyMap<string, V>;
  readonly #lookup: Lookup;
  readonly #deps: Set<string>;

  constructor(base: ReadonlyMap<string, V>, lookup: Lookup, deps: Set<string>) {
    this.#base = base;
    this.#lookup = lookup;
    this.#deps = deps;
  }

  get(key: string): V | undefined {
    this.#deps.add(dependencyKey(this.#lookup, key));
    return this.#base.get(key);
  }

  has(key: string): boolean {
    this.#deps.add(dependencyKey(this.#lookup, key));
    return this.#base.has(key);
  }

  get size(): number {
    this.#deps.add(wholeLookupKey(this.#lookup));
    return this.#base.size;
  }

  entries(): MapIterator<[string, V]> {
    this.#deps.add(wholeLookupKey(this.#lookup));
    return this.#base.entries();
  }

  keys(): MapIterator<string> {
    this.#deps.add(wholeLookupKey(this.#lookup));
    return this.#base.keys();
  }

  values(): MapIterator<V> {
    this.#deps.add(wholeLookupKey(this.#lookup));
    return this.#base.values();
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
}

/**
 * The context one object's translation reads through: every lookup lands in `deps`, and backends resolve into a
 * map of their own (the object's backend specs), so that what it used can be told apart from what others used.
 */
export function trackedContext(context: TranslateContext, deps: Set<string>): TranslateContext {
  return {
    options: context.options,
    services: new TrackingMap(context.services, 'svc', deps),
    secrets: new TrackingMap(context.secrets, 'secret', deps),
    configMaps: new TrackingMap(context.configMaps, 'cm', deps),
    clusterTrustBundles: new TrackingMap(context.clusterTrustBundles, 'ctb', deps),
    endpointSlices: new TrackingMap(context.endpointSlices, 'eps', deps),
    namespaceLabels: new TrackingMap(context.namespaceLabels, 'ns', deps),
    grants: new TrackingMap(context.grants, 'grants', deps),
    backendTlsPolicies: new TrackingMap(context.backendTlsPolicies, 'btp', deps),
  };
}

/** Gateways as a route's parentRefs look them up, recording `gw|<key>` for each lookup. */
export function trackedGateways<G>(gateways: ReadonlyMap<string, G>, deps: Set<string>): ReadonlyMap<string, G> {
  return new TrackingMap(gateways, 'gw', deps);
}

/** ListenerSets as a route's parentRefs look them up, recording `ls|<key>` for each lookup. */
export function trackedListenerSets<S>(sets: ReadonlyMap<string, S>, deps: Set<string>): ReadonlyMap<string, S> {
  return new TrackingMap(sets, 'ls', deps);
}
