// The status sink's decisions, against a fake API (objects in a map, resourceVersion bumped per write): only the
// leader writes; an unchanged status is not written however often it is reported; Gateways are applied with our
// condition types only; route entries of other controllers are kept and ours removed when we stop reporting them.

import { expect } from 'chai';
import pino from 'pino';
import type { StatusWriter } from '../framework/status-writer.ts';
import type { ApiObject, ObjectRef, ResourceType } from '../framework/resource.ts';
import type { ObjectStatus } from '../gateway/status.ts';
import { KubernetesStatusSink } from './status-sink.ts';

const CONTROLLER = 'portico.dev/gateway-controller';
const GW: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', kind: 'Gateway', namespaced: true };
const ROUTE: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true };
const LISTENER_SET: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'listenersets', kind: 'ListenerSet', namespaced: true };
const POLICY: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'backendtlspolicies', kind: 'BackendTLSPolicy', namespaced: true };

function condition(type: string, status: 'True' | 'False', reason: string, time: string) {
  return { type, status, reason, message: reason, observedGeneration: 1, lastTransitionTime: time };
}

function gatewayStatus(time: string, programmed: 'True' | 'False' = 'True'): ObjectStatus {
  return {
    kind: 'Gateway',
    apiVersion: 'gateway.networking.k8s.io/v1',
    namespace: 'ns',
    name: 'gw',
    generation: 1,
    status: { conditions: [condition('Accepted', 'True', 'Accepted', time), condition('Programmed', programmed, programmed === 'True' ? 'Programmed' : 'Pending', time)], addresses: [], listeners: [] },
  };
}

function routeStatus(time: string, parents = ['gw']): ObjectStatus {
  return {
    kind: 'HTTPRoute',
    apiVersion: 'gateway.networking.k8s.io/v1',
    namespace: 'ns',
    name: 'r',
    generation: 1,
    status: { parents: parents.map((name) => ({ parentRef: { name }, controllerName: CONTROLLER, conditions: [condition('Accepted', 'True', 'Accepted', time)] })) },
  };
}

function policyStatus(time: string, gateways = ['gw']): ObjectStatus {
  return {
    kind: 'BackendTLSPolicy',
    apiVersion: 'gateway.networking.k8s.io/v1',
    namespace: 'ns',
    name: 'p',
    generation: 1,
    status: {
      ancestors: gateways.map((name) => ({
        ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'ns', name },
        controllerName: CONTROLLER,
        conditions: [condition('Accepted', 'True', 'Accepted', time)],
      })),
    },
  };
}

/** A fake API server: objects by kind/ns/name; writes bump the resourceVersion and are recorded. */
function fakeApi() {
  const objects = new Map<string, ApiObject>();
  const writes: Array<{ how: 'apply' | 'update'; kind: string; name: string; status: unknown }> = [];
  let version = 100;
  const key = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;
  const put = (kind: string, ref: ObjectRef, status: unknown) => {
    const object: ApiObject = { kind, metadata: { ...ref, resourceVersion: String(++version) }, status };
    objects.set(key(kind, ref.namespace, ref.name), object);
    return object;
  };
  const writer = {
    stats: { applies: 0, updates: 0, conflicts: 0, gone: 0 },
    async apply(resource: ResourceType, ref: ObjectRef, status: unknown) {
      writes.push({ how: 'apply', kind: resource.kind, name: ref.name, status });
      return put(resource.kind, ref, status);
    },
    async update(resource: ResourceType, ref: ObjectRef, current: ApiObject | undefined, compute: (s: unknown) => unknown) {
      const live = current ?? objects.get(key(resource.kind, ref.namespace, ref.name));
      const next = compute(live?.status);
      if (next === undefined) return { written: false, object: live };
      writes.push({ how: 'update', kind: resource.kind, name: ref.name, status: next });
      return { written: true, object: put(resource.kind, ref, next) };
    },
  };
  return {
    objects,
    writes,
    put,
    writer: writer as unknown as StatusWriter,
    live: {
      resourceOf: (kind: string) => (kind === 'Gateway' ? GW : kind === 'HTTPRoute' ? ROUTE : kind === 'BackendTLSPolicy' ? POLICY : kind === 'ListenerSet' ? LISTENER_SET : undefined),
      get: (kind: string, namespace: string | undefined, name: string) => objects.get(key(kind, namespace, name)),
    },
  };
}

async function drained(sink: KubernetesStatusSink): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 30));
  await sink.whenIdle();
}

