import { expect } from 'chai';
import type { GatewayNamespaceObjects } from '../gateway/gateways/gateway-infrastructure.ts';
import { infrastructureMatches, infrastructureServiceBody, infrastructureSliceBody } from './gateway-infrastructure.ts';

const objects = (uid: string | undefined, addresses: string[]): GatewayNamespaceObjects => ({
  gateway: 'team/web',
  namespace: 'team',
  name: 'web-portico',
  desired: {
    owner: uid === undefined ? { name: 'web' } : { name: 'web', uid },
    labels: { 'app.kubernetes.io/managed-by': 'portico', key2: 'value2' },
    annotations: { key1: 'value1' },
    ports: [{ name: 'tcp-80', protocol: 'TCP', port: 80, targetPort: 10000 }],
    addressType: 'IPv4',
    addresses,
  },
});

describe('kubernetes/gateway-infrastructure: apply bodies', () => {
  it('builds a selector-less Service and its EndpointSlice, both owned by the Gateway', () => {
    const service = infrastructureServiceBody(objects('u-1', ['10.0.0.1']))!;
    expect(service.spec).to.deep.equal({
      type: 'ClusterIP',
      ports: [{ name: 'tcp-80', protocol: 'TCP', port: 80, targetPort: 10000 }],
    });
    const slice = infrastructureSliceBody(objects('u-1', ['10.0.0.1']))!;
    expect(slice.metadata.labels).to.include({ 'kubernetes.io/service-name': 'web-portico', key2: 'value2' });
    expect(slice.endpoints).to.deep.equal([{ addresses: ['10.0.0.1'], conditions: { ready: true } }]);
    expect(slice.ports).to.deep.equal([{ name: 'tcp-80', protocol: 'TCP', port: 10000 }]);
    for (const body of [service, slice])
      expect(body.metadata.ownerReferences).to.deep.equal([
        { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'web', uid: 'u-1', controller: true },
      ]);
  });

  it('writes nothing for a Gateway without a uid (an owner reference needs one)', () => {
    expect(infrastructureServiceBody(objects(undefined, []))).to.equal(undefined);
    expect(infrastructureSliceBody(objects(undefined, []))).to.equal(undefined);
  });

  it('matches a live object applied from the same body, and not one that changed since', () => {
    const slice = infrastructureSliceBody(objects('u-1', ['10.0.0.1']))!;
    const live = structuredClone(slice);
    expect(infrastructureMatches(live, slice)).to.equal(true);
    expect(infrastructureMatches(infrastructureSliceBody(objects('u-1', ['10.0.0.2']))!, slice)).to.equal(false);
    const edited = structuredClone(slice) as typeof slice & { endpoints: unknown[] };
    edited.endpoints = [];
    expect(infrastructureMatches(edited, slice), 'endpoints edited by someone else').to.equal(false);
    const relabelled = structuredClone(slice);
    relabelled.metadata.labels = { ...relabelled.metadata.labels, key2: 'other' };
    expect(infrastructureMatches(relabelled, slice), 'a label changed').to.equal(false);
    const reowned = structuredClone(slice);
    reowned.metadata.ownerReferences = [];
    expect(infrastructureMatches(reowned, slice), 'the owner reference removed').to.equal(false);
  });
});
