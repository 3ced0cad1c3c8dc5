// The kinds the Kubernetes provider watches, and which version of each it reads. Gateway API kinds are looked up
// in the API server's discovery, newest version first (the v1.6.1 and v1.7.0 CRDs serve v1 for all of them; older installs
// serve v1beta1 / v1alpha3 / v1alpha2 for some): a kind whose CRD is not installed is simply absent. Core kinds are
// always served at the versions named here.

import { isApiError } from '../framework/kube-client.ts';
import type { KubeClient } from '../framework/kube-client.ts';
import type { ResourceType } from '../framework/resource.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** The experimental group (`X` kinds), whose CRDs only the experimental channel installs. */
export const GATEWAY_X_GROUP = 'gateway.networking.x-k8s.io';

export interface WatchedKind {
  kind: string;
  group: string;
  plural: string;
  namespaced: boolean;
  /** Versions we can read, preferred first. Core kinds have one. */
  versions: readonly string[];
  /**
   * Not needed to serve: a 403 on it at cluster scope (a hardened cluster that removed the default grant, or an
   * operator upgraded before its RBAC) does not hold readiness; the kind counts as missing (its feature is not
   * claimed) until it can be read, and the refusal is logged once.
   */
  optional?: boolean;
}

export const WATCHED_KINDS: readonly WatchedKind[] = [
  {
    kind: 'GatewayClass',
    group: GATEWAY_GROUP,
    plural: 'gatewayclasses',
    namespaced: false,
    versions: ['v1', 'v1beta1'],
  },
  { kind: 'Gateway', group: GATEWAY_GROUP, plural: 'gateways', namespaced: true, versions: ['v1', 'v1beta1'] },
  { kind: 'HTTPRoute', group: GATEWAY_GROUP, plural: 'httproutes', namespaced: true, versions: ['v1', 'v1beta1'] },
  { kind: 'GRPCRoute', group: GATEWAY_GROUP, plural: 'grpcroutes', namespaced: true, versions: ['v1', 'v1alpha2'] },
  {
    kind: 'TLSRoute',
    group: GATEWAY_GROUP,
    plural: 'tlsroutes',
    namespaced: true,
    versions: ['v1', 'v1alpha3', 'v1alpha2'],
  },
  { kind: 'TCPRoute', group: GATEWAY_GROUP, plural: 'tcproutes', namespaced: true, versions: ['v1', 'v1alpha2'] },
  { kind: 'UDPRoute', group: GATEWAY_GROUP, plural: 'udproutes', namespaced: true, versions: ['v1', 'v1alpha2'] },
  { kind: 'ListenerSet', group: GATEWAY_GROUP, plural: 'listenersets', namespaced: true, versions: ['v1'] },
  {
    kind: 'ReferenceGrant',
    group: GATEWAY_GROUP,
    plural: 'referencegrants',
    namespaced: true,
    versions: ['v1', 'v1beta1', 'v1alpha2'],
  },
  {
    kind: 'BackendTLSPolicy',
    group: GATEWAY_GROUP,
    plural: 'backendtlspolicies',
    namespaced: true,
    versions: ['v1', 'v1alpha3', 'v1alpha2'],
  },
  // Experimental channel only: absent from a standard install, then simply not watched (no policy, the flags apply).
  {
    kind: 'XTelemetryPolicy',
    group: GATEWAY_X_GROUP,
    plural: 'xtelemetrypolicies',
    namespaced: true,
    versions: ['v1alpha1'],
  },
  // Experimental too (GEP-1619 session persistence, retry budgets); absent from a standard install: not watched.
  // Optional: Portico 0.1.0's chart installs its CRD without granting it, so an operator upgraded before its chart
  // must still serve (measured: test/helm/install.test.ts held Programmed=False on the 403) — without the policies'
  // stickiness until the grant comes, said once in the log.
  {
    kind: 'XBackendTrafficPolicy',
    group: GATEWAY_X_GROUP,
    plural: 'xbackendtrafficpolicies',
    namespaced: true,
    versions: ['v1alpha1'],
    optional: true,
  },
  { kind: 'Service', group: '', plural: 'services', namespaced: true, versions: ['v1'] },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', plural: 'endpointslices', namespaced: true, versions: ['v1'] },
  // Every Secret of the watched namespaces, though only those a listener or a BackendTLSPolicy names are used: simple
  // and correct (a reference to a Secret that appears later just works), at the cost of holding them all in memory
  // and of one reconcile pass per Secret change. A reference-driven watch is the known next step if that hurts.
  { kind: 'Secret', group: '', plural: 'secrets', namespaced: true, versions: ['v1'] },
  { kind: 'ConfigMap', group: '', plural: 'configmaps', namespaced: true, versions: ['v1'] },
  { kind: 'Namespace', group: '', plural: 'namespaces', namespaced: false, versions: ['v1'] },
  // GEP-5075 CA references. GA (v1) in Kubernetes 1.37; beta before, off unless the API server enables it
  // (--runtime-config, feature gate ClusterTrustBundle): found by discovery like a CRD, and absent is fine.
  {
    kind: 'ClusterTrustBundle',
    group: 'certificates.k8s.io',
    plural: 'clustertrustbundles',
    namespaced: false,
    versions: ['v1', 'v1beta1', 'v1alpha1'],
    optional: true,
  },
];

