// The short configuration fuzz run of `npm test` (the long one is `npm run fuzz`, test/fuzz/run.ts): a few hundred
// generated resource sets of every shape through `translate`, the incremental session and the data plane's
// admission (check.ts). FUZZ_SEED and FUZZ_RUNS change the run; a failure names the seed and index to replay with
// `npm run fuzz -- --seed <seed> --from <index> --runs 1`.

import { expect } from 'chai';
import { loadCases } from '../translate/golden.ts';
import { checkSet, expectedStatusKeys } from './check.ts';
import { manyListeners, resourceSet, setSeed } from './generate.ts';
import { checkIrSet, irSet } from './ir.ts';
import type { Shape } from './generate.ts';
import { buildResourceSnapshot } from '../../operator/gateway/resources.ts';
import { translate } from '../../operator/gateway/translate.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describe('configuration fuzzing (short run)', () => {
  const cases = loadCases('');

  it(`${RUNS} generated resource sets: no exception, a status for every object of ours, every change admitted (seed ${SEED})`, function () {
    this.timeout(300_000);
    const shapes = new Map<Shape, number>();
    let owed = 0;
    for (let i = 0; i < RUNS; i++) {
      const set = resourceSet(cases, setSeed(SEED, i), 200);
      shapes.set(set.shape, (shapes.get(set.shape) ?? 0) + 1);
      owed += expectedStatusKeys(buildResourceSnapshot(set.objects)).size;
      const problems = checkSet(set.objects, setSeed(SEED, i), { sessionEdits: 2 });
      expect(
        problems,
        `set ${i} (npm run fuzz -- --seed ${SEED} --from ${i} --runs 1) ${set.shape}: ${set.description}`,
      ).to.deep.equal([]);
    }
    // Every shape was tried, and the sets held objects the translator owes a status.
    for (const shape of ['mutation', 'harsh', 'duplicates', 'random', 'cycles'] as const)
      expect(shapes.get(shape) ?? 0, shape).to.be.greaterThan(0);
    expect(owed).to.be.greaterThan(RUNS);
  });

  it(`${RUNS} broken IR deltas: admission throws nothing, agrees with the full check, admits only what compiles (seed ${SEED})`, () => {
    let admitted = 0;
    for (let i = 0; i < RUNS; i++) {
      const set = irSet(cases, setSeed(SEED, i) ^ 0x1a2b);
      if (set === null) continue;
      expect(
        checkIrSet(set),
        `IR set ${i} (npm run fuzz -- --seed ${SEED} --from ${i} --runs 1): ${set.description}`,
      ).to.deep.equal([]);
      if (checkIrSet({ ...set, delta: { ...set.delta, upsert: set.base } }).length === 0) admitted++;
    }
    expect(admitted).to.be.greaterThan(0);
  });

  it('a Gateway with 2,000 listeners: every listener programmed, the route attached to all', function () {
    this.timeout(120_000);
    const objects = manyListeners(2000);
    expect(checkSet(objects, 1, { sessionEdits: 0 })).to.deep.equal([]);
    const result = translate(buildResourceSnapshot(objects), { now: '2026-01-01T00:00:00Z' });
    expect(result.ir.listeners).to.have.length(2000);
    const gateway = result.statuses.find((s) => s.kind === 'Gateway')?.status as any;
    expect(gateway.listeners).to.have.length(2000);
    expect(gateway.listeners.filter((l: any) => l.attachedRoutes !== 1)).to.deep.equal([]);
  });
});
