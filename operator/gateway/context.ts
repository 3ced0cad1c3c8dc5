// Lookups over the resource snapshot, built once per run before any pass needs them: objects by namespace/name,
// EndpointSlices by Service, namespace labels, ReferenceGrants. Read-only for the passes, except the memo of
// resolved backends, which only ever grows within one run.

import type { BackendSpec } from './backend.ts';
import type { ResolvedOptions } from './options.ts';
import { isObject } from './read.ts';
import type { ReferenceGrantIndex } from './referencegrant.ts';
import type { ConfigMap, EndpointSlice, KubeObject, Secret, Service } from './resources.ts';

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

export function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * The labels a namespace selector sees. The API server sets `kubernetes.io/metadata.name` on every Namespace; it is
 * added here too, so that a selector on it works for a namespace whose object is not in the snapshot (standalone mode).
 */
export function labelsOfNamespace(context: TranslateContext, namespace: string): Record<string, string> {
  return { ...context.namespaceLabels.get(namespace), 'kubernetes.io/metadata.name': namespace };
}
