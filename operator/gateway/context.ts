// What every pass reads: the options and the lookups over the objects (kept up to date by context-index.ts): objects
// by namespace/name, EndpointSlices by Service, namespace labels, ReferenceGrants, BackendTLSPolicies. Read-only
// during a pass: a pass returns what it found (a route's node keeps its resolved backends), it writes nothing here.

import type { CheckedPolicy } from './backendtlspolicy.ts';
import type { ResolvedOptions } from './options.ts';
import { isObject } from './read.ts';
import type { ReferenceGrantIndex } from './referencegrant.ts';
import type { ConfigMap, EndpointSlice, Secret, Service } from './resources.ts';

export interface TranslateContext {
  readonly options: ResolvedOptions;
  readonly services: ReadonlyMap<string, Service>;
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly configMaps: ReadonlyMap<string, ConfigMap>;
  /** EndpointSlices by `<namespace>/<service>` (label `kubernetes.io/service-name`), in precedence order. */
  readonly endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Labels of each Namespace object, by name. */
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly grants: ReferenceGrantIndex;
  /** BackendTLSPolicies by namespace, in precedence order, checked by the policies pass (session-policies.ts). */
  readonly backendTlsPolicies: ReadonlyMap<string, readonly CheckedPolicy[]>;
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
