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
