import { expect } from 'chai';
import type { StatsMessage } from '../../shared/protocol/messages.ts';
import type { StoredStatus } from '../status/status-board.ts';
import { ResourceStore } from '../store/resource-store.ts';
import { ConsoleHub } from './hub.ts';
import type { ConsoleEvent } from './hub.ts';

const stats = (traffic?: StatsMessage['traffic']): StatsMessage => ({
  type: 'stats',
  generation: 1,
  shardsReady: 1,
  shards: 1,
  listenersBound: 1,
  bindErrors: [],
  ...(traffic ? { traffic } : {}),
});

describe('console hub', () => {
  let hub: ConsoleHub | null = null;
  afterEach(() => hub?.stop());

  it('sends the state first, then a map within the rebuild delay of a store change, and ends streams on stop', async () => {
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
    const map = events.filter((e) => e.type === 'map').at(-1);
    expect(map?.type === 'map' && map.data.classes.map((c) => [c.name, c.state])).to.deep.equal([
      ['portico', 'pending'],
    ]);
    // A status arrives (no store change): the periodic look notices it, and the history keeps both states.
    statuses = [
      {
        kind: 'GatewayClass',
        name: 'portico',
        generation: 1,
        status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '' }] },
      } as unknown as StoredStatus,
    ];
    await new Promise((r) => setTimeout(r, 700));
    const last = events.filter((e) => e.type === 'map').at(-1);
    expect(last?.type === 'map' && last.data.history['GatewayClass//portico'].map((h) => h.state)).to.deep.equal([
      'pending',
      'ok',
    ]);
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
    expect(generations?.type === 'generations' && generations.data[0]).to.deep.include({
      generation: 7,
      outcome: 'refused',
      problems: [{ where: 'routes[0]', message: 'InvalidValue: bad' }],
    });
    const traffic = events.filter((e) => e.type === 'traffic');
    expect(traffic).to.have.length(1);
    expect(traffic[0].type === 'traffic' && traffic[0].data.routes['a/b'].rps).to.equal(3);
  });
});
