// The operator with exactly the rights the install manifests give it: manifests/base's namespace, ServiceAccount,
// ClusterRole and Role are applied with kubectl, and a replica runs with a real token of that ServiceAccount
// (TokenRequest, as a pod gets), in service mode as manifests/base/deployment.yaml runs it. It must list and watch
// every kind, win the Lease in portico-system, create, update and delete the Gateways' Services there, write every
// status (ListenerSets' and BackendTLSPolicies' too) and record Events without a single forbidden request.

import { expect } from 'chai';
import pino from 'pino';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, isApiError } from '../../operator/framework/kube-client.ts';
import { kubectl } from './support/kubectl.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import { serviceNameOf } from '../../operator/gateway/gateways/gateway-service.ts';
import {
  CONTROLLER,
  adminClient,
  apply,
  conditionOf,
  deleteObject,
  eventually,
  getObject,
  loadFixture,
  backendAddressOrSkip,
  parentsOf,
} from './support/kube.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

/** Internal ports of this run (service mode): below the ephemeral range, apart from other test files' ports. */
const FIRST_PORT = 30_000 + (process.pid % 50) * 20;
const MANIFESTS = new URL('../../manifests/base/', import.meta.url).pathname;

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

describe('the operator with the install manifests’ RBAC (real API server)', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let replica: Replica | undefined;
  let backendIp: string;
  let operatorConfig: KubeConfig;
  /** Every log line of the replica (debug and up): a forbidden request shows up in one, whatever part made it. */
  const lines: string[] = [];

  before(async function () {
    backendIp = backendAddressOrSkip(this);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    for (const file of ['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'role.yaml']) {
      const applied = await kubectl(cluster, ['apply', '--server-side', '-f', MANIFESTS + file]);
      expect(applied.code, applied.stderr).to.equal(0);
    }
    const token = await kubectl(cluster, ['create', 'token', 'portico', '-n', 'portico-system', '--duration', '1h']);
    expect(token.code, token.stderr).to.equal(0);
    operatorConfig = serviceAccountConfig(cluster.kubeconfigPath, token.stdout.trim());
    echo = await startEchoServer('echo', backendIp);
    for (const object of loadFixture('services.yaml', { BACKEND_IP: backendIp, BACKEND_PORT: echo.port }))
      await apply(client, object);
    replica = await startReplica({
      name: 'rbac',
      kubeconfigPath: cluster.kubeconfigPath,
      log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
      leaseNamespace: 'portico-system',
      overrides: { kubeConfig: operatorConfig },
      config: {
        addressMode: 'service',
        serviceNamespace: 'portico-system',
        internalPorts: `${FIRST_PORT}-${FIRST_PORT + 19}`,
      },
    });
  });

  after(async function () {
    await replica?.stop();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
  });

  it('the ServiceAccount token is in force: the operator cannot read what it was not granted', async () => {
    const asOperator = new KubeClient(operatorConfig);
    try {
      await asOperator.request('GET', '/api/v1/namespaces/default/pods').then(
        () => expect.fail('pods were readable'),
        (error: unknown) => expect(isApiError(error, 403), String(error)).to.equal(true),
      );
    } finally {
      await asOperator.close();
    }
  });

  it('syncs, leads, manages Services, writes every status and records Events without a forbidden request', async () => {
    const operator = replica!.operator;
    await operator.elector.whenLeading();
    // The ClusterIP Gateway is programmed on its Service's cluster IP (the class's parameters ConfigMap was read).
    await eventually(
      'Gateway internal Programmed=True',
      async () =>
        conditionOf((await getObject(client, 'Gateway', 'default', 'internal'))?.status, 'Programmed')?.status ===
        'True',
    );
    expect(
      conditionOf((await getObject(client, 'GatewayClass', undefined, 'portico-internal'))?.status, 'Accepted')?.status,
    ).to.equal('True');
    const web = await eventually('the Service of Gateway web', async () =>
      getObject(client, 'Service', 'portico-system', serviceNameOf('default', 'web')),
    );
    const targetPort = (web.spec as { ports: Array<{ targetPort: number }> }).ports[0].targetPort;
    await eventually(
      'a 200 on the internal port',
      async () => (await get(`http://127.0.0.1:${targetPort}/echo/rbac`).catch(() => undefined))?.status === 200,
    );
    // A route change that needs a read after a conflict and an Event: a missing backend.
    const route = loadFixture('services.yaml', { BACKEND_IP: backendIp, BACKEND_PORT: 1 }).find(
      (o) => o.kind === 'HTTPRoute',
    ) as ApiObject;
    (route.spec as { rules: Array<{ backendRefs: Array<{ name: string }> }> }).rules[0].backendRefs[0].name = 'missing';
    await apply(client, route);
    await eventually('ResolvedRefs=False on the route', async () => {
      const ours = parentsOf((await getObject(client, 'HTTPRoute', 'default', 'echo'))?.status).find(
        (p) => p.controllerName === CONTROLLER,
      );
      return conditionOf(ours, 'ResolvedRefs')?.status === 'False';
    });
    await eventually('an Event recorded', async () => operator.events.stats.created > 0);
    // A ListenerSet (not admitted by Gateway web: its status says so) and a BackendTLSPolicy reached from web: their
    // statuses are written too (listenersets/status by apply, backendtlspolicies/status by read-modify-write).
    const gw = 'gateway.networking.k8s.io/v1';
    await apply(client, {
      apiVersion: gw,
      kind: 'ListenerSet',
      metadata: { name: 'team', namespace: 'default' },
      spec: { parentRef: { name: 'web' }, listeners: [{ name: 'team', protocol: 'HTTP', port: 8081 }] },
    });
    await apply(client, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'secure', namespace: 'default' },
      spec: { ports: [{ name: 'https', port: 443 }] },
    });
    await apply(client, {
      apiVersion: gw,
      kind: 'BackendTLSPolicy',
      metadata: { name: 'secure', namespace: 'default' },
      spec: {
        targetRefs: [{ group: '', kind: 'Service', name: 'secure' }],
        validation: { hostname: 'secure.example.com', wellKnownCACertificates: 'System' },
      },
    });
    await apply(client, {
      apiVersion: gw,
      kind: 'HTTPRoute',
      metadata: { name: 'secure', namespace: 'default' },
      spec: { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'secure', port: 443 }] }] },
    });
    await eventually(
      'ListenerSet Accepted=False NotAllowed',
      async () =>
        conditionOf((await getObject(client, 'ListenerSet', 'default', 'team'))?.status, 'Accepted')?.reason ===
        'NotAllowed',
    );
    await eventually('BackendTLSPolicy Accepted for Gateway web', async () => {
      const ancestors =
        (
          (await getObject(client, 'BackendTLSPolicy', 'default', 'secure'))?.status as {
            ancestors?: Array<{ controllerName: string; conditions: unknown[] }>;
          }
        )?.ancestors ?? [];
      return ancestors.some((a) => a.controllerName === CONTROLLER && conditionOf(a, 'Accepted')?.status === 'True');
    });
    // A Gateway that goes takes its Service with it.
    await deleteObject(client, 'Gateway', 'default', 'internal');
    await eventually(
      'the Service of Gateway internal deleted',
      async () =>
        (await getObject(client, 'Service', 'portico-system', serviceNameOf('default', 'internal'))) === undefined,
    );
    expect(operator.services?.stats.deletes).to.equal(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lines.length, 'the log is captured').to.be.greaterThan(10);
    expect(
      lines.filter((l) => /forbidden|"code":403/i.test(l)),
      'forbidden requests',
    ).to.deep.equal([]);
    expect((await getObject(client, 'Lease', 'portico-system', 'portico-operator'))?.spec).to.include({
      holderIdentity: 'rbac',
    });
  });
});
