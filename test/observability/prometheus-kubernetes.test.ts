// The Kubernetes-mode half of the Prometheus test (prometheus.test.ts covers standalone mode): one operator replica
// in Kubernetes mode against the test bed's real kube-apiserver and etcd (built by `npm run cluster:build`), with its
// real data plane, scraped by a real Prometheus. The dashboard's Kubernetes-mode queries (status-write latency, status
// queue depth, leader replicas, watch restarts) return data, and PorticoLeaderLost fires when the leader Lease is
// taken away on purpose (another holder written into it; the replica cannot renew and stops leading).
// As in prometheus.test.ts, the rules are loaded with `for` set to 0s; the expressions are the manifest's.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { CONTROLLER, adminClient, apply, gatewayAddress } from '../kubernetes/support/kube.ts';
import { startReplica } from '../kubernetes/support/replica.ts';
import type { Replica } from '../kubernetes/support/replica.ts';
import { Prometheus } from './support/prometheus.ts';
import { freePorts, waitFor } from './support/ports.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const KUBERNETES_PANELS = [
  'portico_operator_status_write_seconds',
  'portico_operator_status_queue_depth',
  'portico_operator_leader',
  'portico_operator_watch',
];

describe('observability: Prometheus scrapes Portico in Kubernetes mode (real API server)', function () {
  this.timeout(180_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let replica: Replica | undefined;
  let prometheus: Prometheus | undefined;

  before(async () => {
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    const [port] = await freePorts(1);
    await apply(client, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'portico' },
      spec: { controllerName: CONTROLLER },
    });
    await apply(client, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'default' },
      spec: {
        gatewayClassName: 'portico',
        addresses: [{ type: 'IPAddress', value: gatewayAddress() }],
        listeners: [{ name: 'http', protocol: 'HTTP', port }],
      },
    });
    replica = await startReplica({ name: 'replica-a', kubeconfigPath: cluster.kubeconfigPath });
    await replica.operator.elector.whenLeading();
    const manifest = parse(readFileSync(join(ROOT, 'manifests/observability/prometheusrule.yaml'), 'utf8'));
    const groups = manifest.spec.groups as Array<{ name: string; rules: Array<{ alert: string; for?: string }> }>;
    prometheus = await Prometheus.start(
      {
        'portico-operator': [`127.0.0.1:${replica.operator.adminPort}`],
        'portico-dataplane': [`127.0.0.1:${replica.dataPlane?.adminPort}`],
      },
      groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, for: '0s' })) })),
    );
  });

  after(async () => {
    await prometheus?.stop();
    try {
      await replica?.stop();
      await client?.close();
    } finally {
      await cluster?.stop();
    }
  });

  it("the dashboard's Kubernetes-mode queries return data", async () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'manifests/observability/grafana-dashboard.json'), 'utf8'));
    const queries: Array<{ title: string; expr: string }> = dashboard.panels
      .flatMap((p: { title: string; targets: Array<{ expr: string }> }) =>
        p.targets.map((t) => ({ title: p.title, expr: t.expr })),
      )
      .filter((q: { expr: string }) => KUBERNETES_PANELS.some((m) => q.expr.includes(m)));
    expect(queries).to.have.length(4);
    const empty: string[] = [];
    await waitFor(
      'the Kubernetes-mode dashboard queries to return data',
      async () => {
        empty.length = 0;
        for (const q of queries) if ((await prometheus!.query(q.expr)).length === 0) empty.push(q.title);
        return empty.length === 0 ? true : undefined;
      },
      30_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; empty: ${empty.join(', ')}`);
    });
    const leaders = await prometheus!.query('sum(portico_operator_leader)');
    expect(leaders[0].value[1]).to.equal('1');
    const writes = await prometheus!.query('sum(portico_operator_status_write_seconds_count)');
    expect(Number(writes[0].value[1])).to.be.greaterThan(0);
  });

  it('PorticoLeaderLost fires when the Lease is taken away, and not before', async () => {
    const firing = async () =>
      (await prometheus!.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    expect(await firing()).to.not.include('PorticoLeaderLost');
    // Another holder with a long lease: the replica cannot renew and, after its renew deadline, stops leading.
    await apply(client, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'portico-operator', namespace: 'default' },
      spec: {
        holderIdentity: 'someone-else',
        leaseDurationSeconds: 3600,
        renewTime: new Date().toISOString().replace('Z', '000Z'),
      },
    });
    await waitFor('the replica to stop leading', async () => (replica!.operator.elector.isLeader ? undefined : true));
    await waitFor('PorticoLeaderLost to fire', async () =>
      (await firing()).includes('PorticoLeaderLost') ? true : undefined,
    );
  });
});
