// GEP-5093 address routability in service mode on a real kube-apiserver + etcd: a Gateway that asks only for
// `Cluster` gets a ClusterIP Service (its class asks for LoadBalancer) and reports the cluster IP the API server gave
// it, inside the ServiceCIDR, with routability Cluster; a Gateway asking for the default and for Cluster reports its
// load balancer's address ("") and its Service's cluster IP (Cluster); a static Cluster address in the ServiceCIDR
// becomes the Service's cluster IP. The data plane serves each on the internal port its Service targets.
// There is no kube-proxy or cloud controller here: the test writes a load balancer's ingress into the Service's status
// as a cloud controller would, and sends traffic to the internal port directly.

import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { get } from '../support/http-client.ts';
import { CONTENT_TYPE } from '../../operator/framework/kube-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { serviceNameOf } from '../../operator/gateway/gateways/gateway-service.ts';
import { adminClient, apply, conditionOf, eventually, getObject, loadFixture } from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const NS = 'portico-system';
/** test/cluster/cluster.sh SERVICE_CIDR. */
const SERVICE_CIDR_PREFIX = '10.96.';
const FIRST_PORT = 20_000 + ((process.pid + 101) % 200) * 50;

interface ServiceLike {
  spec: { type: string; clusterIP: string; ports: Array<{ targetPort: number }> };
}
interface GatewayStatusLike {
  addresses?: Array<{ type: string; value: string; routability?: string }>;
  conditions?: unknown;
}

describe('GEP-5093 address routability in service mode (real API server)', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let replica: Replica | undefined;

  const service = async (gateway: string) =>
    (await getObject(client, 'Service', NS, serviceNameOf('default', gateway))) as unknown as ServiceLike | undefined;
  const programmed = (name: string) =>
    eventually(`${name} Programmed=True`, async () => {
      const status = (await getObject(client, 'Gateway', 'default', name))?.status as GatewayStatusLike | undefined;
      return conditionOf(status, 'Programmed')?.status === 'True' ? status : undefined;
    });
  const answers = (targetPort: number) =>
    eventually(`an answer of the data plane on internal port ${targetPort}`, async () => {
      const reply = await get(`http://127.0.0.1:${targetPort}/`).catch(() => undefined);
      return reply?.status === 404 ? reply : undefined;
    });

  before(async () => {
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    for (const object of loadFixture('routability.yaml', {})) await apply(client, object);
    replica = await startReplica({
      name: 'routability',
      kubeconfigPath: cluster.kubeconfigPath,
      config: { addressMode: 'service', serviceNamespace: NS, internalPorts: `${FIRST_PORT}-${FIRST_PORT + 49}` },
    });
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    await replica?.stop();
    await client?.close();
    await cluster?.stop();
  });

  it('gives a Gateway that asks only for Cluster a ClusterIP Service and reports its cluster IP as Cluster', async () => {
    const svc = await eventually('the Service of cluster-only', () => service('cluster-only'));
    expect(svc.spec.type, 'no load balancer for a cluster-only Gateway').to.equal('ClusterIP');
    const status = await programmed('cluster-only');
    expect(svc.spec.clusterIP.startsWith(SERVICE_CIDR_PREFIX), svc.spec.clusterIP).to.equal(true);
    expect(status.addresses).to.deep.equal([{ type: 'IPAddress', value: svc.spec.clusterIP, routability: 'Cluster' }]);
    const assigned = conditionOf(status, 'AddressesAssigned');
    expect([assigned?.status, assigned?.reason]).to.deep.equal(['True', 'Assigned']);
    // No route: the data plane's listener answers 404, on the port the Service targets.
    await answers(svc.spec.ports[0].targetPort);
  });

  it('reports the load balancer address ("") and the cluster IP (Cluster) of a Gateway asking for both', async () => {
    const svc = await eventually('the Service of both', () => service('both'));
    expect(svc.spec.type).to.equal('LoadBalancer');
    const pending = await eventually('both Programmed=False while no load balancer', async () => {
      const status = (await getObject(client, 'Gateway', 'default', 'both'))?.status;
      return conditionOf(status, 'Programmed')?.reason === 'AddressNotAssigned' ? status : undefined;
    });
    expect(conditionOf(pending, 'AddressesAssigned'), 'omitted until reconciled').to.equal(undefined);
    await client.request('PATCH', `/api/v1/namespaces/${NS}/services/${serviceNameOf('default', 'both')}/status`, {
      body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.8' }] } } },
      contentType: CONTENT_TYPE.mergePatch,
    });
    const status = await programmed('both');
    expect(status.addresses).to.have.deep.members([
      { type: 'IPAddress', value: '203.0.113.8', routability: '' },
      { type: 'IPAddress', value: svc.spec.clusterIP, routability: 'Cluster' },
    ]);
    expect(conditionOf(status, 'AddressesAssigned')?.reason).to.equal('Assigned');
  });

  it('makes a static Cluster address in the ServiceCIDR the Service’s cluster IP', async () => {
    const svc = await eventually('the Service of static-cluster', () => service('static-cluster'));
    expect([svc.spec.type, svc.spec.clusterIP]).to.deep.equal(['ClusterIP', '10.96.0.77']);
    const status = await programmed('static-cluster');
    expect(status.addresses).to.deep.equal([{ type: 'IPAddress', value: '10.96.0.77', routability: 'Cluster' }]);
    await answers(svc.spec.ports[0].targetPort);
  });

  it('leaves a static Cluster address outside the ServiceCIDR unsatisfied (NotAssigned, AddressNotAssigned)', async () => {
    // The API server refuses it; the Service is created with a cluster IP of its choice, which meets no entry.
    const svc = await eventually('the Service of outside-cidr', () => service('outside-cidr'));
    expect(svc.spec.clusterIP).to.not.equal('10.200.0.5');
    const status = await eventually('outside-cidr AddressesAssigned=False', async () => {
      const s = (await getObject(client, 'Gateway', 'default', 'outside-cidr'))?.status as
        | GatewayStatusLike
        | undefined;
      return conditionOf(s, 'AddressesAssigned')?.status === 'False' ? s : undefined;
    });
    expect(conditionOf(status, 'AddressesAssigned')?.reason).to.equal('NotAssigned');
    expect(conditionOf(status, 'AddressesAssigned')?.message).to.match(/10\.200\.0\.5/);
    expect(conditionOf(status, 'Programmed')?.reason).to.equal('AddressNotAssigned');
    expect(status.addresses ?? []).to.deep.equal([]);
  });
});
