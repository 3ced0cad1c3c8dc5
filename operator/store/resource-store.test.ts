import { expect } from 'chai';
import { ResourceStore } from './resource-store.ts';

const route = (name: string, path = '/') => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'default' },
  spec: { rules: [{ matches: [{ path: { value: path } }] }] },
});

describe('ResourceStore change feeds', () => {
  it('hands out everything first, then only the keys that changed, with their current objects', () => {
    const store = new ResourceStore();
    const keys = store.replace([], [route('a'), route('b')]);
    const feed = store.feed();
    expect(
      feed
        .take()
        .upserted.map(([key]) => key)
        .sort(),
    ).to.deep.equal(['HTTPRoute/default/a', 'HTTPRoute/default/b']);
    expect(feed.take()).to.deep.equal({ upserted: [], removed: [] });

    const b2 = route('b', '/b');
    store.replace(keys, [route('a'), b2, route('c')]);
    const changes = feed.take();
    expect(changes.upserted.map(([key]) => key).sort()).to.deep.equal(['HTTPRoute/default/b', 'HTTPRoute/default/c']);
    expect(changes.upserted.find(([key]) => key === 'HTTPRoute/default/b')![1]).to.equal(b2);
    store.delete('HTTPRoute/default/a');
    expect(feed.take()).to.deep.equal({ upserted: [], removed: ['HTTPRoute/default/a'] });
  });

  it('keeps the object it has when an equal one replaces it (a file read again), and counts a revision anyway', () => {
    const store = new ResourceStore();
    const first = route('a');
    const keys = store.replace([], [first]);
    const feed = store.feed();
    feed.take();
    const revision = store.revision;
    store.replace(keys, [route('a')]);
    expect(store.get('HTTPRoute/default/a')).to.equal(first);
    expect(store.revision).to.equal(revision + 1);
    expect(feed.take()).to.deep.equal({ upserted: [], removed: [] });
  });

  it('all() starts a feed over with every object', () => {
    const store = new ResourceStore();
    store.replace([], [route('a')]);
    const feed = store.feed();
    store.upsert(route('b'));
    expect(
      feed
        .all()
        .map(([key]) => key)
        .sort(),
    ).to.deep.equal(['HTTPRoute/default/a', 'HTTPRoute/default/b']);
    expect(feed.take()).to.deep.equal({ upserted: [], removed: [] });
    feed.close();
    store.upsert(route('c'));
    expect(feed.take()).to.deep.equal({ upserted: [], removed: [] });
  });
});
