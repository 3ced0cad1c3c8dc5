// The test bed itself, end to end: a real etcd and kube-apiserver start, serve the Gateway API CRDs, validate and
// default an HTTPRoute, survive an apiserver restart with their data, and leave no process behind when stopped.
// Needs the binaries from `npm run cluster:build`; without them the first hook fails and says so.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { isRunning, startCluster, type Cluster } from './cluster.ts';

const group = 'gateway.networking.k8s.io';
// Every CRD of the v1.7.0 experimental install (crds/experimental/kustomization.yaml).
const expectedCrds = [
  'backendtlspolicies',
  'gatewayclasses',
  'gateways',
  'grpcroutes',
  'httproutes',
  'listenersets',
  'referencegrants',
  'tcproutes',
  'tlsroutes',
  'udproutes',
]
  .map((p) => `${p}.${group}`)
  .concat(
    ['xbackends', 'xbackendtrafficpolicies', 'xmeshes', 'xtelemetrypolicies'].map(
      (p) => `${p}.gateway.networking.x-k8s.io`,
    ),
  );

const route = {
  apiVersion: `${group}/v1`,
  kind: 'HTTPRoute',
  metadata: { name: 'cluster-test', namespace: 'default' },
  spec: {
    parentRefs: [{ name: 'some-gateway' }],
    hostnames: ['app.example.com'],
    rules: [{ backendRefs: [{ name: 'app', port: 8080 }] }],
  },
};
const routeRef = { group, version: 'v1', namespace: 'default', plural: 'httproutes', name: 'cluster-test' };

function clients(cluster: Cluster) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return { crds: kc.makeApiClient(k8s.ApiextensionsV1Api), objects: kc.makeApiClient(k8s.CustomObjectsApi) };
}

describe('test cluster: real etcd + kube-apiserver', function () {
  this.timeout(180_000);
  let cluster: Cluster | undefined;

  before(async function () {
    cluster = await startCluster();
  });

  after(async function () {
    await cluster?.stop();
  });

  it('serves every Gateway API CRD of the v1.7.0 experimental channel, Established', async function () {
    const { items } = await clients(cluster!).crds.listCustomResourceDefinition();
    const gatewayCrds = items.filter((c) => c.spec.group.startsWith('gateway.networking.'));
    assert.deepEqual(gatewayCrds.map((c) => c.metadata!.name).sort(), [...expectedCrds].sort());
    for (const crd of gatewayCrds) {
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      assert.equal(established?.status, 'True', `${crd.metadata!.name} is not Established`);
      assert.equal(crd.metadata!.annotations?.[`${group}/bundle-version`], 'v1.7.0');
      assert.equal(crd.metadata!.annotations?.[`${group}/channel`], 'experimental');
    }
  });

  it('creates an HTTPRoute and reads it back with the CRD defaults applied', async function () {
    const { objects } = clients(cluster!);
    await objects.createNamespacedCustomObject({ ...routeRef, body: route });
    const got = await objects.getNamespacedCustomObject(routeRef);
    assert.deepEqual(got.spec.hostnames, ['app.example.com']);
    // Defaults come from the CRD's OpenAPI schema, so they prove the real apiserver processed the object.
    assert.deepEqual(got.spec.rules[0].matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
    assert.equal(got.spec.parentRefs[0].kind, 'Gateway');
    assert.equal(got.spec.rules[0].backendRefs[0].weight, 1);
  });

  it('rejects an invalid HTTPRoute (CRD validation runs)', async function () {
    const bad = structuredClone(route);
    bad.metadata.name = 'cluster-test-invalid';
    Object.assign(bad.spec.rules[0], { matches: [{ path: { type: 'PathPrefix', value: 'no-leading-slash' } }] });
    await assert.rejects(
      clients(cluster!).objects.createNamespacedCustomObject({ ...routeRef, body: bad }),
      (err: unknown) =>
        err instanceof k8s.ApiException && err.code === 422 && /must be an absolute path/.test(String(err.body)),
    );
  });

  it('restarts the apiserver on the same port, keeping the data in etcd', async function () {
    const c = cluster!;
    const before = c.processes().find((p) => p.component === 'kube-apiserver')!;
    const { uid } = (await clients(c).objects.getNamespacedCustomObject(routeRef)).metadata;
    await c.restartApiServer();
    const after = c.processes().find((p) => p.component === 'kube-apiserver')!;
    assert.notEqual(after.pid, before.pid);
    assert.equal(isRunning(before), false, 'the old apiserver is still running');
    assert.equal(isRunning(after), true);
    const got = await clients(c).objects.getNamespacedCustomObject(routeRef);
    assert.equal(got.metadata.uid, uid);
  });

  it('stops every process it started and removes its run dir and etcd data', async function () {
    const c = cluster!;
    const started = c.startedProcesses();
    assert.deepEqual([...new Set(started.map((p) => p.component))].sort(), ['etcd', 'kube-apiserver']);
    assert.equal(started.length, 3, 'etcd and two apiservers (before and after the restart)');
    await c.stop();
    for (const p of started) assert.equal(isRunning(p), false, `${p.component} (pid ${p.pid}) is still running`);
    assert.equal(existsSync(c.runDir), false, 'run dir left behind');
    assert.equal(existsSync(c.etcdDataDir), false, 'etcd data left behind');
  });
});

describe('test cluster: without binaries', function () {
  it('fails with a message that says how to build them', async function () {
    const emptyCache = await mkdtemp(path.join(tmpdir(), 'portico-empty-cache-'));
    try {
      await assert.rejects(startCluster({ env: { PORTICO_CACHE: emptyCache } }), /npm run cluster:build/);
    } finally {
      await rm(emptyCache, { recursive: true, force: true });
    }
  });
});
