import { expect } from 'chai';
import {
  applyDelta,
  applyDeltaInPlace,
  diffRecords,
  emptyIndex,
  emptySent,
  isEmptyDelta,
  overlayDelta,
  snapshotFromIndex,
  undoDelta,
} from './delta.ts';
import { RandomIr } from '../testing/random-ir.ts';
import { backend, httpListener, httpRoute, prefix, rule, snapshot } from '../testing/ir-builders.ts';

describe('IR deltas', () => {
  const listener = httpListener('ns/gw/http', 8080);
  const be = backend('ns/svc:80', [['10.0.0.1', 80]]);
  const routeA = httpRoute('httproute/ns/a', [listener.key], [rule([prefix('/a')], [be.key])]);
  const routeB = httpRoute('httproute/ns/b', [listener.key], [rule([prefix('/b')], [be.key])]);

  it('sends everything first, then only what changed, and removals by key', () => {
    const sent = emptySent();
    const first = diffRecords(
      sent,
      snapshot(1, { listeners: [listener], httpRoutes: [routeA, routeB], backends: [be] }),
      1,
      0,
    );
    expect(first.upsert.httpRoutes).to.have.length(2);
    const moved = backend('ns/svc:80', [['10.0.0.2', 80]]);
    const second = diffRecords(
      sent,
      snapshot(2, { listeners: [listener], httpRoutes: [routeA], backends: [moved] }),
      2,
      1,
    );
    expect(second.upsert.backends).to.deep.equal([moved]);
    expect(second.upsert.httpRoutes).to.deep.equal([]);
    expect(second.remove.httpRoutes).to.deep.equal(['httproute/ns/b']);
    const third = diffRecords(
      sent,
      snapshot(3, { listeners: [listener], httpRoutes: [routeA], backends: [moved] }),
      3,
      2,
    );
    expect(isEmptyDelta(third)).to.equal(true);
  });

  it('applies a delta without touching the base index', () => {
    const sent = emptySent();
    const base = applyDelta(
      emptyIndex(),
      diffRecords(sent, snapshot(1, { listeners: [listener], httpRoutes: [routeA], backends: [be] }), 1, 0),
    );
    const next = applyDelta(
      base,
      diffRecords(sent, snapshot(2, { listeners: [listener], httpRoutes: [routeB], backends: [be] }), 2, 1),
    );
    expect([...base.httpRoutes.keys()]).to.deep.equal(['httproute/ns/a']);
    expect([...next.httpRoutes.keys()]).to.deep.equal(['httproute/ns/b']);
    expect(snapshotFromIndex(next, 2).listeners).to.deep.equal([listener]);
  });
});

describe('IR deltas at the cost of the change', () => {
  it('overlayDelta reads like applyDelta (values, order, size) and applyDeltaInPlace/undoDelta go there and back', () => {
    const random = new RandomIr(21);
    let index = applyDelta(emptyIndex(), random.delta(1, 0, true));
    for (let step = 0; step < 500; step++) {
      const delta = random.delta(step + 2, step + 1);
      const expected = applyDelta(index, delta);
      const view = overlayDelta(index, delta);
      for (const kind of ['listeners', 'httpRoutes', 'streamRoutes', 'backends', 'certificates'] as const) {
        expect([...view[kind].entries()], `${kind} at ${step}`).to.deep.equal([...expected[kind].entries()]);
        expect(view[kind].size).to.equal(expected[kind].size);
        for (const key of expected[kind].keys()) expect(view[kind].get(key)).to.equal(expected[kind].get(key));
      }
      const copy = applyDelta(index, {
        ...delta,
        upsert: { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] },
        remove: { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] },
      });
      const undo = applyDeltaInPlace(copy, delta);
      expect([...copy.httpRoutes.entries()]).to.deep.equal([...expected.httpRoutes.entries()]);
      undoDelta(copy, undo);
      for (const kind of ['listeners', 'httpRoutes', 'streamRoutes', 'backends', 'certificates'] as const) {
        expect(new Map(copy[kind] as Map<string, unknown>)).to.deep.equal(new Map(index[kind] as Map<string, unknown>));
      }
      index = expected;
    }
  });
});
