// Kubernetes mode when the API server goes away: the operator reaches it through a TCP proxy the test can cut.
//  - An object deleted while the operator's watches are cut is seen as deleted when they resume (the watch replays
//    the DELETED event from its resourceVersion).
//  - An object deleted while the watches are cut AND the API server restarts is seen as deleted too: the restarted
//    server no longer knows the old resourceVersion (410 Gone), so the reflector relists and the relist's diff
//    reports the deletion.
//  - The API server restarted under traffic: the data plane keeps serving every request, the watches resume, and
//    a change made afterwards is served and gets its status.
// The EndpointSlice points at a non-loopback address of this machine (the API server refuses loopback endpoints).

import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import {
  CONTROLLER,
  adminClient,
  apply,
  conditionOf,
  deleteObject,
  eventually,
  gatewayAddress,
  getObject,
  kubeConfigFor,
  loadFixture,
  backendAddressOrSkip,
  parentsOf,
} from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import type { TcpProxy } from './support/tcp-proxy.ts';

const PORT = 18_282;

function routeTo(name: string, prefix: string): ApiObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: prefix } }], backendRefs: [{ name: 'echo', port: 80 }] },
      ],
    },
  };
}

describe('kubernetes mode through API server outages (real API server)', function () {
  this.timeout(120_000);
  const address = gatewayAddress();
  const base = `http://${address}:${PORT}`;
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let proxy: TcpProxy | undefined;
  let echo: EchoServer | undefined;
  let replica: Replica | undefined;

  const served = async (path: string) => (await get(`${base}${path}`).catch(() => undefined))?.status;
  const routeReflector = () => replica!.operator.provider.reflectors().find((r) => r.name.endsWith('/httproutes'))!;
  const inStore = (name: string) => replica!.operator.store.get(`HTTPRoute/default/${name}`) !== undefined;

  before(async function () {
    const backendIp = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(cluster.server).port));
    echo = await startEchoServer('echo', backendIp);
    for (const object of loadFixture('echo.yaml', {
      ADDRESS: address,
      PORT,
      BACKEND_IP: backendIp,
      BACKEND_PORT: echo.port,
    }))
      await apply(client, object);
    for (const [name, prefix] of [
      ['gap-a', '/gap-a'],
      ['gap-b', '/gap-b'],
    ])
      await apply(client, routeTo(name, prefix));
    replica = await startReplica({
      name: 'resilience',
      kubeconfigPath: cluster.kubeconfigPath,
      overrides: {
        kubeConfig: kubeConfigFor(cluster.kubeconfigPath, `https://127.0.0.1:${proxy.port}`),
        reflector: { backoff: { initialMs: 100, maxMs: 1000 } },
      },
    });
    await eventually(
      '/gap-a and /gap-b served',
      async () => (await served('/gap-a')) === 200 && (await served('/gap-b')) === 200,
    );
  });

  after(async function () {
    await replica?.stop();
    await proxy?.close();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
  });

  it('sees an object deleted while its watch was cut, when the watch resumes from its resourceVersion', async () => {
    const relists = routeReflector().stats.relists;
    const watches = routeReflector().stats.watches;
    proxy!.cut();
    await deleteObject(client, 'HTTPRoute', 'default', 'gap-a');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(inStore('gap-a'), 'nothing can reach the operator during the cut').to.equal(true);
    proxy!.restore();
    await eventually('gap-a gone from the store', async () => !inStore('gap-a'));
    await eventually('/gap-a no longer served', async () => (await served('/gap-a')) === 404);
    expect(routeReflector().stats.watches).to.be.greaterThan(watches);
    expect(routeReflector().stats.relists, 'resumed from the resourceVersion, no relist').to.equal(relists);
    expect(await served('/gap-b')).to.equal(200);
  });

  it('sees an object deleted during a gap in which the API server restarted (410 Gone → relist)', async () => {
    const relists = routeReflector().stats.relists;
    proxy!.cut();
    await deleteObject(client, 'HTTPRoute', 'default', 'gap-b');
    // The restarted server's watch cache starts at the current resourceVersion: ours is too old for it.
    await cluster!.restartApiServer();
    expect(inStore('gap-b')).to.equal(true);
    proxy!.restore();
    await eventually('gap-b gone from the store', async () => !inStore('gap-b'));
    expect(routeReflector().stats.relists, 'a relist after 410').to.be.greaterThan(relists);
    await eventually('/gap-b no longer served', async () => (await served('/gap-b')) === 404);
    expect(await served('/echo/still')).to.equal(200);
  });

  it('keeps serving while the API server restarts; watches resume and later changes are served with their status', async () => {
    let running = true;
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (running) {
        const status = await served('/echo/load');
        if (status === 200) ok++;
        else failures.push(String(status));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const watches = routeReflector().stats.watches;
    await cluster!.restartApiServer();
    await apply(client, routeTo('after-restart', '/after-restart'));
    await eventually('/after-restart served', async () => (await served('/after-restart')) === 200, 30_000);
    running = false;
    await load;
    expect(failures, 'requests that failed while the API server was away').to.deep.equal([]);
    expect(ok).to.be.greaterThan(50);
    expect(routeReflector().stats.watches).to.be.greaterThan(watches);
    const ours = await eventually(
      'the new route accepted on the API server',
      async () => {
        const parent = parentsOf((await getObject(client, 'HTTPRoute', 'default', 'after-restart'))?.status).find(
          (p) => p.controllerName === CONTROLLER,
        );
        return conditionOf(parent, 'Accepted')?.status === 'True' ? parent : undefined;
      },
      30_000,
    );
    expect(ours.parentRef.name).to.equal('gw');
    expect(conditionOf((await getObject(client, 'Gateway', 'default', 'gw'))?.status, 'Programmed')?.status).to.equal(
      'True',
    );
  });
});
