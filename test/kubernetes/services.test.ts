// Service mode on a real kube-apiserver + etcd: every Gateway gets a Service in the operator's namespace (type from
// its class's parameters, its infrastructure labels and annotations), its status.addresses come from that Service,
// the data plane serves on the internal port the Service targets, nothing is written when nothing changed, and the
// Service goes when its Gateway does (also when the operator was down at the time).
//
// There is no kube-proxy and no cloud controller here: traffic is sent to the internal port directly, and the test
// writes a load balancer's ingress into the Service's status as a cloud controller would.

import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { CONTENT_TYPE } from '../../operator/framework/kube-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import { serviceNameOf } from '../../operator/gateway/gateways/gateway-service.ts';
import {
  adminClient,
  apply,
  conditionOf,
  deleteObject,
  eventually,
  getObject,
  loadFixture,
  backendAddressOrSkip,
} from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

interface EventLike {
  type: string;
  reason: string;
  note: string;
  regarding: { kind: string; name: string; uid?: string };
  reportingController: string;
}
const NS = 'portico-system';
/** Internal ports of this run: below the ephemeral range, apart from other test files' ports. */
const FIRST_PORT = 20_000 + (process.pid % 200) * 50;

interface ServiceLike extends ApiObject {
  spec: {
    type: string;
    clusterIP: string;
    selector: Record<string, string>;
    ports: Array<{ name: string; protocol: string; port: number; targetPort: number; nodePort?: number }>;
  };
}

