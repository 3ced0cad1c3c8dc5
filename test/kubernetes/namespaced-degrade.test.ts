// Namespaced installs degrade, they do not stop (issue 14 item 6), on a real API server with real RBAC: an operator
// told to watch team-a and team-c, granted a Role in team-a only (as a user that adds a namespace to --namespaces and
// forgets its Role), syncs and serves team-a, reports team-c once (log, metric, a Warning Event in its own namespace),
// picks team-c up when the Role is granted, and drops team-a's objects when its Role is revoked.

import { expect } from 'chai';
import pino from 'pino';
import { Registry } from 'prom-client';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { EventRecorder } from '../../operator/framework/events.ts';
import { KubeClient } from '../../operator/framework/kube-client.ts';
import { StatusWriter } from '../../operator/framework/status-writer.ts';
import { registerKubernetesMetrics } from '../../operator/kubernetes/metrics.ts';
import { KubernetesProvider } from '../../operator/kubernetes/provider.ts';
import { ResourceStore } from '../../operator/store/resource-store.ts';
import { adminClient, apply, deleteObject, eventually, kubeConfigFor } from './support/kube.ts';

const USER = 'namespaced-operator';
const OWN = 'portico-system';

const role = (namespace: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name: 'portico-operator', namespace },
  rules: [
    {
      apiGroups: ['gateway.networking.k8s.io'],
      resources: ['gateways', 'listenersets', 'httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes'],
      verbs: ['list', 'watch'],
    },
    {
      apiGroups: ['gateway.networking.k8s.io'],
      resources: ['referencegrants', 'backendtlspolicies'],
      verbs: ['list', 'watch'],
    },
    {
      apiGroups: ['gateway.networking.x-k8s.io'],
      resources: ['xtelemetrypolicies', 'xbackendtrafficpolicies'],
      verbs: ['list', 'watch'],
    },
    { apiGroups: [''], resources: ['services', 'secrets', 'configmaps'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  ],
});
const binding = (namespace: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'portico-operator', namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'portico-operator' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: USER }],
});

describe('namespaced install with a namespace it may not read (real API server, real RBAC)', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let admin: KubeClient;
  let asOperator: KubeClient;
  let provider: KubernetesProvider | undefined;
  let events: EventRecorder | undefined;
  const store = new ResourceStore();
  const registry = new Registry();
  const lines: Array<{ level: number; msg: string; namespace?: string }> = [];

  const metric = async (namespace: string) => {
    const text = await registry.metrics();
    const match = new RegExp(`portico_operator_namespace_readable\\{namespace="${namespace}"\\} (\\d)`).exec(text);
    return match === null ? undefined : Number(match[1]);
  };

  before(async () => {
    cluster = await startCluster();
    admin = adminClient(cluster.kubeconfigPath);
    for (const ns of ['team-a', 'team-c', OWN])
      await apply(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const ns of ['team-a', 'team-c'])
      await apply(admin, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: ns },
        data: { team: ns },
      });
    // manifests/namespaced's cluster-wide part (classes, the watched Namespaces by name, the Gateway API CRDs by
    // name), and a Role in team-a and in the operator's own namespace: none in team-c.
    await apply(admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: USER },
      rules: [
        { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['namespaces'], resourceNames: ['team-a', 'team-c'], verbs: ['list', 'watch'] },
      ],
    });
    await apply(admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: USER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: USER },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: USER }],
    });
    for (const ns of ['team-a', OWN]) {
      await apply(admin, role(ns));
      await apply(admin, binding(ns));
    }
    asOperator = new KubeClient(kubeConfigFor(cluster.kubeconfigPath, undefined, USER));
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    events = new EventRecorder({
      client: asOperator,
      reportingController: 'portico.dev/test',
      reportingInstance: 'op-0',
      log,
    });
    provider = new KubernetesProvider({
      client: asOperator,
      store,
      log,
      namespaces: ['team-a', 'team-c'],
      events,
      eventsAbout: { apiVersion: 'v1', kind: 'Pod', namespace: OWN, name: 'op-0' },
      // Short backoff and watches, so that a warning per retry would show, and a revoked Role is noticed at the next
      // watch (an open watch outlives an RBAC change).
      reflector: { backoff: { initialMs: 50, maxMs: 200 }, minWatchTimeoutSeconds: 1 },
    });
    const p = provider;
    registerKubernetesMetrics(registry, {
      elector: () => null,
      provider: () => p,
      writer: new StatusWriter({ client: asOperator, fieldManager: 'test', log }),
      events,
    });
    await provider.start();
  });

  after(async () => {
    await provider?.stop();
    await events?.stop();
    await asOperator?.close();
    await admin?.close();
    await cluster?.stop();
  });

  it('syncs and serves the readable namespace; team-c is reported, not waited for', async () => {
    expect(provider!.synced).to.equal(true);
    expect(store.get('ConfigMap/team-a/settings')).to.not.equal(undefined);
    expect(store.get('ConfigMap/team-c/settings')).to.equal(undefined);
    expect(provider!.unreadableNamespaces()).to.deep.equal(['team-c']);
    // Its Roles grant no ClusterTrustBundles (an optional kind): counted as missing, not waited for (GEP-5075).
    expect(provider!.missingKinds()).to.include('ClusterTrustBundle');
    expect(await metric('team-a')).to.equal(1);
    expect(await metric('team-c')).to.equal(0);
  });

  it('says so once (not once per retry), with a Warning Event in the operator namespace', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const warnings = lines.filter((l) => l.level >= 40 && l.namespace === 'team-c');
    expect(warnings.map((l) => l.msg)).to.have.length(1);
    expect(warnings[0]!.msg).to.match(/Cannot read .* in namespace team-c/);
    const found = await eventually('the NamespaceUnreadable Event', async () => {
      const list = await admin.request<{ items: Array<{ reason?: string; note?: string; type?: string }> }>(
        'GET',
        `/apis/events.k8s.io/v1/namespaces/${OWN}/events`,
      );
      return list.items.find((e) => e.reason === 'NamespaceUnreadable');
    });
    expect(found.type).to.equal('Warning');
    expect(found.note).to.include('team-c');
  });

  it('serves team-c once its Role is granted', async () => {
    await apply(admin, role('team-c'));
    await apply(admin, binding('team-c'));
    await eventually('team-c served', async () => store.get('ConfigMap/team-c/settings') !== undefined);
    // Each kind's reflector finds the grant at its own next retry (backoff at most 200 ms here).
    await eventually('no namespace unreadable', async () => provider!.unreadableNamespaces().length === 0);
    expect(await metric('team-c')).to.equal(1);
  });

  it('drops what it held from team-a when team-a’s Role is revoked, and keeps serving team-c', async () => {
    await deleteObject(admin, 'RoleBinding', 'team-a', 'portico-operator');
    await eventually('team-a dropped', async () => store.get('ConfigMap/team-a/settings') === undefined, 30_000);
    expect(provider!.unreadableNamespaces()).to.deep.equal(['team-a']);
    expect(store.get('ConfigMap/team-c/settings')).to.not.equal(undefined);
    expect(await metric('team-a')).to.equal(0);
  });
});
