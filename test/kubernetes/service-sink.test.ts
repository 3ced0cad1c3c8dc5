// The Service sink's decisions, against a real kube-apiserver + etcd: only the leader writes; a Service is applied
// when it differs from what the translator wants and never again while it matches (the defaults and allocations the
// API server adds do not count); the latest desired state is what gets applied; orphans of ours are deleted (with
// their uid as a precondition) only after a complete list, others' Services never; a Gateway that cannot be served
// keeps its Service.
//
// Wired as operator/kubernetes.ts wires it: the sink writes through a real KubeClient and reads live Services from
// the real KubernetesProvider (its reflector's cache), whose live-change callback goes to the sink's liveChanged.
// The sink's client is the real one with a record of the requests it sent (each still goes to the API server), so
// that a test can say which writes were made; the results are read back from the API server. One namespace per test
// (the operator's namespace, where the Services go); the cluster (and everything in it) is stopped in `after`.

import { expect } from 'chai';
import type { Dispatcher } from 'undici';
import pino from 'pino';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { CONTENT_TYPE, KubeClient } from '../../operator/framework/kube-client.ts';
import type { RequestOptions } from '../../operator/framework/kube-client.ts';
import { collectionPath, objectPath } from '../../operator/framework/resource.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import type { GatewayService } from '../../operator/gateway/gateways/gateway-service.ts';
import { FIELD_MANAGER } from '../../operator/kubernetes.ts';
import type { KubernetesProvider } from '../../operator/kubernetes/provider.ts';
import { KubernetesServiceSink, serviceBody, serviceMatches } from '../../operator/kubernetes/services.ts';
import { RESOURCES, adminClient, apply, eventually, getObject, kubeConfigFor } from './support/kube.ts';
import { startLiveCache } from './support/live-cache.ts';

const SELECTOR = { 'app.kubernetes.io/name': 'portico' };

/** The real client, keeping a record of the requests it sends: method, last path segment (the name), body. */
class RecordingClient extends KubeClient {
  readonly calls: Array<{ method: string; name: string; body: any }> = [];

  override async request<T = unknown>(
    method: Dispatcher.HttpMethod,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    this.calls.push({ method, name: path.split('/').pop()!, body: options.body });
    return super.request<T>(method, path, options);
  }
}

