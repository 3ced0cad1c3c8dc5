// The data plane's side of the fuzzer: IR records as the translator makes them (from a golden case), broken at random
// (test/translate/mutations.ts on the records themselves), sent to the data plane's admission step (ConfigState) as a
// delta on top of the valid generation. What must hold:
//   1. admission throws nothing: a malformed record is a problem, not an exception;
//   2. the incremental check agrees with the full one (`validateIndex` of the same records);
//   3. what is admitted compiles into the shards' tables (HTTP and stream) without an exception: the validator lets
//      through nothing the data plane cannot serve.

import { compileHttpTables } from '../../dataplane/http/tables.ts';
import { ConfigState } from '../../dataplane/supervisor/config-state.ts';
import { buildResourceSnapshot } from '../../operator/gateway/resources.ts';
import { translate } from '../../operator/gateway/translate.ts';
import { indexSnapshot, overlayDelta } from '../../shared/ir/delta.ts';
import type { ConfigDelta } from '../../shared/ir/delta.ts';
import { IR_VERSION, RECORD_KINDS, emptyRecords } from '../../shared/ir/snapshot.ts';
import type { RecordKind, SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { seeded } from '../../shared/testing/random-ir.ts';
import { validateDeltaShape } from '../../shared/validation/delta.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import type { GoldenCase } from '../translate/golden.ts';
import { mutate } from '../translate/mutations.ts';

function noRemovals(): Record<RecordKind, string[]> {
  return { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] };
}

function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.message}\n${error.stack?.split('\n').slice(1, 4).join('\n')}`
    : String(error);
}

export interface IrSet {
  description: string;
  base: SnapshotRecords;
  delta: ConfigDelta;
}

/** A golden case's IR and a delta of one to four broken copies of its records (some removals too). */
export function irSet(cases: readonly GoldenCase[], seed: number): IrSet | null {
  const next = seeded(seed);
  const base = cases[Math.floor(next() * cases.length)];
  const { ir } = translate(buildResourceSnapshot(base.objects), { now: '2026-01-01T00:00:00Z', ...base.options });
  const kinds = RECORD_KINDS.filter((k) => ir[k].length > 0);
  if (kinds.length === 0) return null;
  const upsert = emptyRecords();
  const remove = noRemovals();
  const steps: string[] = [];
  for (let i = 1 + Math.floor(next() * 4); i > 0; i--) {
    const kind = kinds[Math.floor(next() * kinds.length)];
    const records = ir[kind] as Array<{ key: string }>;
    const record = records[Math.floor(next() * records.length)];
    if (next() < 0.15) {
      remove[kind].push(record.key);
      steps.push(`remove ${kind} ${record.key}`);
      continue;
    }
    const copy = structuredClone(record) as any;
    steps.push(mutate([copy], next));
    // A mutation of the key makes it a new record (maybe keyless): send it as one.
    (upsert[kind] as unknown[]).push(copy);
  }
  return {
    description: `${base.area}/${base.name}: ${steps.join('; ')}`,
    base: ir,
    delta: { irVersion: IR_VERSION, generation: 2, baseGeneration: 1, upsert, remove },
  };
}

export function checkIrSet(set: IrSet): string[] {
  const state = new ConfigState();
  const first = state.admit({
    irVersion: IR_VERSION,
    generation: 1,
    baseGeneration: 0,
    upsert: set.base,
    remove: noRemovals(),
  });
  if (!first.ok) return [`the translator's own IR was refused: ${JSON.stringify(first.problems.slice(0, 3))}`];
  state.commit(first);
  let admission: ReturnType<ConfigState['admit']>;
  try {
    admission = state.admit(set.delta);
  } catch (error) {
    return [`admission threw: ${errorText(error)}`];
  }
  const out: string[] = [];
  let full: ReturnType<typeof validateIndex>;
  try {
    full = validateIndex(overlayDelta(indexSnapshot(set.base), set.delta), IR_VERSION);
  } catch (error) {
    return [`validateIndex threw: ${errorText(error)}`];
  }
  const refused = admission.ok ? [] : admission.problems;
  // A delta the shape check refuses (two records under one key, a record without a key) never reaches the index
  // check; the full check of the overlay would keep the last record of a key and is no reference for it.
  const shapeRefused = validateDeltaShape(set.delta).length > 0;
  if (shapeRefused && admission.ok) out.push('admitted a delta whose shape is refused');
  if (!shapeRefused && JSON.stringify(refused) !== JSON.stringify(full))
    out.push(
      `incremental and full checks differ: ${JSON.stringify(refused.slice(0, 2))} vs ${JSON.stringify(full.slice(0, 2))}`,
    );
  if (admission.ok) {
    try {
      compileHttpTables(admission.index);
    } catch (error) {
      out.push(`admitted, but the tables do not compile: ${errorText(error)}`);
    }
  }
  return out;
}
