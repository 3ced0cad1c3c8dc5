// The long configuration fuzz run: `npm run fuzz` (10,000 resource sets, one of them in a few hundred with 10,000
// listeners on one Gateway, each through check.ts; and with each, one broken IR delta through the data plane's
// admission, ir.ts). Every set has its own seed, derived from the run's seed, and a failure prints it:
// `npm run fuzz -- --seed <run seed> --runs 1 --from <index>` replays exactly that set.
//   --seed N      the run's seed (default: from the clock, printed)
//   --runs N      how many sets (default 10000)
//   --from N      the index of the first set (default 0)
//   --listeners N listeners of the many-listeners shape (default 10000)
//   --edits N     session edits after each set (default 3)

import { parseArgs } from 'node:util';
import { loadCases } from '../translate/golden.ts';
import { checkSet } from './check.ts';
import { resourceSet, setSeed } from './generate.ts';
import { checkIrSet, irSet } from './ir.ts';
import type { Shape } from './generate.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    runs: { type: 'string', default: '10000' },
    from: { type: 'string', default: '0' },
    listeners: { type: 'string', default: '10000' },
    edits: { type: 'string', default: '3' },
  },
});
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const runs = Number(values.runs);
const from = Number(values.from);
const listeners = Number(values.listeners);
const edits = Number(values.edits);

const cases = loadCases('');
console.log(
  `fuzz: seed ${seed}, sets ${from}..${from + runs - 1}, ${cases.length} golden cases, ${edits} session edits`,
);
const shapes = new Map<Shape, number>();
const started = Date.now();
let failures = 0;
let irSets = 0;
for (let i = from; i < from + runs; i++) {
  const set = resourceSet(cases, setSeed(seed, i), listeners);
  shapes.set(set.shape, (shapes.get(set.shape) ?? 0) + 1);
  const problems = checkSet(set.objects, setSeed(seed, i), {
    sessionEdits: set.shape === 'many-listeners' ? 0 : edits,
  });
  if (problems.length > 0) {
    failures++;
    console.log(
      `FAIL set ${i} (replay: npm run fuzz -- --seed ${seed} --from ${i} --runs 1) ${set.shape}: ${set.description}`,
    );
    for (const line of problems.slice(0, 5)) console.log(`  ${line}`);
  }
  const ir = irSet(cases, setSeed(seed, i) ^ 0x1a2b);
  if (ir !== null) {
    irSets++;
    const irProblems = checkIrSet(ir);
    if (irProblems.length > 0) {
      failures++;
      console.log(`FAIL IR set ${i} (replay: npm run fuzz -- --seed ${seed} --from ${i} --runs 1): ${ir.description}`);
      for (const line of irProblems.slice(0, 5)) console.log(`  ${line}`);
    }
  }
  if ((i - from + 1) % 1000 === 0)
    console.log(`  ${i - from + 1} sets, ${failures} failing, ${Math.round((Date.now() - started) / 1000)} s`);
}
console.log(
  `fuzz: ${runs} resource sets (${[...shapes].map(([s, n]) => `${s} ${n}`).join(', ')}) and ${irSets} IR deltas, ` +
    `${failures} failing, seed ${seed}, ${Math.round((Date.now() - started) / 1000)} s`,
);
process.exitCode = failures > 0 ? 1 : 0;