/** Features that need a kind the API server may not serve: not claimed while it is missing (GEP-5075). */
export const FEATURES_NEEDING_KIND: Readonly<Record<string, string>> = { ClusterTrustBundle: 'ClusterTrustBundle' };

/** `features` without those whose kind is in `missing`. */
export function servedFeatures(features: readonly string[], missing: readonly string[]): string[] {
  return features.filter((f) => !missing.includes(FEATURES_NEEDING_KIND[f] ?? ''));
}

/** Kinds whose status this operator writes: their own status updates must not cause a new translation. */
export const STATUS_KINDS: ReadonlySet<string> = new Set([
  'GatewayClass',
  'Gateway',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'UDPRoute',
  'BackendTLSPolicy',
  'ListenerSet',
  'XTelemetryPolicy',
  'XBackendTrafficPolicy',
]);

interface ApiResourceList {
  resources?: Array<{ name?: string; kind?: string; namespaced?: boolean }>;
}

/** Plurals served per version of one API group ({} when the group is not served at all). */
async function servedPlurals(client: KubeClient, group: string): Promise<Map<string, Set<string>>> {
  const served = new Map<string, Set<string>>();
  let versions: string[];
  try {
    const apiGroup = await client.request<{ versions?: Array<{ version?: string }> }>('GET', `/apis/${group}`);
    versions = (apiGroup.versions ?? []).map((v) => v.version ?? '').filter((v) => v !== '');
  } catch (error) {
    if (isApiError(error, 404)) return served;
    throw error;
  }
  for (const version of versions) {
    try {
      const list = await client.request<ApiResourceList>('GET', `/apis/${group}/${version}`);
      served.set(
        version,
        new Set((list.resources ?? []).map((r) => r.name ?? '').filter((n) => n !== '' && !n.includes('/'))),
      );
    } catch (error) {
      if (!isApiError(error, 404)) throw error;
    }
  }
  return served;
}

export interface Discovered {
  resources: Map<string, ResourceType>;
  /** Kinds not served by the API server (their CRD is not installed, or only in a version we cannot read). */
  missing: WatchedKind[];
}

/** Resolves the version of every watched kind (or finds it missing). Throws when discovery itself fails. */
export async function discoverKinds(
  client: KubeClient,
  kinds: readonly WatchedKind[] = WATCHED_KINDS,
): Promise<Discovered> {
  const resources = new Map<string, ResourceType>();
  const missing: WatchedKind[] = [];
  const byGroup = new Map<string, Map<string, Set<string>>>();
  for (const watched of kinds) {
    if (watched.group === '' || watched.group === 'discovery.k8s.io') {
      resources.set(watched.kind, {
        group: watched.group,
        version: watched.versions[0],
        plural: watched.plural,
        kind: watched.kind,
        namespaced: watched.namespaced,
      });
      continue;
    }
    let served = byGroup.get(watched.group);
    if (served === undefined) byGroup.set(watched.group, (served = await servedPlurals(client, watched.group)));
    const version = watched.versions.find((v) => served.get(v)?.has(watched.plural));
    if (version === undefined) missing.push(watched);
    else
      resources.set(watched.kind, {
        group: watched.group,
        version,
        plural: watched.plural,
        kind: watched.kind,
        namespaced: watched.namespaced,
      });
  }
  return { resources, missing };
}
