// Property test: take the golden fixtures, break them at random (delete fields, replace values with ones of the
// wrong type, hostile strings, duplicated list entries) and check what must hold for any input: translate does not
// throw, never falls back to its catch-all guard (that would be an unforeseen shape), produces an IR the data plane's
// validator accepts without dropping anything, and writes conditions with a generation and a time.
// Deterministic: a seeded generator; PROPERTY_RUNS and PROPERTY_SEED change the run.

import { expect } from 'chai';
import { indexSnapshot } from '../../shared/ir/delta.ts';
import { IR_VERSION } from '../../shared/ir/snapshot.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import { buildResourceSnapshot } from '../../operator/gateway/resources.ts';
import { translate } from '../../operator/gateway/translate.ts';
import { FIXED_NOW, deepFreeze, loadCases } from './golden.ts';
import { mutate, random } from './mutations.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1500);
const SEED = Number(process.env.PROPERTY_SEED ?? 20260101);

describe('translator property: any mutation of valid fixtures', () => {
  const cases = loadCases('');

  it(`survives ${RUNS} random mutations (seed ${SEED})`, function () {
    this.timeout(120_000);
    const next = random(SEED);
    for (let run = 0; run < RUNS; run++) {
      const base = cases[Math.floor(next() * cases.length)];
      const objects = structuredClone(base.objects);
      const steps: string[] = [];
      const count = 1 + Math.floor(next() * 4);
      for (let i = 0; i < count; i++) steps.push(mutate(objects, next));
      const context = `run ${run} on ${base.area}/${base.name}: ${steps.join('; ')}`;
      let result: ReturnType<typeof translate>;
      try {
        result = translate(deepFreeze(buildResourceSnapshot(deepFreeze(objects))), { now: FIXED_NOW, ...base.options });
      } catch (error) {
        expect.fail(`translate threw (${(error as Error).message}) — ${context}`);
      }
      expect(validateIndex(indexSnapshot(result.ir), IR_VERSION), context).to.deep.equal([]);
      expect(result.dropped, context).to.deep.equal([]);
      for (const status of result.statuses) {
        const conditions = JSON.stringify(status.status);
        expect(conditions, context).to.not.include('could not be translated');
        for (const match of conditions.matchAll(/"observedGeneration":([^,}]+)/g))
          expect(Number.isSafeInteger(Number(match[1])), context).to.equal(true);
        expect(
          conditions.includes('"lastTransitionTime":"2026-01-01T00:00:00Z"') ||
            !conditions.includes('lastTransitionTime'),
          context,
        ).to.equal(true);
      }
    }
  });
});
