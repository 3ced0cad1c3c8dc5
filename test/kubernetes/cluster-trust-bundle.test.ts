// GEP-5075 ClusterTrustBundle CA references on a real kube-apiserver + etcd (ClusterTrustBundle enabled by the test
// bed), a real data plane and real TLS on both sides:
//  - the API is found by discovery and the GatewayClass claims the ClusterTrustBundle feature;
//  - a BackendTLSPolicy whose CA is a ClusterTrustBundle: the data plane originates TLS to a real TLS backend and
//    verifies it with the bundle's CA; a bundle holding another CA fails closed (5xx, never plaintext); an update of
//    the bundle takes effect; a deleted bundle is an invalid reference (InvalidCACertificateRef) and fails closed;
//  - frontend mTLS whose client CA is a ClusterTrustBundle: a client certificate signed by it gets in, a client
//    without one is refused in the handshake.
// EndpointSlices cannot point at loopback addresses, so the TLS backend listens on this machine's first non-loopback
// IPv4 address (as e2e.test.ts does).

import { expect } from 'chai';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import type { Pem } from '../support/certs.ts';
import { httpsGet } from '../support/https-get.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import {
  adminClient,
  apply,
  backendAddressOrSkip,
  conditionOf,
  deleteObject,
  eventually,
  gatewayAddress,
  getObject,
  loadFixture,
} from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const HTTP_PORT = 18_291;
const HTTPS_PORT = 18_292;

function bundle(name: string, pem: string): ApiObject {
  return {
    apiVersion: 'certificates.k8s.io/v1beta1',
    kind: 'ClusterTrustBundle',
    metadata: { name },
    spec: { trustBundle: pem },
  } as ApiObject;
}

/** GET /tls/hello on the Gateway's HTTPS listener: the status, or the error of a refused handshake. */
function gatewayGet(address: string, serverCa: string, client?: Pem): Promise<number> {
  return httpsGet({
    host: address,
    port: HTTPS_PORT,
    path: '/tls/hello',
    servername: 'gw.example.com',
    ca: serverCa,
    client,
  });
}

describe('GEP-5075 ClusterTrustBundle CA references (real API server, real TLS)', function () {
  this.timeout(120_000);
  const address = gatewayAddress();
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let backend: Server | undefined;
  let replica: Replica | undefined;
  const backendCa = makeCa('Backend CA');
  const otherCa = makeCa('Some Other CA');
  const clientCa = makeCa('Client CA');
  const gatewayCa = makeCa('Gateway CA');
  const clientLeaf = makeLeaf(clientCa, ['client.example.com']);

  const policyCondition = async (type: string) => {
    const status = (await getObject(client, 'BackendTLSPolicy', 'default', 'tls-backend'))?.status as
      | { ancestors?: Array<{ conditions?: unknown }> }
      | undefined;
    return conditionOf({ conditions: status?.ancestors?.[0]?.conditions }, type);
  };
  /** Status of GET /tls/hello through the Gateway's HTTPS listener, with the client certificate. */
  const throughGateway = () => gatewayGet(address, gatewayCa.cert, clientLeaf);

  before(async function () {
    const backendIp = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    const backendLeaf = makeLeaf(backendCa, ['backend.example.com']);
    backend = createServer({ cert: backendLeaf.cert, key: backendLeaf.key }, (_req, res) => {
      res.end('from the TLS backend');
    });
    await new Promise<void>((resolve) => backend!.listen(0, backendIp, resolve));
    const gatewayLeaf = makeLeaf(gatewayCa, ['gw.example.com']);
    await apply(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gw-cert', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(gatewayLeaf.cert).toString('base64'),
        'tls.key': Buffer.from(gatewayLeaf.key).toString('base64'),
      },
    } as ApiObject);
    // The backend's bundle starts with a CA that did not sign the backend's certificate.
    await apply(client, bundle('backend-ca', otherCa.cert));
    await apply(client, bundle('client-ca', clientCa.cert));
    const vars = {
      ADDRESS: address,
      HTTP_PORT,
      HTTPS_PORT,
      BACKEND_IP: backendIp,
      BACKEND_PORT: (backend.address() as AddressInfo).port,
    };
    for (const object of loadFixture('trust-bundles.yaml', vars)) await apply(client, object);
    replica = await startReplica({ name: 'trust-bundles', kubeconfigPath: cluster.kubeconfigPath });
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    await replica?.stop();
    await new Promise((resolve) => (backend === undefined ? resolve(undefined) : backend.close(resolve)));
    await client?.close();
    await cluster?.stop();
  });

  it('finds the API by discovery and claims the ClusterTrustBundle feature on the GatewayClass', async () => {
    const group = await client.request<{ resources: Array<{ name: string; namespaced: boolean }> }>(
      'GET',
      '/apis/certificates.k8s.io/v1beta1',
    );
    expect(group.resources.find((r) => r.name === 'clustertrustbundles')?.namespaced).to.equal(false);
    const features = await eventually('the GatewayClass supportedFeatures', async () => {
      const status = (await getObject(client, 'GatewayClass', undefined, 'portico'))?.status as
        | { supportedFeatures?: Array<{ name: string }> }
        | undefined;
      return status?.supportedFeatures?.map((f) => f.name);
    });
    expect(features).to.include('ClusterTrustBundle');
  });

  it('lets a client certificate signed by the ClusterTrustBundle CA in, and refuses a client without one', async () => {
    // The backend's CA is not trusted yet: the handshake with the Gateway succeeds, the backend answers 5xx.
    const status = await eventually('an HTTP answer through the mTLS listener', () =>
      throughGateway().catch(() => undefined),
    );
    expect(status).to.be.within(500, 599);
    let refused: unknown;
    await gatewayGet(address, gatewayCa.cert).then(
      (s) => {
        refused = `answered ${s}`;
      },
      (error: Error) => {
        refused = error;
      },
    );
    expect(refused, 'no client certificate: refused in the TLS handshake').to.be.instanceOf(Error);
    const otherClient = makeLeaf(otherCa, ['intruder.example.com']);
    const intruder = await gatewayGet(address, gatewayCa.cert, otherClient).then(
      (s) => `answered ${s}`,
      (error: Error) => error,
    );
    expect(intruder, 'a certificate of another CA: refused').to.be.instanceOf(Error);
  });

  it('verifies the TLS backend with the bundle’s CA, follows its update, and fails closed when it is deleted', async () => {
    expect(
      (await policyCondition('ResolvedRefs'))?.status,
      'a bundle with a wrong CA is still a valid reference',
    ).to.equal('True');
    expect(await throughGateway(), 'the backend certificate is not signed by the bundle: 5xx').to.be.within(500, 599);

    await apply(client, bundle('backend-ca', backendCa.cert));
    await eventually('200 once the bundle holds the backend’s CA', async () => (await throughGateway()) === 200);

    await deleteObject(client, 'ClusterTrustBundle', undefined, 'backend-ca');
    const resolved = await eventually('ResolvedRefs=False once the bundle is gone', async () => {
      const c = await policyCondition('ResolvedRefs');
      return c?.status === 'False' ? c : undefined;
    });
    expect(resolved.reason).to.equal('InvalidCACertificateRef');
    expect(resolved.message).to.match(/ClusterTrustBundle backend-ca, which does not exist/);
    expect((await policyCondition('Accepted'))?.reason).to.equal('NoValidCACertificate');
    await eventually('5xx without the bundle (never plaintext, no cached CA)', async () => {
      const s = await throughGateway();
      return s >= 500 && s <= 599;
    });
  });
});