interface ServiceLike extends ApiObject {
  spec: {
    type: string;
    selector: Record<string, string>;
    ports: Array<{ port: number; targetPort: number; nodePort?: number }>;
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('kubernetes/services: KubernetesServiceSink (real API server)', function () {
  this.timeout(120_000);
  const log = pino({ level: 'silent' });
  let cluster: Cluster | undefined;
  /** The tests' own client (and the provider's): its requests are not the sink's. */
  let client: KubeClient;
  let provider: KubernetesProvider | undefined;
  /** The sink of the running test: the provider's live changes go to it, as in operator/kubernetes.ts. */
  let sink: KubernetesServiceSink | undefined;
  let sinkClient: RecordingClient | undefined;
  let testCount = 0;
  /** This test's operator namespace: where the Services go. */
  let ns = '';

  before(async () => {
    cluster = await startCluster({ crds: true });
    client = adminClient(cluster.kubeconfigPath);
    // `live` is the real provider (reflector caches of Services), as the operator reads it: see support/live-cache.ts.
    provider = await startLiveCache(client, ['Service'], log, (kind, key) => sink?.liveChanged(kind, key));
  });

  beforeEach(async () => {
    ns = `portico-system-${++testCount}`;
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });

  afterEach(async () => {
    await sink?.stop();
    sink = undefined;
    await sinkClient?.close();
    sinkClient = undefined;
  });

  after(async () => {
    await provider?.stop();
    await client?.close();
    await cluster?.stop();
  });

  function gatewayService(
    name: string,
    targetPort = 10000,
    type: 'LoadBalancer' | 'ClusterIP' = 'LoadBalancer',
  ): GatewayService {
    return {
      gateway: `default/${name}`,
      namespace: ns,
      name: `gw-${name}`,
      desired: {
        type,
        ports: [{ name: 'tcp-80', protocol: 'TCP', port: 80, targetPort }],
        labels: { 'app.kubernetes.io/managed-by': 'portico', team: 'a' },
        annotations: { 'portico.dev/gateway': `default/${name}` },
      },
    };
  }

  /** A body applied as the sink applies it (server-side apply, force, our field manager); the Service as served. */
  async function applyAsOperator(body: ApiObject): Promise<ServiceLike> {
    return client.request<ServiceLike>(
      'PATCH',
      objectPath(RESOURCES.Service, { namespace: ns, name: body.metadata!.name! }),
      {
        query: { fieldManager: FIELD_MANAGER, force: true },
        body,
        contentType: CONTENT_TYPE.apply,
      },
    );
  }

  const service = async (name: string) => (await getObject(client, 'Service', ns, name)) as ServiceLike | undefined;

  /** name → resourceVersion of every Service of this test's namespace, on the API server. */
  async function versions(): Promise<Record<string, string>> {
    const list = await client.request<{ items: ApiObject[] }>('GET', collectionPath(RESOURCES.Service, ns));
    return Object.fromEntries(list.items.map((s) => [s.metadata!.name!, s.metadata!.resourceVersion!]));
  }

  /** The provider's cache of this namespace as the API server holds it. */
  async function cacheCurrent(): Promise<Record<string, string>> {
    const want = await versions();
    await eventually('the cache as the API server', async () => {
      const cached = provider!.list('Service', ns);
      return (
        cached.length === Object.keys(want).length &&
        cached.every((s) => want[s.metadata!.name!] === s.metadata!.resourceVersion)
      );
    });
    return want;
  }

  /**
   * Waits until the sink has nothing left to do and the provider's cache shows what the API server holds: the
   * sink's own applies come back through the reflector (and into liveChanged) before the next step, as they would in
   * the operator, so no step depends on how fast the watch is.
   */
  async function settled(): Promise<void> {
    await eventually('the sink idle and the cache as the API server', async () => {
      await sink!.whenIdle();
      const before = await cacheCurrent();
      await delay(30);
      await sink!.whenIdle();
      return JSON.stringify(await versions()) === JSON.stringify(before);
    });
  }

  /** This test's sink, with its own recording client, once the cache holds every Service made so far. */
  async function startSink(): Promise<{ sink: KubernetesServiceSink; calls: RecordingClient['calls'] }> {
    await cacheCurrent();
    sinkClient = new RecordingClient(kubeConfigFor(cluster!.kubeconfigPath), { userAgent: 'portico-tests-sink' });
    sink = new KubernetesServiceSink({
      client: sinkClient,
      live: provider!,
      namespace: ns,
      selector: SELECTOR,
      fieldManager: FIELD_MANAGER,
      log,
    });
    return { sink, calls: sinkClient.calls };
  }

  it('a served Service matches the body it was applied from; a change to what we own does not', async () => {
    const body = serviceBody(gatewayService('web'), SELECTOR)!;
    const served = await applyAsOperator(body as unknown as ApiObject);
    expect(
      served.spec.ports[0].nodePort,
      'the API server allocated a node port (a field the body does not have)',
    ).to.be.a('number');
    expect(serviceMatches(served, body)).to.equal(true);

    // Someone else changes the selector, which the body sets (a merge patch merges maps: ours is removed with null).
    const changed = await client.request<ServiceLike>(
      'PATCH',
      objectPath(RESOURCES.Service, { namespace: ns, name: 'gw-web' }),
      {
        query: { fieldManager: 'someone-else' },
        body: { spec: { selector: { app: 'other', 'app.kubernetes.io/name': null } } },
        contentType: CONTENT_TYPE.mergePatch,
      },
    );
    expect(changed.spec.selector).to.deep.equal({ app: 'other' });
    expect(serviceMatches(changed, body)).to.equal(false);

    expect(serviceMatches(served, serviceBody(gatewayService('web', 10001), SELECTOR)!)).to.equal(false);
    expect(serviceBody({ gateway: 'default/x', namespace: ns, name: 'gw-x' }, SELECTOR)).to.equal(undefined);
  });

  it('applies as leader only, the latest desired state, and nothing while the Service matches', async () => {
    const { sink, calls } = await startSink();
    sink.update([gatewayService('web')]);
    await settled();
    expect(calls).to.deep.equal([]);
    expect(await service('gw-web')).to.equal(undefined);

    sink.setLeader(true);
    await settled();
    expect(calls.map((c) => [c.method, c.name, c.body.spec.ports[0].targetPort])).to.deep.equal([
      ['PATCH', 'gw-web', 10000],
    ]);
    const created = (await service('gw-web'))!;
    expect([created.spec.type, created.spec.ports[0].targetPort]).to.deep.equal(['LoadBalancer', 10000]);

    sink.update([gatewayService('web')]);
    sink.setLeader(true);
    await settled();
    expect(calls).to.have.length(1);
    expect((await service('gw-web'))!.metadata!.resourceVersion).to.equal(created.metadata!.resourceVersion);
    expect(sink.stats.unchanged).to.be.greaterThan(0);

    sink.update([gatewayService('web', 10000, 'ClusterIP')]);
    await settled();
    expect(calls.map((c) => [c.method, c.body?.spec.type])).to.deep.equal([
      ['PATCH', 'LoadBalancer'],
      ['PATCH', 'ClusterIP'],
    ]);
    expect((await service('gw-web'))!.spec.type).to.equal('ClusterIP');
  });

  it('deletes orphans of ours after the first complete list, keeps Services of Gateways that cannot be served, never touches others', async () => {
    const gone = await applyAsOperator(serviceBody(gatewayService('gone'), SELECTOR) as unknown as ApiObject);
    await applyAsOperator(serviceBody(gatewayService('kept'), SELECTOR) as unknown as ApiObject);
    await apply(client, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'gw-foreign', namespace: ns },
      spec: { ports: [{ port: 80 }] },
    });
    const { sink, calls } = await startSink();
    const before = await versions();
    sink.setLeader(true);
    await settled();
    expect(calls, 'nothing is deleted before a complete list').to.deep.equal([]);
    expect(await versions()).to.deep.equal(before);

    const foreign = { ...gatewayService('foreign'), name: 'gw-foreign' };
    sink.update([{ gateway: 'default/kept', namespace: ns, name: 'gw-kept' }, foreign]);
    await settled();
    expect(calls.map((c) => [c.method, c.name])).to.deep.equal([['DELETE', 'gw-gone']]);
    expect(calls[0].body.preconditions).to.deep.equal({ uid: gone.metadata!.uid });
    const { 'gw-gone': _deleted, ...left } = before;
    expect(await versions(), 'the kept and the foreign Service as they were').to.deep.equal(left);
  });
});
