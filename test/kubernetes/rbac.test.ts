// The operator's RBAC, found by running it: a replica that acts as a user holding only fixtures/rbac.yaml (through
// impersonation) lists and watches every kind, wins the Lease, writes every status and records Events without a
// single forbidden request. These rules are what the install manifests must grant (namespace-scoped variant: the
// namespaced rules in a Role per watched namespace, gatewayclasses and namespaces — by resourceNames — in a
// ClusterRole, events in `default` for the GatewayClass).

import { expect } from 'chai';
import pino from 'pino';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { KubeClient, isApiError } from '../../operator/framework/kube-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import { CONTROLLER, adminClient, apply, conditionOf, eventually, gatewayAddress, getObject, kubeConfigFor, loadFixture, nonLoopbackIPv4, parentsOf } from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const PORT = 18_284;
const USER = 'portico-operator-test';

describe('the operator with least-privilege RBAC (real API server)', function () {
  this.timeout(120_000);
  const address = gatewayAddress();
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let replica: Replica | undefined;
  let backendIp: string;
  /** Every log line of the replica (debug and up): a forbidden request shows up in one, whatever part made it. */
  const lines: string[] = [];

  before(async function () {
    const ip = nonLoopbackIPv4();
    if (ip === undefined) this.skip();
    backendIp = ip!;
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    for (const object of loadFixture('rbac.yaml', {})) await apply(client, object);
    echo = await startEchoServer('echo', backendIp);
    for (const object of loadFixture('echo.yaml', { ADDRESS: address, PORT, BACKEND_IP: backendIp, BACKEND_PORT: echo.port })) await apply(client, object);
    replica = await startReplica({
      name: 'rbac',
      kubeconfigPath: cluster.kubeconfigPath,
      log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
      overrides: { kubeConfig: kubeConfigFor(cluster.kubeconfigPath, undefined, USER) },
    });
  });

  after(async function () {
    await replica?.stop();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
  });

  it('impersonation is in force: the operator identity cannot read what it was not granted', async () => {
    const asOperator = new KubeClient(kubeConfigFor(cluster!.kubeconfigPath, undefined, USER));
    try {
      await asOperator.request('GET', '/api/v1/namespaces/default/pods').then(
        () => expect.fail('pods were readable'),
        (error: unknown) => expect(isApiError(error, 403), String(error)).to.equal(true),
      );
    } finally {
      await asOperator.close();
    }
  });

  it('syncs, leads, writes every status and records Events without a forbidden request', async () => {
    const operator = replica!.operator;
    await operator.elector.whenLeading();
    await eventually('Gateway Programmed=True', async () => conditionOf((await getObject(client, 'Gateway', 'default', 'gw'))?.status, 'Programmed')?.status === 'True');
    expect(conditionOf((await getObject(client, 'GatewayClass', undefined, 'portico'))?.status, 'Accepted')?.status).to.equal('True');
    expect((await get(`http://${address}:${PORT}/echo/rbac`)).status).to.equal(200);
    // A route change that needs a read after a conflict and an Event: a missing backend.
    const route = loadFixture('echo.yaml', { ADDRESS: address, PORT, BACKEND_IP: backendIp, BACKEND_PORT: 1 }).find((o) => o.kind === 'HTTPRoute') as ApiObject;
    (route.spec as { rules: Array<{ backendRefs: Array<{ name: string }> }> }).rules[0].backendRefs[0].name = 'missing';
    await apply(client, route);
    await eventually('ResolvedRefs=False on the route', async () => {
      const ours = parentsOf((await getObject(client, 'HTTPRoute', 'default', 'echo'))?.status).find((p) => p.controllerName === CONTROLLER);
      return conditionOf(ours, 'ResolvedRefs')?.status === 'False';
    });
    await eventually('an Event recorded', async () => operator.events.stats.created > 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lines.length, 'the log is captured').to.be.greaterThan(10);
    expect(lines.filter((l) => /forbidden|"code":403/i.test(l)), 'forbidden requests').to.deep.equal([]);
    expect((await getObject(client, 'Lease', 'default', 'portico-operator'))?.spec).to.include({ holderIdentity: 'rbac' });
  });
});