describe('GEP-5075 on a cluster without the ClusterTrustBundle API (real API server)', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let replica: Replica | undefined;

  before(async function () {
    const backendIp = backendAddressOrSkip(this);
    cluster = await startCluster({ env: { CLUSTER_TRUST_BUNDLES: '0' } });
    client = adminClient(cluster.kubeconfigPath);
    const vars = { ADDRESS: gatewayAddress(), HTTP_PORT, HTTPS_PORT, BACKEND_IP: backendIp, BACKEND_PORT: 9 };
    for (const object of loadFixture('trust-bundles.yaml', vars)) await apply(client, object);
    replica = await startReplica({ name: 'no-trust-bundles', kubeconfigPath: cluster.kubeconfigPath });
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    await replica?.stop();
    await client?.close();
    await cluster?.stop();
  });

  it('claims no ClusterTrustBundle, refuses the references with InvalidKind, and serves the rest', async () => {
    const group = await client.request<{ resources: Array<{ name: string }> }>('GET', '/apis/certificates.k8s.io/v1');
    expect(group.resources.map((r) => r.name)).to.not.include('clustertrustbundles');
    expect(replica!.operator.provider.missingKinds()).to.include('ClusterTrustBundle');
    const gateway = await eventually('Gateway gw Programmed=True on its HTTP listener', async () => {
      const status = (await getObject(client, 'Gateway', 'default', 'gw'))?.status;
      return conditionOf(status, 'Programmed')?.status === 'True' ? status : undefined;
    });
    const classStatus = (await getObject(client, 'GatewayClass', undefined, 'portico'))?.status as {
      supportedFeatures: Array<{ name: string }>;
    };
    expect(classStatus.supportedFeatures.map((f) => f.name))
      .to.include('BackendTLSPolicy')
      .and.not.include('ClusterTrustBundle');
    const listeners = (gateway as { listeners: Array<{ name: string; conditions: unknown }> }).listeners;
    const https = listeners.find((l) => l.name === 'https')!;
    expect(conditionOf(https, 'Accepted')?.reason).to.equal('NoValidCACertificate');
    // (No listener Secret in this cluster either: ResolvedRefs leads with that, and lists the bundle too.)
    expect(conditionOf(https, 'ResolvedRefs')?.message).to.match(
      /does not serve the certificates.k8s.io ClusterTrustBundle API/,
    );
    const policy = await eventually('the BackendTLSPolicy status', async () => {
      const status = (await getObject(client, 'BackendTLSPolicy', 'default', 'tls-backend'))?.status as
        | { ancestors?: Array<{ conditions?: unknown }> }
        | undefined;
      return status?.ancestors?.[0];
    });
    expect(conditionOf(policy, 'ResolvedRefs')?.reason).to.equal('InvalidKind');
    expect(conditionOf(policy, 'ResolvedRefs')?.message).to.match(
      /does not serve the certificates.k8s.io ClusterTrustBundle API/,
    );
    expect(conditionOf(policy, 'Accepted')?.reason).to.equal('NoValidCACertificate');
  });
});
