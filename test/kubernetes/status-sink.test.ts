// The status sink's decisions, against a real kube-apiserver + etcd with the Gateway API CRDs: only the leader
// writes; an unchanged status is not written however often it is reported; Gateways and ListenerSets are applied with
// our condition types only; route parents and policy ancestors of other controllers are kept and ours removed when we
// stop reporting them; a live object someone else changed is looked at again.
//
// Wired as operator/kubernetes.ts wires it: the real StatusWriter writes, and the sink's synchronous `live` lookups
// are the real KubernetesProvider (its reflectors' caches), whose live-change callback goes to the sink's
// liveChanged. Writes are counted with the writer's stats and unchanged resourceVersions; what was written is read
// back from the API server. One namespace per test; the cluster (and everything in it) is stopped in `after`.

import { expect } from 'chai';
import pino from 'pino';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { CONTENT_TYPE } from '../../operator/framework/kube-client.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { objectPath } from '../../operator/framework/resource.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import { StatusWriter } from '../../operator/framework/status-writer.ts';
import type { Condition } from '../../operator/gateway/conditions.ts';
import { FIELD_MANAGER } from '../../operator/kubernetes.ts';
import type { KubernetesProvider } from '../../operator/kubernetes/provider.ts';
import { KubernetesStatusSink } from '../../operator/kubernetes/status-sink.ts';
import { CONTROLLER, RESOURCES, adminClient, apply, eventually, getObject } from './support/kube.ts';
import { startLiveCache } from './support/live-cache.ts';
import {
  GATEWAY_API,
  OTHER,
  OTHER_MANAGER,
  STATUS_KINDS,
  T,
  condition,
  gateway,
  gatewayStatus,
  listenerSet,
  parentRef,
  policy,
  policyStatus,
  report,
  route,
  routeStatus,
} from './support/status-fixtures.ts';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  subresource?: string;
  fieldsV1?: Record<string, any>;
}

/** The list-map keys (`k:{"type":"Accepted"}` → Accepted) one manager owns in a fieldsV1 list. */
function ownedKeys(list: Record<string, unknown> | undefined, field: string): string[] {
  return Object.keys(list ?? {})
    .filter((k) => k.startsWith('k:'))
    .map((k) => JSON.parse(k.slice(2))[field] as string)
    .sort();
}

