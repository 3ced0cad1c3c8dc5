// Helpers for tests on the real API server: an admin client, objects applied as a test (server-side apply under the
// tests' own field manager), fixtures from YAML with placeholders, and polling with a deadline.

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { CONTENT_TYPE, KubeClient, isApiError } from '../../../operator/framework/kube-client.ts';
import { objectPath } from '../../../operator/framework/resource.ts';
import type { ApiObject, ResourceType } from '../../../operator/framework/resource.ts';

export const CONTROLLER = 'portico.dev/gateway-controller';
const GW = 'gateway.networking.k8s.io';

/** The kinds tests touch, at the versions the v1.6.1 CRDs serve. */
export const RESOURCES: Record<string, ResourceType> = {
  GatewayClass: { group: GW, version: 'v1', plural: 'gatewayclasses', kind: 'GatewayClass', namespaced: false },
  Gateway: { group: GW, version: 'v1', plural: 'gateways', kind: 'Gateway', namespaced: true },
  HTTPRoute: { group: GW, version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true },
  ListenerSet: { group: GW, version: 'v1', plural: 'listenersets', kind: 'ListenerSet', namespaced: true },
  BackendTLSPolicy: {
    group: GW,
    version: 'v1',
    plural: 'backendtlspolicies',
    kind: 'BackendTLSPolicy',
    namespaced: true,
  },
  XTelemetryPolicy: {
    group: 'gateway.networking.x-k8s.io',
    version: 'v1alpha1',
    plural: 'xtelemetrypolicies',
    kind: 'XTelemetryPolicy',
    namespaced: true,
  },
  XBackendTrafficPolicy: {
    group: 'gateway.networking.x-k8s.io',
    version: 'v1alpha1',
    plural: 'xbackendtrafficpolicies',
    kind: 'XBackendTrafficPolicy',
    namespaced: true,
  },
  Service: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  EndpointSlice: {
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
  },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  Secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  /** Beta in the test bed's Kubernetes 1.36 (enabled by test/cluster); GA (v1) from 1.37. */
  ClusterTrustBundle: {
    group: 'certificates.k8s.io',
    version: 'v1beta1',
    plural: 'clustertrustbundles',
    kind: 'ClusterTrustBundle',
    namespaced: false,
  },
  Namespace: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  Lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  ClusterRole: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterroles',
    kind: 'ClusterRole',
    namespaced: false,
  },
  ClusterRoleBinding: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    namespaced: false,
  },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true },
  RoleBinding: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'rolebindings',
    kind: 'RoleBinding',
    namespaced: true,
  },
};

export function kubeConfigFor(kubeconfigPath: string, server?: string, impersonate?: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  // The admin's credentials acting as another user (Impersonate-User), to run with that user's RBAC only.
  if (impersonate !== undefined) config.users = config.users.map((u) => ({ ...u, impersonateUser: impersonate }));
  if (server !== undefined) {
    // Same credentials and CA, another address (a proxy in front of the API server).
    const cluster = config.getCurrentCluster()!;
    config.clusters = config.clusters.map((c) => (c.name === cluster.name ? { ...c, server } : c));
  }
  return config;
}

export function adminClient(kubeconfigPath: string): KubeClient {
  return new KubeClient(kubeConfigFor(kubeconfigPath), { userAgent: 'portico-tests' });
}

function resourceOf(kind: string): ResourceType {
  const resource = RESOURCES[kind];
  if (resource === undefined) throw new Error(`tests know no resource for kind ${kind}`);
  return resource;
}

function refOf(object: ApiObject) {
  return { namespace: object.metadata?.namespace, name: object.metadata!.name! };
}

/** Creates or updates an object (server-side apply as `portico-tests`). */
export async function apply(client: KubeClient, object: ApiObject): Promise<ApiObject> {
  return client.request<ApiObject>('PATCH', objectPath(resourceOf(object.kind!), refOf(object)), {
    query: { fieldManager: 'portico-tests', force: true },
    body: object,
    contentType: CONTENT_TYPE.apply,
  });
}

export async function getObject(
  client: KubeClient,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<ApiObject | undefined> {
  try {
    return await client.request<ApiObject>('GET', objectPath(resourceOf(kind), { namespace, name }));
  } catch (error) {
    if (isApiError(error, 404)) return undefined;
    throw error;
  }
}

export async function deleteObject(
  client: KubeClient,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<void> {
  await client.request('DELETE', objectPath(resourceOf(kind), { namespace, name }));
}

/** Reads a YAML fixture beside the tests, with ${NAME} placeholders filled in. */
export function loadFixture(file: string, vars: Record<string, string | number>): ApiObject[] {
  let text = readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8');
  text = text.replace(/\$\{([A-Z_]+)\}/g, (_m, name: string) => {
    if (!(name in vars)) throw new Error(`${file}: no value for \${${name}}`);
    return String(vars[name]);
  });
  return parseAllDocuments(text)
    .map((d) => d.toJS() as ApiObject)
    .filter((o) => o !== null);
}

/** Polls until `probe` returns something other than undefined/false; fails with `what` and the last value seen. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface ConditionLike {
  type: string;
  status: string;
  reason: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export function conditionOf(status: unknown, type: string): ConditionLike | undefined {
  const conditions = (status as { conditions?: ConditionLike[] } | undefined)?.conditions;
  return Array.isArray(conditions) ? conditions.find((c) => c.type === type) : undefined;
}

export interface ParentStatusLike {
  parentRef: { name: string; namespace?: string; sectionName?: string };
  controllerName: string;
  conditions: ConditionLike[];
}

export function parentsOf(status: unknown): ParentStatusLike[] {
  const parents = (status as { parents?: ParentStatusLike[] } | undefined)?.parents;
  return Array.isArray(parents) ? parents : [];
}

/**
 * A non-loopback IPv4 address of this machine, for EndpointSlices: the API server refuses endpoints in 127.0.0.0/8
 * ("may not be in the loopback range"), so the echo backend listens on a real interface address instead.
 */
export function nonLoopbackIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? [])
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
  }
  return undefined;
}

/**
 * The backend address of a suite that serves traffic through EndpointSlices. A machine with no such address cannot
 * run the suite: it is skipped with the reason printed, and in CI (CI=true) it fails instead, so that a green CI run
 * always includes these tests.
 */
export function backendAddressOrSkip(context: Mocha.Context): string {
  const address = nonLoopbackIPv4();
  if (address !== undefined) return address;
  const reason =
    'this machine has no non-loopback IPv4 address, and the API server refuses loopback addresses in EndpointSlices';
  if (process.env.CI === 'true') throw new Error(`cannot run "${context.test?.parent?.title}": ${reason}`);
  console.warn(`  SKIPPED "${context.test?.parent?.title}": ${reason}`);
  context.skip();
}

/** A loopback address for one test file's Gateway, so that parallel or leftover runs never share a socket. */
export function gatewayAddress(): string {
  return `127.${(process.pid % 200) + 20}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
}