describe('kubernetes/status-sink', () => {
  const log = pino({ level: 'silent' });

  function setup() {
    const api = fakeApi();
    api.put('Gateway', { namespace: 'ns', name: 'gw' }, { conditions: [condition('example.com/Theirs', 'True', 'X', 'T0')] });
    api.put('HTTPRoute', { namespace: 'ns', name: 'r' }, { parents: [{ parentRef: { name: 'other' }, controllerName: 'example.com/other', conditions: [] }] });
    const sink = new KubernetesStatusSink({ live: api.live, writer: api.writer, controllerName: CONTROLLER, log, settleMs: 1 });
    return { api, sink };
  }

  it('writes nothing while it does not lead, and everything it holds once it does', async () => {
    const { api, sink } = setup();
    sink.update([gatewayStatus('T1'), routeStatus('T1')]);
    await drained(sink);
    expect(api.writes).to.deep.equal([]);
    sink.setLeader(true);
    await drained(sink);
    expect(api.writes.map((w) => `${w.how} ${w.kind}`).sort()).to.deep.equal(['apply Gateway', 'update HTTPRoute']);
  });

  it('applies only our condition types to a Gateway, and keeps other controllers route entries', async () => {
    const { api, sink } = setup();
    sink.setLeader(true);
    sink.update([gatewayStatus('T1'), routeStatus('T1')]);
    await drained(sink);
    const applied = api.writes.find((w) => w.kind === 'Gateway')!.status as { conditions: Array<{ type: string }> };
    expect(applied.conditions.map((c) => c.type)).to.deep.equal(['Accepted', 'Programmed']);
    const route = api.writes.find((w) => w.kind === 'HTTPRoute')!.status as { parents: Array<{ controllerName: string }> };
    expect(route.parents.map((p) => p.controllerName)).to.deep.equal(['example.com/other', CONTROLLER]);
  });

  it('does not write a status that did not change, whatever the time the translator stamped on it', async () => {
    const { api, sink } = setup();
    sink.setLeader(true);
    sink.update([gatewayStatus('T1'), routeStatus('T1')]);
    await drained(sink);
    const count = api.writes.length;
    for (const time of ['T2', 'T3', 'T4']) {
      sink.update([gatewayStatus(time), routeStatus(time)]);
      // Leadership regained re-checks everything against the live objects: still nothing to write.
      sink.setLeader(true);
      await drained(sink);
    }
    expect(api.writes.length).to.equal(count);
    expect(sink.stats.unchanged).to.be.greaterThan(0);
  });

  it('writes a real change, keeping lastTransitionTime of conditions that did not change', async () => {
    const { api, sink } = setup();
    sink.setLeader(true);
    sink.update([gatewayStatus('T1', 'False')]);
    await drained(sink);
    sink.update([gatewayStatus('T2', 'True')]);
    await drained(sink);
    const last = api.writes.at(-1)!.status as { conditions: Array<{ type: string; status: string; lastTransitionTime: string }> };
    expect(last.conditions.map((c) => [c.type, c.status, c.lastTransitionTime])).to.deep.equal([
      ['Accepted', 'True', 'T1'],
      ['Programmed', 'True', 'T2'],
    ]);
  });

  it('removes its entries from a route it no longer reports, leaving the others', async () => {
    const { api, sink } = setup();
    sink.setLeader(true);
    sink.update([routeStatus('T1')]);
    await drained(sink);
    sink.update([]);
    await drained(sink);
    const status = api.objects.get('HTTPRoute/ns/r')!.status as { parents: Array<{ controllerName: string }> };
    expect(status.parents.map((p) => p.controllerName)).to.deep.equal(['example.com/other']);
    const writes = api.writes.length;
    sink.update([]);
    sink.setLeader(true);
    await drained(sink);
    expect(api.writes.length, 'nothing left to remove').to.equal(writes);
  });

  it('merges policy ancestors like route parents: keeps other controllers’ entries, removes ours when released', async () => {
    const { api, sink } = setup();
    const theirs = { ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'ns', name: 'gw' }, controllerName: 'example.com/other', conditions: [] };
    api.put('BackendTLSPolicy', { namespace: 'ns', name: 'p' }, { ancestors: [theirs] });
    sink.setLeader(true);
    sink.update([policyStatus('T1', ['gw', 'gw2'])]);
    await drained(sink);
    const written = api.objects.get('BackendTLSPolicy/ns/p')!.status as { ancestors: Array<{ controllerName: string; ancestorRef: { name: string } }> };
    expect(written.ancestors.map((a) => `${a.controllerName} ${a.ancestorRef.name}`)).to.deep.equal(['example.com/other gw', `${CONTROLLER} gw`, `${CONTROLLER} gw2`]);
    sink.update([]);
    await drained(sink);
    const released = api.objects.get('BackendTLSPolicy/ns/p')!.status as { ancestors: Array<{ controllerName: string }> };
    expect(released.ancestors).to.deep.equal([theirs]);
  });

  it('applies a ListenerSet status as it does a Gateway’s: our condition types only, at top and per listener', async () => {
    const { api, sink } = setup();
    api.put('ListenerSet', { namespace: 'ns', name: 'ls' }, { conditions: [condition('example.com/Theirs', 'True', 'X', 'T0')] });
    sink.setLeader(true);
    const listener = { name: 'l', supportedKinds: [], attachedRoutes: 0, conditions: [condition('Accepted', 'True', 'Accepted', 'T1')] };
    sink.update([{ kind: 'ListenerSet', apiVersion: 'gateway.networking.k8s.io/v1', namespace: 'ns', name: 'ls', generation: 1, status: { conditions: [condition('Accepted', 'True', 'Accepted', 'T1')], listeners: [listener] } }]);
    await drained(sink);
    const applied = api.writes.find((w) => w.kind === 'ListenerSet')!;
    expect(applied.how).to.equal('apply');
    const status = applied.status as { conditions: Array<{ type: string }>; listeners: Array<{ conditions: Array<{ type: string }> }> };
    expect(status.conditions.map((c) => c.type)).to.deep.equal(['Accepted']);
    expect(status.listeners[0].conditions.map((c) => c.type)).to.deep.equal(['Accepted']);
  });

  it('looks again when the live object changed under it (someone removed our entry)', async () => {
    const { api, sink } = setup();
    sink.setLeader(true);
    sink.update([routeStatus('T1')]);
    await drained(sink);
    api.put('HTTPRoute', { namespace: 'ns', name: 'r' }, { parents: [] });
    sink.liveChanged('HTTPRoute', 'ns/r');
    await drained(sink);
    const status = api.objects.get('HTTPRoute/ns/r')!.status as { parents: Array<{ controllerName: string }> };
    expect(status.parents.map((p) => p.controllerName)).to.deep.equal([CONTROLLER]);
  });
});
