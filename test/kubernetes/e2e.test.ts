// Kubernetes mode end to end on a real kube-apiserver + etcd: GatewayClass, Gateway, HTTPRoute, Service and
// EndpointSlice created → statuses written on the API server (Programmed only after the data plane acked) and
// traffic served by a real data plane to a real backend; edits followed; another controller's entry in a route's
// status.parents kept; no status write when nothing changed; an operator restart that converges without a write.
//
// EndpointSlices: the API server refuses loopback endpoint addresses ("may not be in the loopback range"), so the echo
// backend listens on this machine's first non-loopback IPv4 address and the EndpointSlice names that. Without such an
// interface the file is skipped (there is nothing else an EndpointSlice could point at).

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
  eventually,
  gatewayAddress,
  getObject,
  loadFixture,
  backendAddressOrSkip,
  parentsOf,
} from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const PORT = 18_281;
const OTHER = 'example.com/other-controller';

describe('kubernetes mode end to end (real API server)', function () {
  this.timeout(120_000);
  const address = gatewayAddress();
  const base = `http://${address}:${PORT}`;
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let replica: Replica | undefined;

  const status = async (kind: string, name: string, namespace: string | undefined = 'default') =>
    (await getObject(client, kind, namespace, name))?.status;
  const gatewayCondition = async (type: string) => conditionOf(await status('Gateway', 'gw'), type);

  before(async function () {
    const backendIp = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    echo = await startEchoServer('echo', backendIp);
    for (const object of loadFixture('echo.yaml', {
      ADDRESS: address,
      PORT,
      BACKEND_IP: backendIp,
      BACKEND_PORT: echo.port,
    }))
      await apply(client, object);
    // The operator starts with no data plane: the first statuses are written before any ack.
    replica = await startReplica({ name: 'e2e', kubeconfigPath: cluster.kubeconfigPath, withDataPlane: false });
  });

  after(async function () {
    await replica?.stop();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
  });

  it('writes Accepted on the class, the Gateway and the route, and Programmed=False while no data plane has acked', async () => {
    await replica!.operator.elector.whenLeading();
    const pending = await eventually('Gateway Programmed=False/Pending', async () => {
      const c = await gatewayCondition('Programmed');
      return c?.status === 'False' && c.reason === 'Pending' ? c : undefined;
    });
    expect(pending.observedGeneration).to.equal(1);
    expect((await gatewayCondition('Accepted'))?.status).to.equal('True');
    expect(conditionOf(await status('GatewayClass', 'portico', undefined), 'Accepted')?.status).to.equal('True');
    const parents = await eventually('the route status', async () =>
      parentsOf(await status('HTTPRoute', 'echo')).find((p) => p.controllerName === CONTROLLER),
    );
    expect(parents.parentRef.name).to.equal('gw');
    expect(conditionOf(parents, 'Accepted')?.status).to.equal('True');
    expect(conditionOf(parents, 'ResolvedRefs')?.status).to.equal('True');
  });

  it('sets Programmed=True once the data plane acked, and serves the route through it to the backend', async () => {
    await replica!.startDataPlane();
    await eventually('Gateway Programmed=True', async () => (await gatewayCondition('Programmed'))?.status === 'True');
    const gateway = (await status('Gateway', 'gw')) as {
      addresses: Array<{ value: string }>;
      listeners: Array<{ name: string; attachedRoutes: number; conditions: unknown[] }>;
    };
    expect(gateway.addresses.map((a) => a.value)).to.deep.equal([address]);
    expect(
      gateway.listeners.map((l) => [l.name, l.attachedRoutes, conditionOf(l, 'Programmed')?.status]),
    ).to.deep.equal([['http', 1, 'True']]);
    const reply = await eventually('a 200 through the data plane', async () => {
      const r = await get(`${base}/echo/hello`).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(reply.echo?.backend).to.equal('echo');
    expect(reply.echo?.path).to.equal('/echo/hello');
  });

  it('reports leadership, watch health and status requests on /metrics, and readiness on /readyz', async () => {
    const admin = `http://127.0.0.1:${replica!.operator.adminPort}`;
    expect((await get(`${admin}/readyz`)).status).to.equal(200);
    const text = (await get(`${admin}/metrics`)).text;
    expect(text).to.match(/^portico_operator_leader 1$/m);
    expect(text).to.match(
      /^portico_operator_watch\{resource="gateway\.networking\.k8s\.io\/v1\/httproutes",counter="lists"\} 1$/m,
    );
    expect(text).to.match(/^portico_operator_status_requests\{request="apply"\} [1-9]/m);
  });

  it('follows an edit: the route moves to another path, and its status follows the new generation', async () => {
    const [route] = loadFixture('echo.yaml', {
      ADDRESS: address,
      PORT,
      BACKEND_IP: '192.0.2.1',
      BACKEND_PORT: 1,
    }).filter((o) => o.kind === 'HTTPRoute');
    (route.spec as { rules: Array<{ matches: Array<{ path: { value: string } }> }> }).rules[0].matches[0].path.value =
      '/moved';
    await apply(client, route);
    await eventually(
      '/moved served',
      async () => (await get(`${base}/moved/x`).catch(() => undefined))?.status === 200,
    );
    expect((await get(`${base}/echo/x`)).status).to.equal(404);
    await eventually('route status at generation 2', async () => {
      const ours = parentsOf(await status('HTTPRoute', 'echo')).find((p) => p.controllerName === CONTROLLER);
      return conditionOf(ours, 'Accepted')?.observedGeneration === 2;
    });
  });

  it("keeps another controller's entry in a route's status.parents through our writes", async () => {
    for (const object of loadFixture('other-controller.yaml', {})) await apply(client, object);
    const ours = await eventually('our entry on the shared route', async () =>
      parentsOf(await status('HTTPRoute', 'shared')).find((p) => p.controllerName === CONTROLLER),
    );
    expect(ours.parentRef.name).to.equal('gw');
    // The other controller writes its entry as a well-behaved one does: read, add its own, write with the version.
    const route = (await getObject(client, 'HTTPRoute', 'default', 'shared'))!;
    const foreign = {
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'other-gw' },
      controllerName: OTHER,
      conditions: [
        {
          type: 'Accepted',
          status: 'True',
          reason: 'Accepted',
          message: 'theirs',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    };
    await client.request('PATCH', '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/shared/status', {
      body: {
        metadata: { resourceVersion: route.metadata!.resourceVersion },
        status: { parents: [...parentsOf(route.status), foreign] },
      },
      contentType: 'application/merge-patch+json',
    });
    // Our entry must now change: a backend that does not exist.
    const edited: ApiObject = loadFixture('other-controller.yaml', {}).find((o) => o.kind === 'HTTPRoute')!;
    (edited.spec as { rules: Array<{ backendRefs: Array<{ name: string }> }> }).rules[0].backendRefs[0].name =
      'missing';
    await apply(client, edited);
    const after = await eventually('our ResolvedRefs=False', async () => {
      const s = await status('HTTPRoute', 'shared');
      return conditionOf(
        parentsOf(s).find((p) => p.controllerName === CONTROLLER),
        'ResolvedRefs',
      )?.status === 'False'
        ? s
        : undefined;
    });
    expect(parentsOf(after).filter((p) => p.controllerName === OTHER)).to.deep.equal([foreign]);
    expect(parentsOf(after).filter((p) => p.controllerName === CONTROLLER)).to.have.length(1);
    // The change is also told as a Warning Event on the route.
    const event = await eventually('a BackendNotFound event', async () => {
      const { items } = await client.request<{
        items: Array<{
          type: string;
          reason: string;
          note: string;
          regarding: { kind: string; name: string };
          reportingController: string;
        }>;
      }>('GET', '/apis/events.k8s.io/v1/namespaces/default/events');
      return items.find(
        (e) => e.regarding.kind === 'HTTPRoute' && e.regarding.name === 'shared' && e.reason === 'BackendNotFound',
      );
    });
    expect(event.type).to.equal('Warning');
    expect(event.reportingController).to.equal(CONTROLLER);
    expect(event.note).to.match(/^parent gw: ResolvedRefs=False: /);
  });

  it('writes nothing when nothing changed, however many passes run', async () => {
    const operator = replica!.operator;
    const kinds: Array<[string, string, string | undefined]> = [
      ['GatewayClass', 'portico', undefined],
      ['Gateway', 'gw', 'default'],
      ['HTTPRoute', 'echo', 'default'],
      ['HTTPRoute', 'shared', 'default'],
    ];
    const versions = async () =>
      Promise.all(
        kinds.map(async ([kind, name, ns]) => (await getObject(client, kind, ns, name))?.metadata?.resourceVersion),
      );
    await settle(operator);
    const before = await versions();
    const writesBefore = operator.statuses.stats.writes;
    const revision = operator.store.revision;
    // Changes the translator sees (a store change each) but that change no status.
    for (let i = 0; i < 5; i++) {
      await apply(client, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'noise', namespace: 'default' },
        data: { n: String(i) },
      });
      await eventually('the change reached the store', async () => operator.store.revision > revision + i);
    }
    const report = await operator.reconciler.whenPublished(operator.store.revision);
    expect(report.revision).to.be.greaterThan(revision);
    await settle(operator);
    expect(operator.statuses.stats.writes - writesBefore, 'status writes').to.equal(0);
    expect(await versions()).to.deep.equal(before);
  });

  it('converges without a write after an operator restart (nothing flaps)', async () => {
    const versions = async () =>
      Promise.all(
        ['gw'].map(async (name) => (await getObject(client, 'Gateway', 'default', name))?.metadata?.resourceVersion),
      );
    const before = await versions();
    const conditionsBefore = (await status('Gateway', 'gw')) as unknown;
    const operator = await replica!.restartOperator();
    await operator.elector.whenLeading();
    await operator.reconciler.whenPublished(operator.store.revision);
    await settle(operator);
    expect(operator.statuses.stats.writes, 'status writes after the restart').to.equal(0);
    expect(operator.statuses.stats.unchanged, 'statuses compared').to.be.greaterThan(0);
    expect(await versions()).to.deep.equal(before);
    expect(await status('Gateway', 'gw')).to.deep.equal(conditionsBefore);
    expect((await get(`${base}/moved/x`)).status).to.equal(200);
  });
});

/** Waits until the operator published what it holds and its status writes (and their settle delay) are done. */
async function settle(operator: Replica['operator']): Promise<void> {
  await operator.reconciler.whenPublished(operator.store.revision);
  await new Promise((resolve) => setTimeout(resolve, 600));
  await operator.statuses.whenIdle();
}
