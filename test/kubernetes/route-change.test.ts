// Zero failed requests while a route changes, through the whole Kubernetes path: HTTPRoute edits on a real
// kube-apiserver → watch → operator (translate, publish) → data plane, with clients sending requests all along.
// The shape follows the route-change test of howardjohn/gateway-api-bench (see ../shared/research/perf-anchors.md):
// the route is edited 20 times, 200 ms apart, each edit flipping its backend between two Service ports and adding or
// removing a response-header filter, and any answer other than 200 fails the test.
//
// EndpointSlices cannot point at loopback addresses, so the echo servers listen on a non-loopback IPv4 address of
// this machine (see e2e.test.ts).

import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import { adminClient, apply, backendAddressOrSkip, eventually, gatewayAddress, loadFixture } from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const PORT = 18_291;
const EDITS = 20;
const EDIT_INTERVAL_MS = 200;
const CLIENTS = 4;

/** The route at edit `n`: even edits go to port 80 (echo A) with no filter, odd ones to 8080 (echo B) with one. */
function route(n: number): ApiObject {
  const odd = n % 2 === 1;
  const filters = odd
    ? [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-edit', value: String(n) }] } }]
    : [];
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'changing', namespace: 'default' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          filters,
          backendRefs: [{ name: 'echo', port: odd ? 8080 : 80 }],
        },
      ],
    },
  };
}

describe('route changes under traffic, Kubernetes mode (real API server)', function () {
  this.timeout(120_000);
  const address = gatewayAddress();
  const url = `http://${address}:${PORT}/changing`;
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echoA: EchoServer | undefined;
  let echoB: EchoServer | undefined;
  let replica: Replica | undefined;

  before(async function () {
    const backendIp = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    echoA = await startEchoServer('a', backendIp);
    echoB = await startEchoServer('b', backendIp);
    const vars = { ADDRESS: address, PORT, BACKEND_IP: backendIp, PORT_A: echoA.port, PORT_B: echoB.port };
    for (const object of loadFixture('route-change.yaml', vars)) await apply(client, object);
    await apply(client, route(0));
    replica = await startReplica({ name: 'route-change', kubeconfigPath: cluster.kubeconfigPath });
    await eventually(
      'the route served by echo A',
      async () => (await get(url).catch(() => undefined))?.echo?.backend === 'a',
    );
  });

  after(async () => {
    await replica?.stop();
    await Promise.all([echoA?.close(), echoB?.close()]);
    await client?.close();
    await cluster?.stop();
  });

  it(`answers every request with 200 while the route is edited ${EDITS} times`, async () => {
    let running = true;
    const failures: string[] = [];
    const seen = { a: 0, b: 0, filtered: 0 };
    const send = async () => {
      while (running) {
        try {
          const reply = await get(url);
          if (reply.status !== 200) failures.push(`status ${reply.status}: ${reply.text.slice(0, 200)}`);
          else if (reply.echo?.backend === 'a') seen.a++;
          else if (reply.echo?.backend === 'b') seen.b++;
          if (reply.headers['x-edit'] !== undefined) seen.filtered++;
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, send);
    for (let n = 1; n <= EDITS; n++) {
      await apply(client, route(n));
      await new Promise((resolve) => setTimeout(resolve, EDIT_INTERVAL_MS));
    }
    // The last edit (even) sends everything to echo A without the filter: wait until that is what is served.
    await eventually('the last edit served', async () => {
      const reply = await get(url);
      return reply.echo?.backend === 'a' && reply.headers['x-edit'] === undefined;
    });
    running = false;
    await Promise.all(clients);
    expect(failures, failures.slice(0, 5).join('\n')).to.deep.equal([]);
    // The edits took effect while the clients ran: both backends answered, and the filter was applied.
    expect(seen.a, 'requests answered by echo A').to.be.greaterThan(0);
    expect(seen.b, 'requests answered by echo B').to.be.greaterThan(0);
    expect(seen.filtered, 'answers carrying the filter of an odd edit').to.be.greaterThan(0);
  });
});