describe('service mode: a Service per Gateway (real API server)', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let replica: Replica | undefined;
  let fixture: ApiObject[];

  const service = async (gateway: string) =>
    (await getObject(client, 'Service', NS, serviceNameOf('default', gateway))) as ServiceLike | undefined;
  const gatewayStatus = async (name: string) =>
    (await getObject(client, 'Gateway', 'default', name))?.status as
      | { addresses?: Array<{ type: string; value: string }> }
      | undefined;
  const fixtureObject = (kind: string, name: string) =>
    structuredClone(fixture.find((o) => o.kind === kind && o.metadata?.name === name)!);

  before(async function () {
    const backendIp = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    echo = await startEchoServer('echo', backendIp);
    fixture = loadFixture('services.yaml', { BACKEND_IP: backendIp, BACKEND_PORT: echo.port });
    for (const object of fixture) await apply(client, object);
    replica = await startReplica({
      name: 'services',
      kubeconfigPath: cluster.kubeconfigPath,
      config: { addressMode: 'service', serviceNamespace: NS, internalPorts: `${FIRST_PORT}-${FIRST_PORT + 49}` },
    });
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    await replica?.stop();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
  });

  it('gives each Gateway a Service of its class’s type, selecting the data plane, with the Gateway’s labels and annotations', async () => {
    const web = await eventually('the Service of Gateway web', () => service('web'));
    expect(web.spec.type).to.equal('LoadBalancer');
    expect(web.spec.selector).to.deep.equal({ 'app.kubernetes.io/name': 'portico' });
    expect(web.spec.ports.map((p) => [p.name, p.protocol, p.port])).to.deep.equal([['tcp-80', 'TCP', 80]]);
    expect(web.spec.ports[0].nodePort, 'a LoadBalancer Service gets a node port from the API server').to.be.a('number');
    expect(web.metadata?.labels).to.include({
      team: 'payments',
      'app.kubernetes.io/managed-by': 'portico',
      'gateway.networking.k8s.io/gateway-name': 'web',
      'portico.dev/gateway-namespace': 'default',
    });
    expect(web.metadata?.annotations).to.include({
      'example.com/lb-tier': 'premium',
      'portico.dev/gateway': 'default/web',
    });

    const internal = await eventually('the Service of Gateway internal', () => service('internal'));
    expect(internal.spec.type).to.equal('ClusterIP');
    expect(internal.spec.ports.map((p) => [p.name, p.protocol, p.port])).to.deep.equal([
      ['udp-53', 'UDP', 53],
      ['tcp-8080', 'TCP', 8080],
    ]);
    // One internal port per (Gateway, listener port), from the configured range, none shared.
    const targets = [...web.spec.ports, ...internal.spec.ports].map((p) => p.targetPort);
    expect(new Set(targets).size).to.equal(3);
    for (const port of targets) expect(port).to.be.within(FIRST_PORT, FIRST_PORT + 49);
  });

  it('records the Service writes as Events on the Gateway, where its owners look', async () => {
    const created = await eventually('a ServiceCreated Event on Gateway web', async () => {
      const { items } = await client.request<{ items: EventLike[] }>(
        'GET',
        '/apis/events.k8s.io/v1/namespaces/default/events',
      );
      return items.find(
        (e) => e.regarding.kind === 'Gateway' && e.regarding.name === 'web' && e.reason === 'ServiceCreated',
      );
    });
    const gateway = await getObject(client, 'Gateway', 'default', 'web');
    expect(created.type).to.equal('Normal');
    expect(created.regarding.uid).to.equal(gateway?.metadata?.uid);
    expect(created.note).to.equal(
      `Service ${NS}/${(await service('web'))!.metadata!.name} (LoadBalancer) created for this Gateway`,
    );
    expect(created.reportingController).to.equal('portico.dev/gateway-controller');
  });

  it('takes status.addresses from the Service: the cluster IP of a ClusterIP Service', async () => {
    const internal = (await service('internal'))!;
    const status = await eventually('internal Programmed=True', async () => {
      const s = await getObject(client, 'Gateway', 'default', 'internal');
      return conditionOf(s?.status, 'Programmed')?.status === 'True' ? s!.status : undefined;
    });
    expect((status as { addresses: unknown }).addresses).to.deep.equal([
      { type: 'IPAddress', value: internal.spec.clusterIP, routability: 'Cluster' },
    ]);
  });

  it('waits for a load balancer (AddressNotAssigned), then publishes its ingress', async () => {
    const pending = await eventually('web Programmed=False AddressNotAssigned', async () => {
      const c = conditionOf(await gatewayStatus('web'), 'Programmed');
      return c?.reason === 'AddressNotAssigned' ? c : undefined;
    });
    expect(pending.status).to.equal('False');
    expect(pending.message).to.match(/Waiting for a load balancer/);
    expect((await gatewayStatus('web'))?.addresses ?? []).to.deep.equal([]);
    // What a cloud controller does once its load balancer is up.
    await client.request('PATCH', `/api/v1/namespaces/${NS}/services/${serviceNameOf('default', 'web')}/status`, {
      body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.net' }] } } },
      contentType: CONTENT_TYPE.mergePatch,
    });
    await eventually(
      'web Programmed=True',
      async () => conditionOf(await gatewayStatus('web'), 'Programmed')?.status === 'True',
    );
    expect((await gatewayStatus('web'))?.addresses).to.deep.equal([
      { type: 'IPAddress', value: '203.0.113.7', routability: '' },
      { type: 'Hostname', value: 'lb.example.net', routability: '' },
    ]);
  });

  it('serves the route on the internal port the Service targets (the data plane binds 0.0.0.0)', async () => {
    const targetPort = (await service('web'))!.spec.ports[0].targetPort;
    const reply = await eventually('a 200 on the internal port', async () => {
      const r = await get(`http://127.0.0.1:${targetPort}/echo/hello`).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(reply.echo?.backend).to.equal('echo');
    expect(reply.echo?.path).to.equal('/echo/hello');
  });

  it('follows the class parameters and the Gateway’s labels; removes what it no longer sets', async () => {
    const internalPorts = (await service('internal'))!.spec.ports.map((p) => p.targetPort);
    const configMap = fixtureObject('ConfigMap', 'internal');
    (configMap as { data: Record<string, string> }).data.serviceType = 'NodePort';
    await apply(client, configMap);
    const nodePort = await eventually('internal Service of type NodePort', async () => {
      const s = await service('internal');
      return s?.spec.type === 'NodePort' ? s : undefined;
    });
    expect(nodePort.spec.ports.every((p) => typeof p.nodePort === 'number')).to.equal(true);
    expect(
      nodePort.spec.ports.map((p) => p.targetPort),
      'the internal ports stay',
    ).to.deep.equal(internalPorts);

    const web = fixtureObject('Gateway', 'web');
    (web.spec as { infrastructure: unknown }).infrastructure = { labels: { tier: 'gold' } };
    await apply(client, web);
    const relabelled = await eventually('web Service relabelled', async () => {
      const s = await service('web');
      return s?.metadata?.labels?.tier === 'gold' ? s : undefined;
    });
    expect(relabelled.metadata?.labels).to.not.have.property('team');
    expect(relabelled.metadata?.annotations).to.not.have.property('example.com/lb-tier');
    expect(relabelled.metadata?.annotations).to.include({ 'portico.dev/gateway': 'default/web' });
  });

  it('writes nothing when nothing changed', async () => {
    const sink = replica!.operator.services!;
    await sink.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = {
      applies: sink.stats.applies,
      versions: [
        (await service('web'))!.metadata?.resourceVersion,
        (await service('internal'))!.metadata?.resourceVersion,
      ],
    };
    // Passes that change nothing for the Services: an unrelated object, and a new leader term.
    await apply(client, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'unrelated', namespace: 'default' },
      data: { a: '1' },
    });
    sink.setLeader(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await sink.whenIdle();
    expect(sink.stats.applies).to.equal(before.applies);
    expect([
      (await service('web'))!.metadata?.resourceVersion,
      (await service('internal'))!.metadata?.resourceVersion,
    ]).to.deep.equal(before.versions);
  });

  it('refuses a class whose parameters ConfigMap is missing (InvalidParameters), and accepts it once it exists', async () => {
    await apply(client, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'portico-later' },
      spec: {
        controllerName: 'portico.dev/gateway-controller',
        parametersRef: { group: '', kind: 'ConfigMap', name: 'later', namespace: NS },
      },
    });
    const refused = await eventually('InvalidParameters', async () => {
      const c = conditionOf((await getObject(client, 'GatewayClass', undefined, 'portico-later'))?.status, 'Accepted');
      return c?.reason === 'InvalidParameters' ? c : undefined;
    });
    expect(refused.status).to.equal('False');
    expect(refused.message).to.match(/ConfigMap portico-system\/later not found/);
    await apply(client, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'later', namespace: NS },
      data: { serviceType: 'ClusterIP' },
    });
    await eventually(
      'Accepted=True',
      async () =>
        conditionOf((await getObject(client, 'GatewayClass', undefined, 'portico-later'))?.status, 'Accepted')
          ?.status === 'True',
    );
  });

  it('deletes the Service of a Gateway that is gone, also one that went while the operator was down', async () => {
    await deleteObject(client, 'Gateway', 'default', 'internal');
    await eventually('the internal Service deleted', async () => (await service('internal')) === undefined);
    const deleted = await eventually('a ServiceDeleted Event on the Service', async () => {
      const { items } = await client.request<{ items: EventLike[] }>(
        'GET',
        `/apis/events.k8s.io/v1/namespaces/${NS}/events`,
      );
      return items.find((e) => e.regarding.kind === 'Service' && e.reason === 'ServiceDeleted');
    });
    expect(deleted.note).to.equal('deleted: its Gateway default/internal is gone');
    expect(await service('web'), 'the other Service stays').to.not.equal(undefined);

    await replica!.stopOperator();
    await deleteObject(client, 'Gateway', 'default', 'web');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await service('web'), 'nobody deleted it while the operator was down').to.not.equal(undefined);
    // A Service that is not ours in the same namespace is never touched.
    await apply(client, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'someone-elses', namespace: NS },
      spec: { ports: [{ port: 80 }] },
    } as ApiObject);
    const operator = await replica!.restartOperator();
    await operator.elector.whenLeading();
    await eventually('the web Service collected after the restart', async () => (await service('web')) === undefined);
    expect(await getObject(client, 'Service', NS, 'someone-elses')).to.not.equal(undefined);
  });
});
