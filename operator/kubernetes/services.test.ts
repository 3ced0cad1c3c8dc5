// The Service sink's decisions, against a fake API (Services in a map, which the fake cache also reads): only the
// leader writes; a Service is applied when it differs from what the translator wants and never again while it
// matches (defaults the API server adds do not count); the latest desired state is what gets applied; orphans of ours
// are deleted only after a complete list, others' Services never; a Gateway that cannot be served keeps its Service.

import { expect } from 'chai';
import pino from 'pino';
import type { KubeClient } from '../framework/kube-client.ts';
import type { ApiObject } from '../framework/resource.ts';
import type { GatewayService } from '../gateway/gateway-service.ts';
import { KubernetesServiceSink, serviceBody, serviceMatches } from './services.ts';

const NS = 'portico-system';
const SELECTOR = { 'app.kubernetes.io/name': 'portico' };

function gatewayService(name: string, targetPort = 10000, type: 'LoadBalancer' | 'ClusterIP' = 'LoadBalancer'): GatewayService {
  return {
    gateway: `default/${name}`,
    namespace: NS,
    name: `gw-${name}`,
    desired: {
      type,
      ports: [{ name: 'tcp-80', protocol: 'TCP', port: 80, targetPort }],
      labels: { 'app.kubernetes.io/managed-by': 'portico', team: 'a' },
      annotations: { 'portico.dev/gateway': `default/${name}` },
    },
  };
}

/** What the API server makes of an applied body: defaults and allocations added, a resourceVersion. */
function asServed(body: any, version: number): ApiObject {
  return {
    ...body,
    metadata: { ...body.metadata, uid: `uid-${body.metadata.name}`, resourceVersion: String(version) },
    spec: { ...body.spec, clusterIP: '10.96.0.9', sessionAffinity: 'None', ports: body.spec.ports.map((p: any) => ({ ...p, nodePort: 30000 + p.port })) },
  };
}

function fakeApi() {
  const services = new Map<string, ApiObject>();
  const calls: Array<{ method: string; name: string; body: any }> = [];
  let version = 1;
  const client = {
    async request(method: string, path: string, options: { body?: any } = {}) {
      const name = path.split('/').pop()!;
      calls.push({ method, name, body: options.body });
      if (method === 'DELETE') services.delete(name);
      else services.set(name, asServed(options.body, ++version));
      return services.get(name);
    },
  } as unknown as KubeClient;
  const live = {
    get: (_kind: string, _namespace: string | undefined, name: string) => services.get(name),
    list: () => [...services.values()],
  };
  return { services, calls, client, live };
}

function sink(api: ReturnType<typeof fakeApi>): KubernetesServiceSink {
  return new KubernetesServiceSink({ client: api.client, live: api.live, namespace: NS, selector: SELECTOR, fieldManager: 'portico-operator', log: pino({ level: 'silent' }) });
}

describe('KubernetesServiceSink', () => {
  it('a served Service matches the body it was applied from; a change to what we own does not', () => {
    const body = serviceBody(gatewayService('web'), SELECTOR)!;
    const served = asServed(body, 2);
    expect(serviceMatches(served, body)).to.equal(true);
    expect(serviceMatches({ ...served, spec: { ...(served.spec as object), selector: { app: 'other' } } }, body)).to.equal(false);
    expect(serviceMatches(served, serviceBody(gatewayService('web', 10001), SELECTOR)!)).to.equal(false);
    expect(serviceBody({ gateway: 'default/x', namespace: NS, name: 'gw-x' }, SELECTOR)).to.equal(undefined);
  });

  it('applies as leader only, the latest desired state, and nothing while the Service matches', async () => {
    const api = fakeApi();
    const services = sink(api);
    services.update([gatewayService('web')]);
    await services.whenIdle();
    expect(api.calls).to.deep.equal([]);

    services.setLeader(true);
    await services.whenIdle();
    expect(api.calls.map((c) => [c.method, c.name, c.body.spec.ports[0].targetPort])).to.deep.equal([['PATCH', 'gw-web', 10000]]);

    services.update([gatewayService('web')]);
    services.setLeader(true);
    await services.whenIdle();
    expect(api.calls).to.have.length(1);
    expect(services.stats.unchanged).to.be.greaterThan(0);

    services.update([gatewayService('web', 10000, 'ClusterIP')]);
    await services.whenIdle();
    expect(api.calls.map((c) => [c.method, c.body?.spec.type])).to.deep.equal([['PATCH', 'LoadBalancer'], ['PATCH', 'ClusterIP']]);
    await services.stop();
  });

  it('deletes orphans of ours after the first complete list, keeps Services of Gateways that cannot be served, never touches others', async () => {
    const api = fakeApi();
    const ours = (name: string) => asServed(serviceBody(gatewayService(name), SELECTOR), 1);
    api.services.set('gw-gone', ours('gone'));
    api.services.set('gw-kept', ours('kept'));
    api.services.set('gw-foreign', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gw-foreign', namespace: NS }, spec: {} });
    const services = sink(api);
    services.setLeader(true);
    await services.whenIdle();
    expect(api.calls, 'nothing is deleted before a complete list').to.deep.equal([]);

    const foreign = { ...gatewayService('foreign'), name: 'gw-foreign' };
    services.update([{ gateway: 'default/kept', namespace: NS, name: 'gw-kept' }, foreign]);
    await services.whenIdle();
    expect(api.calls.map((c) => [c.method, c.name])).to.deep.equal([['DELETE', 'gw-gone']]);
    expect(api.calls[0].body.preconditions).to.deep.equal({ uid: 'uid-gw-gone' });
    expect([...api.services.keys()].sort()).to.deep.equal(['gw-foreign', 'gw-kept']);
    await services.stop();
  });
});
