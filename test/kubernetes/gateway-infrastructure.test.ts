// The GatewayInfrastructure mode on a real kube-apiserver + etcd + kube-controller-manager (its garbage collector
// follows owner references): a class whose parameters say `infrastructure: GatewayNamespace` gives each Gateway a
// selector-less Service and an EndpointSlice in the Gateway's namespace, labelled and annotated from
// spec.infrastructure, owned by the Gateway, pointing at the address where the data plane serves it (pool mode: the
// Gateway's bound address, here a non-loopback address of this machine, since the API server refuses loopback
// endpoints). Then: updates, clean-up after an operator restart, cascade through the owner reference, and the
// operator with the default install's rights only (a Warning Event naming the grant, no crash), then granted them.
//
// No kube-proxy here: traffic goes to the EndpointSlice's address and port directly, as kube-proxy would send it.

import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { get } from '../support/http-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import { kubectl } from './support/kubectl.ts';
import {
  adminClient,
  apply,
  backendAddressOrSkip,
  conditionOf,
  deleteObject,
  eventually,
  getObject,
} from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const NS = 'team-infra';
const CLASS = 'portico';
/** Listener ports of this run (bound on this machine's address): apart from other test files' ports. */
const PORT = 41_000 + (process.pid % 400) * 2;
const MANIFESTS = new URL('../../manifests/', import.meta.url).pathname;

interface EventLike {
  type: string;
  reason: string;
  note: string;
  regarding: { kind: string; name: string; uid?: string };
}
interface OwnedLike extends ApiObject {
  metadata: NonNullable<ApiObject['metadata']> & {
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  };
}
interface ServiceLike extends OwnedLike {
  spec: {
    type: string;
    selector?: Record<string, string>;
    ports: Array<{ name: string; port: number; targetPort: number }>;
  };
}
interface SliceLike extends OwnedLike {
  addressType: string;
  endpoints: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
  ports: Array<{ name: string; port: number; protocol: string }>;
}

function classObjects(mode: boolean): ApiObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'portico-params', namespace: 'portico-system' },
      data: mode ? { infrastructure: 'GatewayNamespace' } : {},
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: CLASS },
      spec: {
        controllerName: 'portico.dev/gateway-controller',
        parametersRef: { group: '', kind: 'ConfigMap', name: 'portico-params', namespace: 'portico-system' },
      },
    },
  ];
}

function gateway(name: string, infrastructure: Record<string, unknown>, ports: number[]): ApiObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: NS },
    spec: {
      gatewayClassName: CLASS,
      infrastructure,
      listeners: ports.map((port) => ({ name: `http-${port}`, port, protocol: 'HTTP' })),
    },
  };
}

/** A kubeconfig holding a token of the ServiceAccount, like the one mounted in the operator's pod. */
function serviceAccountConfig(adminKubeconfig: string, token: string): KubeConfig {
  const admin = new KubeConfig();
  admin.loadFromFile(adminKubeconfig);
  const cluster = admin.getCurrentCluster()!;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'portico-sa', token }],
    contexts: [{ name: 'portico-sa', cluster: cluster.name, user: 'portico-sa', namespace: 'portico-system' }],
    currentContext: 'portico-sa',
  });
  return config;
}

