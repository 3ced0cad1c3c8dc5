// Lookups over the resource snapshot, built once per run before any pass needs them: objects by namespace/name,
// EndpointSlices by Service, namespace labels, ReferenceGrants. Read-only for the passes, except the memo of
// resolved backends, which only ever grows within one run.

import type { BackendSpec } from './backend.ts';
import type { ResolvedOptions } from './options.ts';
import { isObject, objectAt, stringAt } from './read.ts';
import { buildReferenceGrantIndex } from './referencegrant.ts';
import type { ReferenceGrantIndex } from './referencegrant.ts';
import { nameOf, namespaceOf } from './resources.ts';
import type { ConfigMap, EndpointSlice, KubeObject, ResourceSnapshot, Secret, Service } from './resources.ts';

export interface TranslateContext {
  options: ResolvedOptions;
  services: ReadonlyMap<string, Service>;
  secrets: ReadonlyMap<string, Secret>;
  configMaps: ReadonlyMap<string, ConfigMap>;
  /** EndpointSlices by `<namespace>/<service>` (label `kubernetes.io/service-name`), in precedence order. */
  endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Labels of each Namespace object, by name. */
  namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  grants: ReferenceGrantIndex;
  /** BackendTLSPolicies by namespace, in precedence order. */
  backendTlsPolicies: ReadonlyMap<string, readonly KubeObject[]>;
  /** Backends resolved so far in this run, by key; a Service port is resolved once however many routes use it. */
  backends: Map<string, BackendSpec>;
  /**
   * Set only while one route's node is built (routes.ts `buildRouteNode`): the Service ports (`<namespace>/<service>/
   * <port name>`) its HTTP or gRPC backends reach that a BackendTLSPolicy targets, for the policies' status.
   */
  backendTlsPorts?: Set<string>;
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function byNamespacedName<T extends KubeObject>(objects: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  // Lists are in precedence order; the first object of a namespace/name (there should be only one) wins.
  for (const object of objects) {
    const key = objectKey(namespaceOf(object), nameOf(object));
    if (!map.has(key)) map.set(key, object);
  }
  return map;
}

export function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function buildContext(snapshot: ResourceSnapshot, options: ResolvedOptions): TranslateContext {
  const endpointSlices = new Map<string, EndpointSlice[]>();
  for (const slice of snapshot.endpointSlices) {
    const service = stringAt(objectAt(objectAt(slice.metadata).labels)['kubernetes.io/service-name']);
    if (!service) continue;
    const key = objectKey(namespaceOf(slice), service);
    const list = endpointSlices.get(key) ?? [];
    list.push(slice);
    endpointSlices.set(key, list);
  }
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const namespace of snapshot.namespaces) {
    namespaceLabels.set(nameOf(namespace), stringRecord(objectAt(namespace.metadata).labels));
  }
  const backendTlsPolicies = new Map<string, KubeObject[]>();
  for (const policy of snapshot.backendTlsPolicies) {
    const list = backendTlsPolicies.get(namespaceOf(policy)) ?? [];
    list.push(policy);
    backendTlsPolicies.set(namespaceOf(policy), list);
  }
  return {
    options,
    backendTlsPolicies,
    services: byNamespacedName(snapshot.services),
    secrets: byNamespacedName(snapshot.secrets),
    configMaps: byNamespacedName(snapshot.configMaps),
    endpointSlices,
    namespaceLabels,
    grants: buildReferenceGrantIndex(snapshot.referenceGrants),
    backends: new Map(),
  };
}

/**
 * The labels a namespace selector sees. The API server sets `kubernetes.io/metadata.name` on every Namespace; it is
 * added here too, so that a selector on it works for a namespace whose object is not in the snapshot (standalone mode).
 */
export function labelsOfNamespace(context: TranslateContext, namespace: string): Record<string, string> {
  return { ...context.namespaceLabels.get(namespace), 'kubernetes.io/metadata.name': namespace };
}
