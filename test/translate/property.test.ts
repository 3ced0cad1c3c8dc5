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

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1500);
const SEED = Number(process.env.PROPERTY_SEED ?? 20260101);

/** mulberry32: small, fast, good enough to spread mutations. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE: unknown[] = [
  null,
  0,
  -1,
  65536,
  1.5,
  Number.MAX_SAFE_INTEGER,
  '',
  ' ',
  'a\r\nb',
  '../..',
  '(a{1000}){1000}',
  '*',
  '*.',
  '::1',
  'x'.repeat(5000),
  true,
  [],
  [null],
  {},
  { __proto__: { polluted: true } },
  { constructor: 'x', toString: 5 },
  'constructor',
  '__proto__',
];

type Path = Array<string | number>;

/** Every path into the value (objects and arrays), so that a mutation can land anywhere. */
function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(path);
    paths(child, path, out);
  }
  return out;
}

function safe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(unprintable)';
  }
}

function mutate(objects: any[], next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const target = pick(objects);
  const all = paths(target);
  if (all.length === 0) return 'nothing to mutate';
  const path = pick(all);
  let parent: any = target;
  for (const part of path.slice(0, -1)) parent = parent[part];
  const last = path[path.length - 1];
  const where = `${safe(target?.kind)}/${safe(target?.metadata?.name)}:${path.join('.')}`;
  const choice = next();
  if (choice < 0.3) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
    return `delete ${where}`;
  }
  if (choice < 0.4 && Array.isArray(parent)) {
    parent.push(structuredClone(parent[last as number]));
    return `duplicate ${where}`;
  }
  const value = structuredClone(pick(HOSTILE));
  parent[last] = value;
  return `set ${where} = ${JSON.stringify(value)?.slice(0, 40)}`;
}

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
      let result;
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
        for (const match of conditions.matchAll(/"observedGeneration":([^,}]+)/g)) expect(Number.isSafeInteger(Number(match[1])), context).to.equal(true);
        expect(conditions.includes('"lastTransitionTime":"2026-01-01T00:00:00Z"') || !conditions.includes('lastTransitionTime'), context).to.equal(true);
      }
    }
  });
});
