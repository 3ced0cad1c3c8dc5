// Two operator replicas against one real API server, each with its own real data plane: both translate and publish
// (both data planes hold the configuration and serve it), exactly one — the Lease holder — writes statuses, and when
// it stops the other takes over and writes what changes afterwards. Both data planes bind the Gateway's address with
// SO_REUSEPORT, as two pods would each bind their own; the kernel spreads connections across them.

import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
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

const PORT = 18_283;

describe('two operator replicas (real API server)', function () {
  this.timeout(120_000);
  const address = gatewayAddress();
  const base = `http://${address}:${PORT}`;
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let backendIp: string;
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;

  const lease = async () =>
    (await getObject(client, 'Lease', 'default', 'portico-operator'))?.spec as
      | { holderIdentity?: string; leaseTransitions?: number }
      | undefined;
  /** Status writes sent to the API server (applies and patches). */
  const writes = (r: Replica) => r.operator.writer.stats.applies + r.operator.writer.stats.updates;
  const ourParent = async (route: string) =>
    parentsOf((await getObject(client, 'HTTPRoute', 'default', route))?.status).find(
      (p) => p.controllerName === CONTROLLER,
    );
  const routeAt = (prefix: string) => {
    const route = loadFixture('echo.yaml', {
      ADDRESS: address,
      PORT,
      BACKEND_IP: backendIp,
      BACKEND_PORT: echo!.port,
    }).find((o) => o.kind === 'HTTPRoute')!;
    (route.spec as { rules: Array<{ matches: Array<{ path: { value: string } }> }> }).rules[0].matches[0].path.value =
      prefix;
    return route;
  };

  before(async function () {
    backendIp = backendAddressOrSkip(this);
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
    a = await startReplica({ name: 'replica-a', kubeconfigPath: cluster.kubeconfigPath });
    replicas.push(a);
    await a.operator.elector.whenLeading();
    b = await startReplica({ name: 'replica-b', kubeconfigPath: cluster.kubeconfigPath });
    replicas.push(b);
  });

  after(async function () {
    for (const replica of replicas) await replica.stop();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
  });

  it('both replicas publish to their own data plane; only the Lease holder writes statuses', async () => {
    for (const replica of [a, b]) {
      await replica.operator.reconciler.whenPublished(replica.operator.store.revision);
      expect(replica.operator.reconciler.lastAckedRevision, `${replica.name} acked`).to.be.at.least(0);
      expect(replica.dataPlane!.generation(), `${replica.name}'s data plane generation`).to.be.greaterThan(0);
    }
    await eventually(
      'Gateway Programmed=True',
      async () =>
        conditionOf((await getObject(client, 'Gateway', 'default', 'gw'))?.status, 'Programmed')?.status === 'True',
    );
    expect((await lease())?.holderIdentity).to.equal('replica-a');
    expect(a.operator.elector.isLeader).to.equal(true);
    expect(b.operator.elector.isLeader).to.equal(false);
    expect(b.operator.elector.observedLeader).to.equal('replica-a');

    // A change both replicas see: only A writes its status.
    await apply(client, routeAt('/v2'));
    await eventually(
      'route status at generation 2',
      async () => conditionOf(await ourParent('echo'), 'Accepted')?.observedGeneration === 2,
    );
    for (const replica of [a, b])
      await eventually(
        `${replica.name} published /v2`,
        async () =>
          replica.operator.store.get('HTTPRoute/default/echo')?.metadata?.generation === 2 &&
          replica.operator.reconciler.lastAckedRevision >= replica.operator.store.revision,
      );
    expect(writes(a), 'writes by the leader').to.be.greaterThan(0);
    expect(writes(b), 'writes by the follower').to.equal(0);
    expect(b.operator.statuses.all().length, 'the follower computed the statuses all the same').to.be.greaterThan(0);
    const reply = await eventually('/v2 served', async () => {
      const r = await get(`${base}/v2/x`).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(reply.echo?.backend).to.equal('echo');
  });

  it('hands over when the leader stops: the other replica takes the Lease and writes what changes next', async () => {
    const transitions = (await lease())?.leaseTransitions ?? 0;
    const stoppedAt = Date.now();
    await a.stopOperator();
    await b.operator.elector.whenLeading();
    const handOverMs = Date.now() - stoppedAt;
    // Released on stop, so B need not wait out the 3 s lease: its next try (retry period 0.5 s, jittered) wins.
    expect(handOverMs, 'hand-over time').to.be.below(3000);
    const record = await lease();
    expect(record?.holderIdentity).to.equal('replica-b');
    expect(record?.leaseTransitions).to.equal(transitions + 1);

    const before = writes(b);
    await apply(client, routeAt('/v3'));
    await eventually(
      'route status at generation 3, written by B',
      async () => conditionOf(await ourParent('echo'), 'Accepted')?.observedGeneration === 3,
    );
    expect(writes(b) - before, 'writes by the new leader').to.be.greaterThan(0);
    // A's data plane keeps its last configuration; B's serves the new one. The kernel spreads new connections over
    // both (a kept-alive one would stick to one of them): ask on fresh connections until B's answers.
    const reply = await eventually('/v3 served', async () => {
      const r = await get(`${base}/v3/x`, { headers: { connection: 'close' } }).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(reply.echo?.path).to.equal('/v3/x');
  });
});
