import { expect } from 'chai';
import {
  CLUSTER_SCOPED_KINDS,
  dependencyEntry,
  dependencyKey,
  namespacedKey,
  objectKey,
  parseNamespacedKey,
  parseObjectKey,
  parseServicePortKey,
  servicePortKey,
  statusKey,
  wholeLookupKey,
} from './keys.ts';

describe('operator/gateway/keys', () => {
  it('keys an object by the namespace the translator reads: a missing one is default, a class has none', () => {
    const route = { kind: 'HTTPRoute', metadata: { name: 'r' } };
    expect(objectKey(route)).to.equal('HTTPRoute/default/r');
    expect(objectKey({ ...route, metadata: { name: 'r', namespace: 'default' } })).to.equal(objectKey(route));
    expect(objectKey({ kind: 'GatewayClass', metadata: { name: 'c', namespace: 'x' } })).to.equal('GatewayClass//c');
    expect(objectKey({ kind: 'Namespace', metadata: { name: 'apps' } })).to.equal('Namespace//apps');
    // A name of the wrong type is no name: the translator ignores such objects, and so do lookups by key.
    expect(objectKey({ kind: 'Service', metadata: { name: 5 as unknown as string } })).to.equal('Service/default/');
  });

  it('takes apart what it builds', () => {
    expect(parseObjectKey(statusKey({ kind: 'Gateway', namespace: 'infra', name: 'gw' }))).to.deep.equal({
      kind: 'Gateway',
      namespace: 'infra',
      name: 'gw',
    });
    expect(parseObjectKey(statusKey({ kind: 'GatewayClass', name: 'c' }))).to.deep.equal({
      kind: 'GatewayClass',
      namespace: '',
      name: 'c',
    });
    expect(parseNamespacedKey(namespacedKey('apps', 'web'))).to.deep.equal({ namespace: 'apps', name: 'web' });
    expect(parseServicePortKey(servicePortKey('apps', 'web', 'https'))).to.deep.equal({
      service: 'apps/web',
      portName: 'https',
    });
    expect(parseServicePortKey(servicePortKey('apps', 'web', ''))).to.deep.equal({ service: 'apps/web', portName: '' });
  });

  it('names the entry of a dependency key, and nothing for a walk over a lookup or another lookup', () => {
    expect(dependencyEntry(dependencyKey('eps', 'apps/web'), 'eps')).to.equal('apps/web');
    expect(dependencyEntry(wholeLookupKey('eps'), 'eps')).to.equal(undefined);
    expect(dependencyEntry(dependencyKey('svc', 'apps/web'), 'eps')).to.equal(undefined);
    expect(dependencyEntry(dependencyKey('btp', 'apps'), 'btp')).to.equal('apps');
  });

  it('knows every cluster-scoped kind', () => {
    expect([...CLUSTER_SCOPED_KINDS].sort()).to.deep.equal(['ClusterTrustBundle', 'GatewayClass', 'Namespace']);
  });
});
