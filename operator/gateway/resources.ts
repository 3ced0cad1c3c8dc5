// The translator's input: plain Kubernetes objects as parsed from JSON or YAML, grouped by kind and sorted by Gateway
// API precedence. The interfaces below name only the fields the translator reads, all optional, and say nothing of
// the API version: an older or newer version parses the same, unknown fields are ignored, and a field of the wrong
// type is caught where it is read (see read.ts), never here.
// This module must not import a Kubernetes client or models package: the translator runs in a worker thread and in
// tests on plain data.

import { isObject, nonEmptyString, objectAt, stringAt } from './read.ts';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
}

/** Any Kubernetes object: the translator reads `spec` and friends through read.ts, so their shape is left open. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  // biome-ignore lint/suspicious/noExplicitAny: each kind's reader checks the spec field by field (read.ts)
  spec?: any;
  data?: Record<string, unknown>;
  stringData?: Record<string, unknown>;
  type?: string;
}

export type GatewayClass = KubeObject;
export type Gateway = KubeObject;
export type HTTPRoute = KubeObject;
export type GRPCRoute = KubeObject;
export type TLSRoute = KubeObject;
export type TCPRoute = KubeObject;
export type UDPRoute = KubeObject;
export type ListenerSet = KubeObject;
export type ReferenceGrant = KubeObject;
export type BackendTLSPolicy = KubeObject;
/** gateway.networking.x-k8s.io XTelemetryPolicy (GEP-4768). */
export type XTelemetryPolicy = KubeObject;
/** gateway.networking.x-k8s.io XBackendTrafficPolicy (policies/backendtrafficpolicy.ts). */
export type XBackendTrafficPolicy = KubeObject;
export type Service = KubeObject;
/** discovery.k8s.io/v1 EndpointSlice: `endpoints`, `ports` and `addressType` sit at the top level, not in `spec`. */
export type EndpointSlice = KubeObject & { endpoints?: unknown; ports?: unknown; addressType?: unknown };
export type Secret = KubeObject;
export type ConfigMap = KubeObject;
export type Namespace = KubeObject;
/** certificates.k8s.io ClusterTrustBundle (GEP-5075): cluster-scoped, PEM CA certificates in `spec.trustBundle`. */
export type ClusterTrustBundle = KubeObject;

/** Everything the translator may look at, each list sorted by precedence (see `comparePrecedence`). */
export interface ResourceSnapshot {
  gatewayClasses: readonly GatewayClass[];
  gateways: readonly Gateway[];
  httpRoutes: readonly HTTPRoute[];
  grpcRoutes: readonly GRPCRoute[];
  tlsRoutes: readonly TLSRoute[];
  tcpRoutes: readonly TCPRoute[];
  udpRoutes: readonly UDPRoute[];
  /** ListenerSets: listeners added to a Gateway (listenerset.ts). */
  listenerSets: readonly ListenerSet[];
  referenceGrants: readonly ReferenceGrant[];
  backendTlsPolicies: readonly BackendTLSPolicy[];
  /** XTelemetryPolicies (policies/telemetrypolicy.ts). */
  telemetryPolicies: readonly XTelemetryPolicy[];
  /** XBackendTrafficPolicies (policies/backendtrafficpolicy.ts). */
  backendTrafficPolicies: readonly XBackendTrafficPolicy[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  secrets: readonly Secret[];
  configMaps: readonly ConfigMap[];
  namespaces: readonly Namespace[];
  clusterTrustBundles: readonly ClusterTrustBundle[];
}

export type SnapshotList = keyof ResourceSnapshot;

/** Which list of the snapshot each kind goes to. Kinds not named here are not the translator's business. */
export const SNAPSHOT_LIST_OF_KIND: Readonly<Record<string, SnapshotList>> = {
  GatewayClass: 'gatewayClasses',
  Gateway: 'gateways',
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TLSRoute: 'tlsRoutes',
  TCPRoute: 'tcpRoutes',
  UDPRoute: 'udpRoutes',
  ListenerSet: 'listenerSets',
  ReferenceGrant: 'referenceGrants',
  BackendTLSPolicy: 'backendTlsPolicies',
  XTelemetryPolicy: 'telemetryPolicies',
  XBackendTrafficPolicy: 'backendTrafficPolicies',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Secret: 'secrets',
  ConfigMap: 'configMaps',
  Namespace: 'namespaces',
  ClusterTrustBundle: 'clusterTrustBundles',
};

export function emptyResourceSnapshot(): ResourceSnapshot {
  return {
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    listenerSets: [],
    referenceGrants: [],
    backendTlsPolicies: [],
    telemetryPolicies: [],
    backendTrafficPolicies: [],
    services: [],
    endpointSlices: [],
    secrets: [],
    configMaps: [],
    namespaces: [],
    clusterTrustBundles: [],
  };
}

export function nameOf(object: KubeObject): string {
  return nonEmptyString(objectAt(object.metadata).name) ?? '';
}

/** The namespace, `default` when absent (as the API server would default it). Cluster-scoped kinds ignore it. */
export function namespaceOf(object: KubeObject): string {
  return nonEmptyString(objectAt(object.metadata).namespace) ?? 'default';
}

/** `metadata.generation`; 1 when absent (a file in standalone mode has no generation). */
export function generationOf(object: KubeObject): number {
  const generation = objectAt(object.metadata).generation;
  return Number.isSafeInteger(generation) && (generation as number) > 0 ? (generation as number) : 1;
}

/** `metadata.creationTimestamp` in milliseconds; 0 when absent or unparsable, so such objects count as oldest. */
export function createdAt(object: KubeObject): number {
  const stamp = stringAt(objectAt(object.metadata).creationTimestamp);
  const ms = stamp === undefined ? NaN : Date.parse(stamp);
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * Gateway API precedence between objects of one kind: the oldest creationTimestamp first, then namespace/name in
 * alphabetical order. Conflicts are decided by it (the earlier object wins), so every list of the snapshot is sorted
 * by it once, here.
 */
export function comparePrecedence(a: KubeObject, b: KubeObject): number {
  const byAge = createdAt(a) - createdAt(b);
  if (byAge !== 0) return byAge;
  const left = `${namespaceOf(a)}/${nameOf(a)}`;
  const right = `${namespaceOf(b)}/${nameOf(b)}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The snapshot list an object goes to; undefined for what the translator does not look at (unknown kind, no name). */
export function snapshotListOf(object: unknown): SnapshotList | undefined {
  if (!isObject(object)) return undefined;
  const kind = stringAt(object.kind);
  const list =
    kind !== undefined && Object.hasOwn(SNAPSHOT_LIST_OF_KIND, kind) ? SNAPSHOT_LIST_OF_KIND[kind] : undefined;
  return list === undefined || nameOf(object as KubeObject) === '' ? undefined : list;
}

/**
 * Builds a snapshot from any list of objects: sorts them into their kind's list (unknown kinds and objects without
 * a name are left out) and each list by precedence. The objects themselves are not copied or changed.
 */
export function buildResourceSnapshot(objects: Iterable<unknown>): ResourceSnapshot {
  const lists: Record<SnapshotList, KubeObject[]> = emptyResourceSnapshot() as unknown as Record<
    SnapshotList,
    KubeObject[]
  >;
  for (const object of objects) {
    const list = snapshotListOf(object);
    if (list !== undefined) lists[list].push(object as KubeObject);
  }
  for (const list of Object.values(lists)) list.sort(comparePrecedence);
  return lists;
}
