import { expect } from 'chai';
import { ObjectCache } from './cache.ts';
import type { ApiObject } from './resource.ts';

const slice = (name: string, service: string, resourceVersion = '1'): ApiObject => ({
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'ns', resourceVersion, labels: { 'kubernetes.io/service-name': service } },
});
const byService = (o: ApiObject) => {
  const service = o.metadata?.labels?.['kubernetes.io/service-name'];
  return service === undefined ? [] : [`${o.metadata?.namespace}/${service}`];
};

describe('framework/cache', () => {
  it('keys namespaced objects ns/name and cluster-scoped ones by name', () => {
    const cache = new ObjectCache();
    cache.upsert(slice('a', 's'));
    cache.upsert({ kind: 'Namespace', metadata: { name: 'ns' } });
    expect(cache.keys().sort()).to.deep.equal(['ns', 'ns/a']);
  });

  it('keeps an index up to date through upserts, moves and deletes', () => {
    const cache = new ObjectCache();
    cache.addIndex('service', byService);
    cache.upsert(slice('a', 'web'));
    cache.upsert(slice('b', 'web'));
    cache.upsert(slice('c', 'api'));
    expect(
      cache
        .byIndex('service', 'ns/web')
        .map((o) => o.metadata?.name)
        .sort(),
    ).to.deep.equal(['a', 'b']);
    cache.upsert(slice('b', 'api', '2'));
    expect(cache.byIndex('service', 'ns/web').map((o) => o.metadata?.name)).to.deep.equal(['a']);
    expect(
      cache
        .byIndex('service', 'ns/api')
        .map((o) => o.metadata?.name)
        .sort(),
    ).to.deep.equal(['b', 'c']);
    cache.delete('ns/a');
    expect(cache.byIndex('service', 'ns/web')).to.deep.equal([]);
    expect(cache.indexValues('service')).to.deep.equal(['ns/api']);
  });

  it('indexes what it already holds when an index is added late', () => {
    const cache = new ObjectCache();
    cache.upsert(slice('a', 'web'));
    cache.addIndex('service', byService);
    expect(cache.byIndex('service', 'ns/web')).to.have.length(1);
    expect(() => cache.addIndex('service', byService)).to.throw(/exists/);
    expect(() => cache.byIndex('nope', 'x')).to.throw(/no index/);
  });

  it('replace reports added, updated (resourceVersion moved) and deleted objects', () => {
    const cache = new ObjectCache();
    cache.addIndex('service', byService);
    cache.replace([slice('keep', 'web', '1'), slice('change', 'web', '1'), slice('gone', 'web', '1')]);
    const diff = cache.replace([slice('keep', 'web', '1'), slice('change', 'web', '2'), slice('new', 'web', '1')]);
    expect(diff.added.map((o) => o.metadata?.name)).to.deep.equal(['new']);
    expect(
      diff.updated.map((u) => [u.previous.metadata?.resourceVersion, u.current.metadata?.resourceVersion]),
    ).to.deep.equal([['1', '2']]);
    expect(diff.deleted.map((o) => o.metadata?.name)).to.deep.equal(['gone']);
    expect(
      cache
        .byIndex('service', 'ns/web')
        .map((o) => o.metadata?.name)
        .sort(),
    ).to.deep.equal(['change', 'keep', 'new']);
  });
});
