// What every pass reads: the options and the lookups over the objects (kept up to date by context-index.ts): objects
// by namespace/name, EndpointSlices by Service, namespace labels, ReferenceGrants, BackendTLSPolicies. Read-only
// during a pass: a pass returns what it found (a route's node keeps its resolved backends), it writes nothing here.

import type { BackendTls } from '../../shared/ir/backend.ts';
import type { CompleteOptions } from './options.ts';
import { isObject } from './read.ts';
import type { ReferenceGrantIndex } from './referencegrant.ts';
import type { BackendTLSPolicy, ClusterTrustBundle, ConfigMap, EndpointSlice, Secret, Service } from './resources.ts';

export interface TranslateContext {
  readonly options: CompleteOptions;
  readonly services: ReadonlyMap<string, Service>;
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly configMaps: ReadonlyMap<string, ConfigMap>;
  /** ClusterTrustBundles by name (cluster-scoped; GEP-5075 CA certificate references). */
  readonly clusterTrustBundles: ReadonlyMap<string, ClusterTrustBundle>;
  /** EndpointSlices by `<namespace>/<service>` (label `kubernetes.io/service-name`), in precedence order. */
  readonly endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Labels of each Namespace object, by name. */
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly grants: ReferenceGrantIndex;
  /** BackendTLSPolicies by namespace, in precedence order, checked by the policies pass (session/policies.ts). */
  readonly backendTlsPolicies: ReadonlyMap<string, readonly CheckedPolicy[]>;
}

// What the policies pass (policies/backendtlspolicy.ts) hands the routes through the context.

/** What a policy says, checked: the TLS settings when it can be applied, and what is wrong with it. */
export interface PolicyCheck {
  tls?: BackendTls;
  /** Accepted=False: the policy cannot be applied at all. */
  rejection?: { reason: 'Invalid' | 'NoValidCACertificate'; message: string };
  /** ResolvedRefs=False: `caCertificateRefs` entries that cannot be used, in order. */
  refProblems: Array<{ reason: 'InvalidCACertificateRef' | 'InvalidKind'; message: string }>;
}

/** A policy with its check and, when an older policy takes its target, the conflict. */
export interface CheckedPolicy {
  policy: BackendTLSPolicy;
  check: PolicyCheck;
  conflict?: string;
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
