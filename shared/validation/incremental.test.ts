import { expect } from 'chai';
import { applyDelta, deltaKeys, emptyIndex, indexSnapshot, overlayDelta } from '../ir/delta.ts';
import type { RecordIndex } from '../ir/delta.ts';
import { IR_VERSION } from '../ir/snapshot.ts';
import { backend, httpListener, httpRoute, prefix, rule, snapshot } from '../testing/ir-builders.ts';
import { RandomIr } from '../testing/random-ir.ts';
import { IndexChecker } from './incremental.ts';
import { validateIndex } from './snapshot.ts';

describe('IndexChecker: validateIndex at the cost of the change', () => {
  it('reports exactly what the full check reports, over random deltas (accepted ones applied, refused ones not)', () => {
    const random = new RandomIr(7);
    const checker = new IndexChecker();
    let index: RecordIndex = emptyIndex();
    let generation = 0;
    let accepted = 0;
    let refused = 0;
    for (let step = 0; step < 3000; step++) {
      const full = step === 0 || random.chance(0.02);
      const delta = random.delta(generation + 1, generation, full);
      const base = full ? emptyIndex() : index;
      const expected = validateIndex(applyDelta(base, delta), IR_VERSION);
      const problems = checker.check(overlayDelta(base, delta), IR_VERSION, full ? null : deltaKeys(delta));
      expect(problems, `step ${step}`).to.deep.equal(expected);
      if (problems.length === 0) {
        index = applyDelta(base, delta);
        generation++;
        accepted++;
      } else {
        checker.reset();
        refused++;
      }
    }
    // Both paths were exercised.
    expect(accepted).to.be.greaterThan(300);
    expect(refused).to.be.greaterThan(300);
  });

  it('checks a change of one record in a big index without looking at the others', () => {
    const checker = new IndexChecker();
    const listener = httpListener('ns/gw/http', 8080);
    const be = backend('ns/svc:80', [['10.0.0.1', 80]]);
    const routes = Array.from({ length: 50 }, (_, i) =>
      httpRoute(`httproute/ns/r${i}`, [listener.key], [rule([prefix(`/p${i}`)], [be.key])]),
    );
    const index = indexSnapshot(snapshot(1, { listeners: [listener], backends: [be], httpRoutes: routes }));
    expect(checker.check(index, IR_VERSION, null)).to.deep.equal([]);
    // A record the checker never saw, changed in a view whose other records would throw if read.
    const route = { ...[...index.httpRoutes.values()][0], key: 'httproute/ns/new' };
    const view = {
      ...index,
      httpRoutes: new Map([[route.key, route]]),
      streamRoutes: new Proxy(new Map(), {
        get: () => {
          throw new Error('read');
        },
      }),
    } as unknown as RecordIndex;
    expect(checker.check(view, IR_VERSION, { httpRoutes: [route.key] })).to.deep.equal([]);
  });
});
