import { expect } from 'chai';
import { applyDelta, emptyIndex, snapshotFromIndex } from '../../shared/ir/delta.ts';
import type { RecordIndex } from '../../shared/ir/delta.ts';
import { IR_VERSION } from '../../shared/ir/snapshot.ts';
import { RandomIr } from '../../shared/testing/random-ir.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import { ConfigState } from './config-state.ts';

const sorted = (index: { [kind: string]: ReadonlyMap<string, unknown> }) =>
  Object.fromEntries(Object.entries(index).map(([kind, map]) => [kind, [...map.keys()].sort().map((k) => map.get(k))]));

describe('ConfigState', () => {
  it('admits what validates and refuses the rest, applies in place, and rolls back to the generation before', () => {
    const random = new RandomIr(3);
    const state = new ConfigState();
    let model: RecordIndex = emptyIndex();
    for (let step = 0; step < 1500; step++) {
      const full = step === 0 || random.chance(0.02);
      const delta = random.delta(state.generation + 1, state.generation, full);
      const next = applyDelta(full ? emptyIndex() : model, delta);
      const admission = state.admit(delta);
      expect(admission.ok, `step ${step}`).to.equal(validateIndex(next, IR_VERSION).length === 0);
      if (!admission.ok) continue;
      const before = { generation: state.generation, records: sorted(state.index) };
      state.commit(admission);
      expect(sorted(state.index), `step ${step}`).to.deep.equal(sorted(next));
      if (random.chance(0.1)) {
        // A shard failed: back to the generation before, and later deltas build on it again.
        state.rollback();
        expect({ generation: state.generation, records: sorted(state.index) }).to.deep.equal(before);
        continue;
      }
      model = next;
    }
    expect(snapshotFromIndex(model, 1).httpRoutes.length).to.be.greaterThan(0);
  });

  it('refuses a delta on another base than the generation in force', () => {
    const state = new ConfigState();
    const random = new RandomIr(5, 0);
    const first = state.admit({
      ...random.delta(1, 0, true),
      upsert: { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] },
    });
    expect(first.ok).to.equal(true);
    if (first.ok) state.commit(first);
    const stale = state.admit({
      ...random.delta(3, 2),
      upsert: { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] },
    });
    expect(stale.ok ? 'ok' : stale.reason).to.equal('BaseMismatch');
  });
});
