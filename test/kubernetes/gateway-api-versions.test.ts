// The installed Gateway API release, on a real API server: a cluster still on the v1.6.1 CRDs runs (GatewayClass
// SupportedVersion names v1.6.1, the features are published under v1.6's names), an upgrade of the CRDs to v1.7.0
// under a running operator is seen at once (v1.7.0, v1.7's names), a CRD deleted while the operator runs is "not
// served" (said once, its objects dropped, no warning every 30 s) and watched again when it returns.

import { expect } from 'chai';
import pino from 'pino';
import { crdDirs, startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { CONTENT_TYPE } from '../../operator/framework/kube-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { adminClient, apply, conditionOf, eventually, getObject } from './support/kube.ts';
import { kubectl } from './support/kubectl.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

const TCPROUTES_CRD = 'tcproutes.gateway.networking.k8s.io';

describe('Gateway API versions under a running operator (real API server)', function () {
  this.timeout(180_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let replica: Replica | undefined;
  const lines: Array<{ level: number; msg: string; kind?: string; resource?: string }> = [];

  const supportedVersion = async (className = 'portico') => {
    const status = (await getObject(client, 'GatewayClass', undefined, className))?.status as
      | { supportedFeatures?: Array<{ name: string }> }
      | undefined;
    return {
      condition: conditionOf(status, 'SupportedVersion'),
      features: (status?.supportedFeatures ?? []).map((f) => f.name),
    };
  };

  before(async () => {
    cluster = await startCluster({ crdsDir: crdDirs.v161Experimental });
    client = adminClient(cluster.kubeconfigPath);
    await apply(client, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'portico' },
      spec: { controllerName: 'portico.dev/gateway-controller' },
    });
    // A class in the GatewayInfrastructure mode: it claims that feature, under the release's name.
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'portico-system' } });
    await apply(client, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'infra', namespace: 'portico-system' },
      data: { infrastructure: 'GatewayNamespace' },
    });
    await apply(client, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'portico-infra' },
      spec: {
        controllerName: 'portico.dev/gateway-controller',
        parametersRef: { group: '', kind: 'ConfigMap', name: 'infra', namespace: 'portico-system' },
      },
    });
    replica = await startReplica({
      name: 'versions',
      kubeconfigPath: cluster.kubeconfigPath,
      log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
      overrides: { reflector: { backoff: { initialMs: 50, maxMs: 200 } }, statusSettleMs: 0 },
    });
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    await replica?.stop();
    await client?.close();
    await cluster?.stop();
  });

  it('on v1.6.1 CRDs: SupportedVersion True naming v1.6.1, features under v1.6 names', async () => {
    const seen = await eventually('SupportedVersion naming v1.6.1', async () => {
      const s = await supportedVersion();
      return s.condition?.message?.includes('v1.6.1') ? s : undefined;
    });
    expect(seen.condition?.status).to.equal('True');
    expect(seen.condition?.reason).to.equal('SupportedVersion');
    expect(seen.features).to.include.members(['HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout']);
    expect(seen.features).to.not.include('HTTPRouteRetryCodes');
    expect(seen.features, 'a class not in the mode').to.not.include.members(['GatewayInfrastructurePropagation']);
    const infra = await eventually('the class in the mode on v1.6.1', async () => {
      const s = await supportedVersion('portico-infra');
      return s.condition?.message?.includes('v1.6.1') ? s : undefined;
    });
    expect(infra.features).to.include('GatewayInfrastructurePropagation');
    expect(infra.features).to.not.include('GatewayInfrastructure');
  });

  it('after the CRDs are upgraded to v1.7.0 under it: v1.7.0 and v1.7 names, without a restart', async () => {
    const applied = await kubectl(cluster!, [
      'apply',
      '--server-side',
      '--force-conflicts',
      '-k',
      crdDirs.experimental,
    ]);
    expect(applied.code, applied.stderr).to.equal(0);
    const seen = await eventually('SupportedVersion naming v1.7.0', async () => {
      const s = await supportedVersion();
      return s.condition?.message?.includes('v1.7.0') ? s : undefined;
    });
    expect(seen.condition?.status).to.equal('True');
    expect(seen.features).to.include('HTTPRouteRetryCodes');
    expect(seen.features).to.not.include.members(['HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout']);
    const infra = await eventually('the class in the mode on v1.7.0', async () => {
      const s = await supportedVersion('portico-infra');
      return s.condition?.message?.includes('v1.7.0') ? s : undefined;
    });
    expect(infra.features).to.include('GatewayInfrastructure');
    expect(infra.features).to.not.include('GatewayInfrastructurePropagation');
  });

  it('a CRD deleted while it runs: the kind is not served, said once, its objects dropped; watched again on return', async () => {
    const operator = replica!.operator;
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TCPRoute',
      metadata: { name: 'tcp', namespace: 'default' },
      spec: { parentRefs: [{ name: 'none' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
    };
    const create = () =>
      client.request('PATCH', '/apis/gateway.networking.k8s.io/v1alpha2/namespaces/default/tcproutes/tcp', {
        query: { fieldManager: 'portico-tests', force: true },
        body: route,
        contentType: CONTENT_TYPE.apply,
      });
    await eventually('the TCPRoute created', create);
    await eventually('the TCPRoute in the store', async () => operator.store.get('TCPRoute/default/tcp') !== undefined);

    // Only what is logged from here on (the CRD upgrade before may have logged retries of its own, e.g. a 429 while
    // the API server reinitialised the storage of a changed CRD).
    const from = lines.length;
    const deleted = await kubectl(cluster!, ['delete', 'crd', TCPROUTES_CRD]);
    expect(deleted.code, deleted.stderr).to.equal(0);
    await eventually('TCPRoute not served', async () => operator.provider.resourceOf('TCPRoute') === undefined);
    await eventually('the TCPRoute dropped', async () => operator.store.get('TCPRoute/default/tcp') === undefined);
    // With the reflector's backoff at 200 ms, a loop on 404 would have warned ten times in these two seconds.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const about = lines
      .slice(from)
      .filter((l) => l.level >= 40 && (l.kind === 'TCPRoute' || l.resource?.includes('tcproutes')));
    expect(about.map((l) => l.msg)).to.have.length(1);
    expect(about[0]!.msg).to.match(/no longer served/);
    expect(operator.provider.missingKinds()).to.include('TCPRoute');

    const restored = await kubectl(cluster!, [
      'apply',
      '--server-side',
      '-f',
      `${crdDirs.experimental}/gateway.networking.k8s.io_tcproutes.yaml`,
    ]);
    expect(restored.code, restored.stderr).to.equal(0);
    await eventually('TCPRoute served again', async () => operator.provider.resourceOf('TCPRoute') !== undefined);
    await eventually('a new TCPRoute created', create);
    await eventually(
      'the new TCPRoute in the store',
      async () => operator.store.get('TCPRoute/default/tcp') !== undefined,
    );
  });
});
