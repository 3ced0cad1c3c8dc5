import { expect } from 'chai';
import type { StatsMessage } from '../../shared/protocol/messages.ts';
import type { StoredStatus } from '../status/status-board.ts';
import { ResourceStore } from '../store/resource-store.ts';
import { ConsoleHub } from './hub.ts';
import type { ConsoleEvent, Generation, MapEvent } from './hub.ts';
import type { TrafficTick } from './traffic.ts';

const stats = (traffic?: StatsMessage['traffic']): StatsMessage => ({
  type: 'stats',
  generation: 1,
  shardsReady: 1,
  shards: 1,
  listenersBound: 1,
  bindErrors: [],
  ...(traffic ? { traffic } : {}),
});

const maps = (events: ConsoleEvent[]) =>
  events.filter((e) => e.type === 'map').map((e) => JSON.parse(e.json) as MapEvent);

describe('console hub', () => {
  let hub: ConsoleHub | null = null;
  afterEach(() => hub?.stop());

  it('sends the state first, then a map within the rebuild delay of a change, and ends streams on stop', async () => {
    const store = new ResourceStore();
    let statuses: StoredStatus[] = [];
    hub = new ConsoleHub({ mode: 'file', store, statuses: () => statuses, fileErrors: () => [] });
    const events: ConsoleEvent[] = [];
    let ended = false;
    hub.subscribe(
      (e) => events.push(e),
      () => (ended = true),
    );
    expect(events.map((e) => e.type)).to.deep.equal(['map', 'generations', 'trafficHistory']);
    store.upsert({ kind: 'GatewayClass', metadata: { name: 'portico' }, spec: {} });
    await new Promise((r) => setTimeout(r, 150));
    const map = maps(events).at(-1);
    expect(map?.classes.map((c) => [c.name, c.state])).to.deep.equal([['portico', 'pending']]);
    // The map leaves spec and status out; the details of one object have them.
    expect(map?.classes[0]).not.to.have.property('spec');
    expect(hub.details('GatewayClass//portico')).to.deep.include({ spec: {}, status: null });

    // A status arrives with a pass (its publish answer is the signal), and the history keeps both states.
    statuses = [
      {
        kind: 'GatewayClass',
        name: 'portico',
        generation: 1,
        status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '' }] },
      } as unknown as StoredStatus,
    ];
    hub.observer.published({
      outcome: 'ack',
      sendMs: 1,
      ack: { type: 'ack', generation: 1, timings: { validateMs: 0, applyMs: 0 }, listenerErrors: [] },
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(maps(events).at(-1)?.classes[0].state).to.equal('ok');
    expect(hub.details('GatewayClass//portico')?.history.map((h) => h.state)).to.deep.equal(['pending', 'ok']);
    hub.stop();
    hub = null;
    expect(ended).to.equal(true);
  });

  it('with nobody watching, keeps rebuilding a cheap map (the history records), but not one over its budget', async () => {
    const cheapStore = new ResourceStore();
    hub = new ConsoleHub({ mode: 'file', store: cheapStore, statuses: () => [], fileErrors: () => [] });
    cheapStore.upsert({ kind: 'GatewayClass', metadata: { name: 'cheap' }, spec: {} });
    // The unwatched delay is 2 s; the build of two objects is far under the 100 ms budget.
    await new Promise((r) => setTimeout(r, 2300));
    expect(hub.details('GatewayClass//cheap')?.history.map((h) => h.state)).to.deep.equal(['pending']);
    hub.stop();

    // A budget of 0 ms: every build is over it, as a 100k-route build (~2 s) is over the default.
    const store = new ResourceStore();
    let builds = 0;
    hub = new ConsoleHub({
      mode: 'file',
      store,
      statuses: () => {
        builds++;
        return [];
      },
      fileErrors: () => [],
      unwatchedBudgetMs: 0,
    });
    expect(builds).to.equal(1);
    store.upsert({ kind: 'GatewayClass', metadata: { name: 'portico' }, spec: {} });
    store.upsert({ kind: 'GatewayClass', metadata: { name: 'other' }, spec: {} });
    await new Promise((r) => setTimeout(r, 2300));
    expect(builds, 'no build for changes nobody watches').to.equal(1);
    // Opening an object builds the map first: nothing shown is stale.
    expect(hub.details('GatewayClass//portico')).to.deep.include({ name: 'portico', spec: {} });
    expect(builds).to.equal(2);
    store.upsert({ kind: 'GatewayClass', metadata: { name: 'third' }, spec: {} });
    const events: ConsoleEvent[] = [];
    hub.subscribe((e) => events.push(e));
    expect(builds, 'a subscriber gets a fresh map').to.equal(3);
    expect(
      maps(events)[0]
        .classes.map((c) => c.name)
        .sort(),
    ).to.deep.equal(['other', 'portico', 'third']);
    // Watched, changes are built again after the short delay.
    store.upsert({ kind: 'GatewayClass', metadata: { name: 'fourth' }, spec: {} });
    await new Promise((r) => setTimeout(r, 150));
    expect(maps(events).at(-1)?.classes).to.have.length(4);
  });

  it('records generations from publish answers, and traffic only from stats that carry it', () => {
    const store = new ResourceStore();
    hub = new ConsoleHub({ mode: 'file', store, statuses: () => [], fileErrors: () => [] });
    const events: ConsoleEvent[] = [];
    hub.subscribe((e) => events.push(e));
    events.length = 0;
    hub.observer.published({
      outcome: 'nack',
      sendMs: 1,
      nack: {
        type: 'nack',
        generation: 7,
        reason: 'Invalid',
        current: 6,
        problems: [{ code: 'InvalidValue', path: 'routes[0]', message: 'bad' }],
      },
    });
    // A data plane from before traffic in stats: nothing to show, nothing breaks.
    hub.observer.stats(stats());
    hub.observer.stats(
      stats({
        intervalMs: 1000,
        bucketsSeconds: [0.1],
        routes: [{ route: 'a/b', requests: 3, errors: 0, latency: [3, 0] }],
        backends: [],
      }),
    );
    const generations = events.find((e) => e.type === 'generations');
    expect((JSON.parse(generations?.json ?? '[]') as Generation[])[0]).to.deep.include({
      generation: 7,
      outcome: 'refused',
      problems: [{ where: 'routes[0]', message: 'InvalidValue: bad' }],
    });
    const traffic = events.filter((e) => e.type === 'traffic');
    expect(traffic).to.have.length(1);
    expect((JSON.parse(traffic[0].json) as TrafficTick).routes['a/b'].rps).to.equal(3);
  });
});