describe('kubernetes/status-sink (real API server)', function () {
  this.timeout(120_000);
  const log = pino({ level: 'silent' });
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let provider: KubernetesProvider | undefined;
  /** The sink of the running test: the provider's live changes go to it, as in operator/kubernetes.ts. */
  let sink: KubernetesStatusSink | undefined;
  let testCount = 0;
  /** This test's namespace, and the status-kind objects created in it (kind, name). */
  let ns = '';
  let objects: Array<[string, string]> = [];

  before(async () => {
    cluster = await startCluster({ crds: true });
    client = adminClient(cluster.kubeconfigPath);
    // `live` is the real provider (reflector caches of the four status kinds), as the operator reads it: see support/live-cache.ts.
    provider = await startLiveCache(client, STATUS_KINDS, log, (kind, key) => sink?.liveChanged(kind, key));
  });

  afterEach(async () => {
    await sink?.stop();
    sink = undefined;
  });

  after(async () => {
    await provider?.stop();
    await client?.close();
    await cluster?.stop();
  });

  const read = async (kind: string, name: string) => (await getObject(client, kind, ns, name))!;
  const statusOf = async <S>(kind: string, name: string) => (await read(kind, name)).status as S;

  /** Creates an object in this test's namespace, and counts it in `versions` and `settled`. */
  async function create(object: ApiObject): Promise<void> {
    await apply(client, object);
    objects.push([object.kind!, object.metadata!.name!]);
  }

  /** Writes a status as another controller would (a merge patch of the status subresource, under its own manager). */
  async function writeStatusAsOther(kind: string, name: string, status: unknown): Promise<ApiObject> {
    return client.request<ApiObject>('PATCH', objectPath(RESOURCES[kind], { namespace: ns, name }, 'status'), {
      query: { fieldManager: OTHER_MANAGER },
      body: { status },
      contentType: CONTENT_TYPE.mergePatch,
    });
  }

  /** kind/name → resourceVersion on the API server, of every object of this test. */
  async function versions(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [kind, name] of objects) out[`${kind}/${name}`] = (await read(kind, name)).metadata!.resourceVersion!;
    return out;
  }

  /** Waits until the provider's cache holds every object of this test at the API server's version; returns those. */
  async function cacheCurrent(): Promise<Record<string, string>> {
    const want = await versions();
    await eventually('the cache as the API server', async () =>
      objects.every(
        ([kind, name]) => provider!.get(kind, ns, name)?.metadata?.resourceVersion === want[`${kind}/${name}`],
      ),
    );
    return want;
  }

  /**
   * Waits until the sink has nothing left to do and the provider's cache shows what the API server holds: our own
   * writes come back through the reflectors (and into liveChanged) before the next step, as they would in the
   * operator, so no step depends on how fast the watch is.
   */
  async function settled(): Promise<void> {
    await eventually('the sink idle and the cache as the API server', async () => {
      await delay(30);
      await sink!.whenIdle();
      const before = await cacheCurrent();
      // The cache caught up: a liveChanged it caused may have queued a key (after settleMs); let it run too.
      await delay(30);
      await sink!.whenIdle();
      return JSON.stringify(await versions()) === JSON.stringify(before);
    });
  }

  /** The sink of this test, with a fresh StatusWriter (stats from zero), once the cache holds every object made so far. */
  async function startSink(): Promise<{ sink: KubernetesStatusSink; writer: StatusWriter }> {
    await cacheCurrent();
    const writer = new StatusWriter({ client, fieldManager: FIELD_MANAGER, log });
    sink = new KubernetesStatusSink({ live: provider!, writer, controllerName: CONTROLLER, log, settleMs: 1 });
    return { sink, writer };
  }

  // Every test starts from a Gateway that carries another controller's condition and a route that carries another
  // controller's parent entry: what the sink writes must leave both in place.
  beforeEach(async () => {
    ns = `status-sink-${++testCount}`;
    objects = [];
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await create(gateway(ns));
    await writeStatusAsOther('Gateway', 'gw', { conditions: [condition('example.com/Theirs', 'True', 'X', T(0))] });
    await create(route(ns));
    await writeStatusAsOther('HTTPRoute', 'r', {
      parents: [
        {
          parentRef: parentRef('other'),
          controllerName: OTHER,
          conditions: [condition('Accepted', 'True', 'Accepted', T(0))],
        },
      ],
    });
  });

  it('writes nothing while it does not lead, and everything it holds once it does', async () => {
    const { sink, writer } = await startSink();
    const untouched = await versions();
    report(sink, [gatewayStatus(ns, T(1)), routeStatus(ns, T(1))]);
    await settled();
    expect([writer.stats.applies, writer.stats.updates], 'applies, updates').to.deep.equal([0, 0]);
    expect(await versions()).to.deep.equal(untouched);

    sink.setLeader(true);
    await settled();
    expect([writer.stats.applies, writer.stats.updates], 'one apply (Gateway), one update (HTTPRoute)').to.deep.equal([
      1, 1,
    ]);
    const gw = await statusOf<{ conditions: Condition[] }>('Gateway', 'gw');
    expect(gw.conditions.find((c) => c.type === 'Accepted')).to.include({ status: 'True', lastTransitionTime: T(1) });
    const r = await statusOf<{ parents: Array<{ controllerName: string }> }>('HTTPRoute', 'r');
    expect(r.parents.map((p) => p.controllerName)).to.include(CONTROLLER);
  });

  it('applies only our condition types to a Gateway, and keeps other controllers route entries', async () => {
    const { sink } = await startSink();
    sink.setLeader(true);
    report(sink, [gatewayStatus(ns, T(1)), routeStatus(ns, T(1))]);
    await settled();
    const gw = await read('Gateway', 'gw');
    // What we applied is what our field manager owns: had the sink sent the merged status, it would own Theirs too.
    const ours = (gw.metadata!.managedFields as ManagedFieldsEntry[]).filter(
      (f) => f.manager === FIELD_MANAGER && f.subresource === 'status',
    );
    expect(ours.map((f) => f.operation)).to.deep.equal(['Apply']);
    expect(ownedKeys(ours[0].fieldsV1?.['f:status']?.['f:conditions'], 'type')).to.deep.equal([
      'Accepted',
      'Programmed',
    ]);
    const conditions = (gw.status as { conditions: Condition[] }).conditions;
    expect(conditions.map((c) => c.type).sort()).to.deep.equal(['Accepted', 'Programmed', 'example.com/Theirs']);
    const r = await statusOf<{ parents: Array<{ controllerName: string }> }>('HTTPRoute', 'r');
    expect(r.parents.map((p) => p.controllerName)).to.deep.equal([OTHER, CONTROLLER]);
  });

  it('does not write a status that did not change, whatever the time the translator stamped on it', async () => {
    const { sink, writer } = await startSink();
    sink.setLeader(true);
    report(sink, [gatewayStatus(ns, T(1)), routeStatus(ns, T(1))]);
    await settled();
    const written = { ...writer.stats };
    const after = await versions();
    for (const time of [T(2), T(3), T(4)]) {
      report(sink, [gatewayStatus(ns, time), routeStatus(ns, time)]);
      // Leadership regained re-checks everything against the live objects: still nothing to write.
      sink.setLeader(true);
      await settled();
    }
    expect(writer.stats).to.deep.equal(written);
    expect(await versions()).to.deep.equal(after);
    expect(sink.stats.unchanged).to.be.greaterThan(0);
  });

  it('writes a real change, keeping lastTransitionTime of conditions that did not change', async () => {
    const { sink, writer } = await startSink();
    sink.setLeader(true);
    report(sink, [gatewayStatus(ns, T(1), 'False')]);
    await settled();
    report(sink, [gatewayStatus(ns, T(2), 'True')]);
    await settled();
    expect(writer.stats.applies).to.equal(2);
    const { conditions } = await statusOf<{ conditions: Condition[] }>('Gateway', 'gw');
    expect(
      conditions.filter((c) => c.type !== 'example.com/Theirs').map((c) => [c.type, c.status, c.lastTransitionTime]),
    ).to.deep.equal([
      ['Accepted', 'True', T(1)],
      ['Programmed', 'True', T(2)],
    ]);
  });

  it('removes its entries from a route it no longer reports, leaving the others', async () => {
    const { sink, writer } = await startSink();
    sink.setLeader(true);
    report(sink, [routeStatus(ns, T(1))]);
    await settled();
    expect(
      (await statusOf<{ parents: Array<{ controllerName: string }> }>('HTTPRoute', 'r')).parents.map(
        (p) => p.controllerName,
      ),
    ).to.deep.equal([OTHER, CONTROLLER]);
    report(sink, []);
    await settled();
    const status = await statusOf<{ parents: Array<{ controllerName: string }> }>('HTTPRoute', 'r');
    expect(status.parents.map((p) => p.controllerName)).to.deep.equal([OTHER]);
    const written = { ...writer.stats };
    const after = await versions();
    report(sink, []);
    sink.setLeader(true);
    await settled();
    expect(writer.stats, 'nothing left to remove').to.deep.equal(written);
    expect(await versions()).to.deep.equal(after);
  });

  it('merges policy ancestors like route parents: keeps other controllers’ entries, removes ours when released', async () => {
    await create(policy(ns));
    const theirs = {
      ancestorRef: { group: GATEWAY_API, kind: 'Gateway', namespace: ns, name: 'gw' },
      controllerName: OTHER,
      conditions: [condition('Accepted', 'True', 'Accepted', T(0))],
    };
    await writeStatusAsOther('BackendTLSPolicy', 'p', { ancestors: [theirs] });
    const { sink } = await startSink();
    sink.setLeader(true);
    report(sink, [policyStatus(ns, T(1), ['gw', 'gw2'])]);
    await settled();
    const written = await statusOf<{ ancestors: Array<{ controllerName: string; ancestorRef: { name: string } }> }>(
      'BackendTLSPolicy',
      'p',
    );
    expect(written.ancestors.map((a) => `${a.controllerName} ${a.ancestorRef.name}`)).to.deep.equal([
      `${OTHER} gw`,
      `${CONTROLLER} gw`,
      `${CONTROLLER} gw2`,
    ]);
    report(sink, []);
    await settled();
    const released = await statusOf<{ ancestors: unknown[] }>('BackendTLSPolicy', 'p');
    expect(released.ancestors).to.deep.equal([theirs]);
  });

  it('applies a ListenerSet status as it does a Gateway’s: our condition types only, at top and per listener', async () => {
    await create(listenerSet(ns));
    await writeStatusAsOther('ListenerSet', 'ls', { conditions: [condition('example.com/Theirs', 'True', 'X', T(0))] });
    const { sink, writer } = await startSink();
    sink.setLeader(true);
    const listener = {
      name: 'l',
      supportedKinds: [],
      attachedRoutes: 0,
      conditions: [condition('Accepted', 'True', 'Accepted', T(1))],
    };
    report(sink, [
      {
        kind: 'ListenerSet',
        apiVersion: `${GATEWAY_API}/v1`,
        namespace: ns,
        name: 'ls',
        generation: 1,
        status: { conditions: [condition('Accepted', 'True', 'Accepted', T(1))], listeners: [listener] },
      },
    ]);
    await settled();
    expect([writer.stats.applies, writer.stats.updates], 'applied, not read-modify-written').to.deep.equal([1, 0]);
    const ls = await read('ListenerSet', 'ls');
    const ours = (ls.metadata!.managedFields as ManagedFieldsEntry[]).filter(
      (f) => f.manager === FIELD_MANAGER && f.subresource === 'status',
    );
    expect(ours.map((f) => f.operation)).to.deep.equal(['Apply']);
    const owned = ours[0].fieldsV1?.['f:status'];
    expect(ownedKeys(owned?.['f:conditions'], 'type')).to.deep.equal(['Accepted']);
    expect(ownedKeys(owned?.['f:listeners']?.['k:{"name":"l"}']?.['f:conditions'], 'type')).to.deep.equal(['Accepted']);
    const status = ls.status as {
      conditions: Condition[];
      listeners: Array<{ name: string; conditions: Condition[] }>;
    };
    expect(status.conditions.map((c) => c.type).sort()).to.deep.equal(['Accepted', 'example.com/Theirs']);
    expect(status.listeners.map((l) => [l.name, l.conditions.map((c) => c.type)])).to.deep.equal([['l', ['Accepted']]]);
  });

  it('looks again when the live object changed under it (someone removed our entry)', async () => {
    const { sink, writer } = await startSink();
    sink.setLeader(true);
    report(sink, [routeStatus(ns, T(1))]);
    await settled();
    const removed = await writeStatusAsOther('HTTPRoute', 'r', { parents: [] });
    expect((removed.status as { parents: unknown[] }).parents).to.deep.equal([]);
    // Nothing but the reflector's event (through liveChanged) tells the sink to look again.
    await settled();
    const status = await statusOf<{ parents: Array<{ controllerName: string }> }>('HTTPRoute', 'r');
    expect(status.parents.map((p) => p.controllerName)).to.deep.equal([CONTROLLER]);
    expect(writer.stats.updates).to.equal(2);
  });
});
