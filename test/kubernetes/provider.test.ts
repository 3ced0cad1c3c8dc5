// The Kubernetes provider on a real API server WITHOUT the Gateway API CRDs: it syncs the core kinds and carries on
// (one warning per missing kind), watches a kind from the moment its CRD is installed, honours a namespace list (the
// namespace-scoped install), and keeps status-only changes of the kinds we write status for out of the store while
// still reporting them as live changes.

import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import pino from 'pino';
import { parse } from 'yaml';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { CONTENT_TYPE } from '../../operator/framework/kube-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { KubernetesProvider } from '../../operator/kubernetes/provider.ts';
import { ResourceStore } from '../../operator/store/resource-store.ts';
import { adminClient, apply, eventually } from './support/kube.ts';

const CRD = new URL('../cluster/crds/experimental/gateway.networking.k8s.io_gatewayclasses.yaml', import.meta.url);

describe('kubernetes provider (real API server, no Gateway API CRDs at start)', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let provider: KubernetesProvider | undefined;
  const store = new ResourceStore();
  const lines: Array<{ msg: string; kind?: string }> = [];
  const live: string[] = [];

  before(async () => {
    cluster = await startCluster({ crds: false });
    client = adminClient(cluster.kubeconfigPath);
    for (const ns of ['team-a', 'team-b']) {
      await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: ns } } });
      await apply(client, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: ns },
        data: { a: '1' },
      });
    }
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    provider = new KubernetesProvider({
      client,
      store,
      log,
      namespaces: ['team-a'],
      rediscoverMs: 300,
      onLiveChange: (kind, key) => void live.push(`${kind} ${key}`),
    });
    await provider.start();
  });

  after(async () => {
    await provider?.stop();
    await client?.close();
    await cluster?.stop();
  });

  it('syncs the core kinds and warns once per missing Gateway API kind', () => {
    expect(provider!.synced).to.equal(true);
    expect(provider!.missingKinds().sort()).to.deep.equal(
      [
        'BackendTLSPolicy',
        'GRPCRoute',
        'Gateway',
        'GatewayClass',
        'HTTPRoute',
        'ListenerSet',
        'ReferenceGrant',
        'TCPRoute',
        'TLSRoute',
        'UDPRoute',
        'XTelemetryPolicy',
        'XBackendTrafficPolicy',
      ].sort(),
    );
    const warned = lines.filter((l) => l.msg.startsWith('kind not served')).map((l) => l.kind);
    expect(warned.sort()).to.deep.equal(provider!.missingKinds().sort());
  });

  it('watches only the listed namespaces, and only those Namespace objects', () => {
    const keys = store.snapshot();
    expect(keys.configMaps.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`)).to.deep.equal([
      'team-a/settings',
    ]);
    expect(keys.namespaces.map((n) => n.metadata?.name)).to.deep.equal(['team-a']);
    expect(store.get('ConfigMap/team-b/settings')).to.equal(undefined);
  });

  it('starts watching a kind once its CRD is installed', async () => {
    await client.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: parse(readFileSync(CRD, 'utf8')),
    });
    await eventually(
      'GatewayClass watched',
      async () => provider!.resourceOf('GatewayClass')?.version === 'v1',
      30_000,
    );
    await eventually('GatewayClass created', async () => {
      await apply(client, {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'late' },
        spec: { controllerName: 'portico.dev/gateway-controller' },
      });
      return true;
    });
    await eventually('GatewayClass in the store', async () => store.get('GatewayClass//late') !== undefined);
    expect(provider!.missingKinds()).not.to.include('GatewayClass');
  });

  it('keeps a status-only change out of the store but reports it as a live change', async () => {
    const revision = store.revision;
    live.length = 0;
    await client.request('PATCH', '/apis/gateway.networking.k8s.io/v1/gatewayclasses/late/status', {
      body: {
        status: {
          conditions: [
            {
              type: 'Accepted',
              status: 'True',
              reason: 'Accepted',
              message: 'x',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      },
      contentType: CONTENT_TYPE.mergePatch,
    });
    await eventually('the live change', async () => live.includes('GatewayClass late'));
    expect(provider!.get('GatewayClass', undefined, 'late')?.status).to.have.property('conditions');
    expect(store.revision, 'store untouched').to.equal(revision);
    // A spec change does reach it.
    await apply(client, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'late' },
      spec: { controllerName: 'portico.dev/gateway-controller', description: 'changed' },
    });
    await eventually('the spec change in the store', async () => store.revision > revision);
  });
});
