// GEP-5224 listener filters through the whole Kubernetes path, with the v1.7.0 CRDs on a real kube-apiserver: a
// listener whose ExternalAuth filter names a missing Service gets ResolvedRefs=False InvalidListenerFilterRef and
// serves no request unauthorized (every request for its host gets 500; the backend never sees one), while the
// listener beside it on the same port serves as usual. Then the authorizer's Service and EndpointSlice appear (a real
// HTTP authorizer on this machine): the references resolve, and the authorizer decides — the change reaches the data
// plane like any backend's endpoints.
//
// EndpointSlices cannot point at loopback addresses, so the echo server and the authorizer listen on a non-loopback
// IPv4 address of this machine (see e2e.test.ts).

import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startHttpAuthorizer } from '../support/authorizers.ts';
import type { Authorizer } from '../support/authorizers.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import {
  adminClient,
  apply,
  backendAddressOrSkip,
  conditionOf,
  eventually,
  gatewayAddress,
  getObject,
  loadFixture,
} from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const PORT = 18_297;

interface ListenerStatusLike {
  name: string;
  conditions: Array<{ type: string; status: string; reason: string; message?: string }>;
}

describe('listener ExternalAuth filter, Kubernetes mode (real API server, v1.7.0 CRDs)', function () {
  this.timeout(120_000);
  const address = gatewayAddress();
  const url = `http://${address}:${PORT}/page`;
  const guardedHost = { host: `guarded.example.com:${PORT}` };
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let authorizer: Authorizer | undefined;
  let replica: Replica | undefined;
  let backendIp: string;

  const listener = async (name: string): Promise<ListenerStatusLike | undefined> => {
    const gateway = await getObject(client, 'Gateway', 'default', 'gw');
    const listeners = (gateway?.status as { listeners?: ListenerStatusLike[] } | undefined)?.listeners ?? [];
    return listeners.find((l) => l.name === name);
  };

  before(async function () {
    backendIp = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    echo = await startEchoServer('echo', backendIp);
    authorizer = await startHttpAuthorizer('k8s-user', backendIp);
    const vars = { ADDRESS: address, PORT, BACKEND_IP: backendIp, ECHO_PORT: echo.port };
    for (const object of loadFixture('external-auth.yaml', vars)) await apply(client, object);
    replica = await startReplica({ name: 'external-auth', kubeconfigPath: cluster.kubeconfigPath });
    await eventually('the open listener served', async () => (await get(url).catch(() => undefined))?.status === 200);
  });

  after(async () => {
    await replica?.stop();
    await Promise.all([echo?.close(), authorizer?.close()]);
    await client?.close();
    await cluster?.stop();
  });

  it('reports ResolvedRefs=False InvalidListenerFilterRef on the listener, naming the filter', async () => {
    // Programmed=True comes once the data plane has acknowledged the configuration.
    const guarded = await eventually('the guarded listener status', async () => {
      const l = await listener('guarded');
      const settled = conditionOf(l, 'ResolvedRefs')?.status === 'False' && conditionOf(l, 'Programmed')?.status;
      return settled === 'True' ? l : undefined;
    });
    const resolved = conditionOf(guarded, 'ResolvedRefs');
    expect(resolved?.reason).to.equal('InvalidListenerFilterRef');
    expect(resolved?.message).to.contain('filters.requests[0].externalAuth.backendRef');
    expect(resolved?.message).to.contain('default/authz');
    // Kept (and programmed) so that it keeps its hostname: its requests answer 500 rather than reach `open`.
    expect(conditionOf(guarded, 'Accepted')?.status).to.equal('True');
    expect(conditionOf(guarded, 'Programmed')?.status).to.equal('True');
    expect(conditionOf(await listener('open'), 'ResolvedRefs')?.status).to.equal('True');
  });

  it('serves no request for the guarded host, with or without credentials; the other listener serves', async () => {
    const from = echo!.received.length;
    for (const headers of [guardedHost, { ...guardedHost, authorization: 'Bearer good' }]) {
      const reply = await get(url, { headers });
      expect(reply.status).to.equal(500);
      expect(reply.text).to.equal('external authorization is not configured correctly\n');
    }
    expect(echo!.received.slice(from).length, 'requests that reached the backend').to.equal(0);
    expect((await get(url)).status).to.equal(200);
  });

  it('lets the authorizer decide once its Service and endpoints exist', async () => {
    await apply(client, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'authz', namespace: 'default' },
      spec: { ports: [{ name: 'http', port: 9001, targetPort: authorizer!.port }] },
    });
    await apply(client, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'authz-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'authz' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: authorizer!.port }],
      endpoints: [{ addresses: [backendIp], conditions: { ready: true } }],
    } as never);
    await eventually(
      'the guarded listener resolved',
      async () => conditionOf(await listener('guarded'), 'ResolvedRefs')?.status === 'True',
    );
    const denied = await eventually('a denial from the authorizer', async () => {
      const reply = await get(url, { headers: guardedHost });
      return reply.status === 401 ? reply : undefined;
    });
    expect(denied.text).to.equal('denied by k8s-user\n');
    const allowed = await get(url, { headers: { ...guardedHost, authorization: 'Bearer good' } });
    expect(allowed.status).to.equal(200);
    expect(allowed.echo?.headers['x-auth-user']).to.equal('k8s-user');
    expect(authorizer!.seen.some((s) => s.path === '/page')).to.equal(true);
  });
});