describe('the GatewayInfrastructure mode: a Service and EndpointSlice in the Gateway’s namespace (real API server)', function () {
  this.timeout(180_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let replica: Replica | undefined;
  let address: string;

  const service = async (name: string) => (await getObject(client, 'Service', NS, name)) as ServiceLike | undefined;
  const slice = async (name: string) => (await getObject(client, 'EndpointSlice', NS, name)) as SliceLike | undefined;
  const events = async (gatewayName: string) =>
    (
      await client.request<{ items: EventLike[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events`)
    ).items.filter((e) => e.regarding.kind === 'Gateway' && e.regarding.name === gatewayName);
  const classFeatures = async () => {
    const status = (await getObject(client, 'GatewayClass', undefined, CLASS))?.status as
      | { supportedFeatures?: Array<{ name: string }> }
      | undefined;
    return (status?.supportedFeatures ?? []).map((f) => f.name);
  };
  const startAdminReplica = () =>
    startReplica({
      name: 'infrastructure',
      kubeconfigPath: cluster!.kubeconfigPath,
      config: { addressPool: `${address}/32` },
    });

  before(async function () {
    address = backendAddressOrSkip(this);
    cluster = await startCluster({ kcm: true });
    client = adminClient(cluster.kubeconfigPath);
    for (const name of [NS, 'portico-system'])
      await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (const object of classObjects(true)) await apply(client, object);
    await apply(client, gateway('web', { labels: { key2: 'value2' }, annotations: { key1: 'value1' } }, [PORT]));
    replica = await startAdminReplica();
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    await replica?.stop();
    await client?.close();
    await cluster?.stop();
  });

  it('creates a selector-less Service and its EndpointSlice, labelled, annotated and owned by the Gateway', async () => {
    const web = await eventually('Service web-portico', () => service('web-portico'));
    const uid = (await getObject(client, 'Gateway', NS, 'web'))!.metadata!.uid;
    expect(web.spec.type).to.equal('ClusterIP');
    expect(web.spec.selector ?? {}, 'no selector: Portico writes the endpoints').to.deep.equal({});
    expect(web.spec.ports.map((p) => [p.name, p.port, p.targetPort])).to.deep.equal([[`tcp-${PORT}`, PORT, PORT]]);
    expect(web.metadata.labels).to.include({
      key2: 'value2',
      'gateway.networking.k8s.io/gateway-name': 'web',
      'gateway.networking.k8s.io/gateway-class-name': CLASS,
      'app.kubernetes.io/managed-by': 'portico',
    });
    expect(web.metadata.annotations).to.include({ key1: 'value1' });
    const owner = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'web', uid, controller: true }];
    expect(web.metadata.ownerReferences).to.deep.equal(owner);

    const endpoints = await eventually('EndpointSlice web-portico', () => slice('web-portico'));
    expect(endpoints.metadata.labels).to.include({
      'kubernetes.io/service-name': 'web-portico',
      'endpointslice.kubernetes.io/managed-by': 'gateway-controller.portico.dev',
      key2: 'value2',
      'gateway.networking.k8s.io/gateway-name': 'web',
    });
    expect(endpoints.metadata.annotations).to.include({ key1: 'value1' });
    expect(endpoints.metadata.ownerReferences).to.deep.equal(owner);
    expect(endpoints.addressType).to.equal('IPv4');
    expect(endpoints.endpoints.map((e) => e.addresses)).to.deep.equal([[address]]);
    expect(endpoints.ports).to.deep.equal([{ name: `tcp-${PORT}`, port: PORT, protocol: 'TCP' }]);
  });

  it('points where the data plane serves the Gateway, and says so in an Event on the Gateway', async () => {
    const endpoints = (await slice('web-portico'))!;
    const target = `http://${endpoints.endpoints[0].addresses[0]}:${endpoints.ports[0].port}/nothing-here`;
    const reply = await eventually(`an HTTP reply from ${target}`, () => get(target).catch(() => undefined));
    expect(reply.status, 'the Gateway has no route: the data plane answers 404').to.equal(404);
    const created = await eventually('an InfrastructureCreated Event', async () =>
      (await events('web')).find((e) => e.reason === 'InfrastructureCreated'),
    );
    expect(created.type).to.equal('Normal');
    expect(created.note).to.equal(
      `Service and EndpointSlice ${NS}/web-portico created for this Gateway (1 data-plane endpoints)`,
    );
  });

  it('follows the Gateway: labels and annotations changed or removed, a listener port added', async () => {
    await apply(client, gateway('web', { labels: { key2: 'changed', tier: 'gold' } }, [PORT, PORT + 1]));
    const web = await eventually('the Service updated', async () => {
      const s = await service('web-portico');
      return s?.spec.ports.length === 2 && s.metadata.labels?.key2 === 'changed' ? s : undefined;
    });
    expect(web.metadata.labels).to.include({ tier: 'gold' });
    expect(web.metadata.annotations, 'an annotation the Gateway no longer sets is removed').to.not.have.key('key1');
    expect(web.spec.ports.map((p) => p.port)).to.deep.equal([PORT, PORT + 1]);
    const endpoints = await eventually('the EndpointSlice updated', async () => {
      const s = await slice('web-portico');
      return s?.ports.length === 2 ? s : undefined;
    });
    expect(endpoints.metadata.labels).to.include({ key2: 'changed', tier: 'gold' });
    expect(endpoints.metadata.annotations).to.not.have.key('key1');
  });

  it('after a restart, deletes what a Gateway no longer needs (its class left the mode while the operator was down)', async () => {
    await replica!.stopOperator();
    for (const object of classObjects(false)) await apply(client, object);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await service('web-portico'), 'nothing removes them while the operator is down').to.not.equal(undefined);
    await replica!.restartOperator();
    await eventually('Service and EndpointSlice gone', async () =>
      (await service('web-portico')) === undefined && (await slice('web-portico')) === undefined ? true : undefined,
    );
    // The class's status follows (its status write is queued apart from the deletions).
    await eventually('the class to stop claiming GatewayInfrastructure', async () =>
      (await classFeatures()).includes('GatewayInfrastructure') ? undefined : true,
    );
  });

  it('goes with its Gateway through the owner reference, even while the operator is down', async () => {
    for (const object of classObjects(true)) await apply(client, object);
    await eventually('Service web-portico again', () => service('web-portico'));
    await eventually('EndpointSlice web-portico again', () => slice('web-portico'));
    await eventually('the class in the mode to claim GatewayInfrastructure', async () =>
      (await classFeatures()).includes('GatewayInfrastructure') ? true : undefined,
    );
    await replica!.stopOperator();
    await deleteObject(client, 'Gateway', NS, 'web');
    await eventually(
      'the garbage collector to delete them',
      async () =>
        (await service('web-portico')) === undefined && (await slice('web-portico')) === undefined ? true : undefined,
      60_000,
    );
    await replica!.stop();
    replica = undefined;
  });

  it('with the default install’s rights only: a Warning Event naming the grant, the Gateway served; granted: written', async () => {
    for (const file of ['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'role.yaml']) {
      const applied = await kubectl(cluster!, ['apply', '--server-side', '-f', `${MANIFESTS}base/${file}`]);
      expect(applied.code, applied.stderr).to.equal(0);
    }
    const token = await kubectl(cluster!, ['create', 'token', 'portico', '-n', 'portico-system', '--duration', '1h']);
    expect(token.code, token.stderr).to.equal(0);
    await apply(client, gateway('api', {}, [PORT]));
    replica = await startReplica({
      name: 'infrastructure-rbac',
      kubeconfigPath: cluster!.kubeconfigPath,
      leaseNamespace: 'portico-system',
      overrides: { kubeConfig: serviceAccountConfig(cluster!.kubeconfigPath, token.stdout.trim()) },
      config: { addressPool: `${address}/32` },
    });
    const failed = await eventually('an InfrastructureWriteFailed Event', async () =>
      (await events('api')).find((e) => e.reason === 'InfrastructureWriteFailed'),
    );
    expect(failed.type).to.equal('Warning');
    expect(failed.note).to.include(`may not write Services and EndpointSlices in namespace ${NS}`);
    expect(failed.note).to.include('gatewayInfrastructure.enabled=true');
    expect(await service('api-portico')).to.equal(undefined);
    // The rest goes on: the Gateway is accepted and programmed, and served.
    await eventually('api Programmed=True', async () => {
      const status = (await getObject(client, 'Gateway', NS, 'api'))?.status;
      return conditionOf(status, 'Programmed')?.status === 'True' ? true : undefined;
    });
    const served = await eventually('an HTTP reply on the Gateway', () =>
      get(`http://${address}:${PORT}/`).catch(() => undefined),
    );
    expect(served.status).to.equal(404);

    const granted = await kubectl(cluster!, [
      'apply',
      '--server-side',
      '-f',
      `${MANIFESTS}components/gateway-infrastructure/gateway-infrastructure.yaml`,
    ]);
    expect(granted.code, granted.stderr).to.equal(0);
    const api = await eventually('Service api-portico once granted', () => service('api-portico'), 60_000);
    expect(api.metadata.labels).to.include({ 'gateway.networking.k8s.io/gateway-name': 'api' });
    await eventually('EndpointSlice api-portico once granted', () => slice('api-portico'), 60_000);
  });
});

// Service mode: the Gateway's own Service in the operator's namespace selects the data-plane pods; Kubernetes' EndpointSlice
// controller would write that Service's EndpointSlice from the pods. There are no pods here (no kubelet), so the test
// writes it as that controller would (this machine's address as the one ready pod, the internal port), plus a pod that
// is not ready; the mode's EndpointSlice in the Gateway's namespace must copy the ready one, on the internal port.
describe('the GatewayInfrastructure mode in service mode: endpoints are the data-plane pods (real API server)', function () {
  this.timeout(120_000);
  const OPERATOR_NS = 'portico-system';
  const FIRST_PORT = 26_000 + (process.pid % 200) * 10;
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let replica: Replica | undefined;
  let address: string;

  before(async function () {
    address = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    for (const name of [NS, OPERATOR_NS])
      await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (const object of classObjects(true)) await apply(client, object);
    await apply(client, gateway('svc', { labels: { team: 'payments' } }, [8080]));
    replica = await startReplica({
      name: 'infrastructure-service-mode',
      kubeconfigPath: cluster.kubeconfigPath,
      config: {
        addressMode: 'service',
        serviceNamespace: OPERATOR_NS,
        internalPorts: `${FIRST_PORT}-${FIRST_PORT + 9}`,
      },
    });
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    await replica?.stop();
    await client?.close();
    await cluster?.stop();
  });

  it('copies the ready data-plane pods behind the Gateway’s Service, on its internal port, and serves there', async () => {
    const gatewayService = await eventually('the Gateway’s Service in the operator’s namespace', async () => {
      const { items } = await client.request<{ items: ServiceLike[] }>(
        'GET',
        `/api/v1/namespaces/${OPERATOR_NS}/services`,
      );
      return items.find((s) => s.metadata.annotations?.['portico.dev/gateway'] === `${NS}/svc`);
    });
    const internalPort = gatewayService.spec.ports[0].targetPort;
    expect(internalPort).to.be.within(FIRST_PORT, FIRST_PORT + 9);
    const empty = await eventually('EndpointSlice svc-portico', () =>
      getObject(client, 'EndpointSlice', NS, 'svc-portico'),
    );
    expect((empty as SliceLike).endpoints ?? [], 'no data-plane pod is known yet').to.deep.equal([]);

    // What the EndpointSlice controller writes for the Gateway's Service (the test stands in for it: no pods here).
    await apply(client, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${gatewayService.metadata.name}-abcde`,
        namespace: OPERATOR_NS,
        labels: { 'kubernetes.io/service-name': gatewayService.metadata.name! },
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: [address], conditions: { ready: true } },
        { addresses: ['10.244.9.9'], conditions: { ready: false } },
      ],
      ports: [{ name: 'tcp-8080', protocol: 'TCP', port: internalPort }],
    } as ApiObject);
    const copied = await eventually('EndpointSlice svc-portico with the ready pod', async () => {
      const s = (await getObject(client, 'EndpointSlice', NS, 'svc-portico')) as SliceLike | undefined;
      return (s?.endpoints ?? []).length > 0 ? s : undefined;
    });
    expect(copied!.endpoints.map((e) => e.addresses)).to.deep.equal([[address]]);
    expect(copied!.ports).to.deep.equal([{ name: 'tcp-8080', port: internalPort, protocol: 'TCP' }]);
    const svc = (await getObject(client, 'Service', NS, 'svc-portico')) as ServiceLike;
    expect(svc.spec.ports.map((p) => [p.port, p.targetPort])).to.deep.equal([[8080, internalPort]]);
    expect(svc.metadata.labels).to.include({ team: 'payments', 'gateway.networking.k8s.io/gateway-name': 'svc' });
    // The Service sink of service mode leaves the mode's Service alone, and the other way round.
    expect(await getObject(client, 'Service', OPERATOR_NS, gatewayService.metadata.name!)).to.not.equal(undefined);

    const reply = await eventually('an HTTP reply at the copied endpoint', () =>
      get(`http://${address}:${internalPort}/nothing-here`).catch(() => undefined),
    );
    expect(reply.status).to.equal(404);
  });
});
