// The configuration in force in the data plane and the step that admits the next one: a delta is checked for shape,
// must build on the generation held, and the record index it would give is validated in full (through a view of
// the index with the delta applied, checked at the cost of the delta: shared/validation/incremental.ts). Nothing
// changes unless all of that passes, so a bad snapshot is refused with its problems and the previous one keeps
// serving. An admitted delta is then applied to the index in place, with what it takes to roll it back.

import {
  applyDeltaInPlace,
  deltaKeys,
  emptyIndex,
  overlayDelta,
  snapshotFromIndex,
  undoDelta,
} from '../../shared/ir/delta.ts';
import type { ConfigDelta, DeltaUndo, ReadonlyRecordIndex, RecordIndex } from '../../shared/ir/delta.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { validateDeltaShape } from '../../shared/validation/delta.ts';
import { IndexChecker } from '../../shared/validation/incremental.ts';
import type { Problem } from '../../shared/validation/problem.ts';

export type Admission =
  | { ok: true; generation: number; delta: ConfigDelta; index: ReadonlyRecordIndex; validateMs: number }
  | { ok: false; reason: 'Invalid' | 'BaseMismatch'; problems: Problem[] };

export class ConfigState {
  #generation = 0;
  #index: RecordIndex = emptyIndex();
  readonly #checker = new IndexChecker();
  /** How to go back to the generation before the last commit (a shard failed to apply it). */
  #undo: { generation: number; undo: DeltaUndo | RecordIndex } | null = null;

  get generation(): number {
    return this.#generation;
  }

  get index(): ReadonlyRecordIndex {
    return this.#index;
  }

  records(): SnapshotRecords {
    return snapshotFromIndex(this.#index, this.#generation);
  }

  admit(delta: ConfigDelta): Admission {
    const started = performance.now();
    const shape = validateDeltaShape(delta);
    if (shape.length > 0) return { ok: false, reason: 'Invalid', problems: shape };
    if (delta.baseGeneration !== 0 && delta.baseGeneration !== this.#generation) {
      return {
        ok: false,
        reason: 'BaseMismatch',
        problems: [
          {
            code: 'InvalidValue',
            path: 'baseGeneration',
            message: `delta builds on generation ${delta.baseGeneration}, but generation ${this.#generation} is in force; send a full snapshot`,
          },
        ],
      };
    }
    if (delta.generation <= this.#generation) {
      return {
        ok: false,
        reason: 'Invalid',
        problems: [
          {
            code: 'InvalidValue',
            path: 'generation',
            message: `generation ${delta.generation} is not above ${this.#generation}, the one in force`,
          },
        ],
      };
    }
    const full = delta.baseGeneration === 0;
    const index = overlayDelta(full ? emptyIndex() : this.#index, delta);
    const problems = this.#checker.check(index, delta.irVersion, full ? null : deltaKeys(delta));
    if (problems.length > 0) {
      // The checker now describes a refused index: the next delta is checked in full against the one in force.
      this.#checker.reset();
      return { ok: false, reason: 'Invalid', problems };
    }
    return { ok: true, generation: delta.generation, delta, index, validateMs: performance.now() - started };
  }

  /** Makes an admitted delta the configuration in force. */
  commit(admission: Extract<Admission, { ok: true }>): void {
    const { delta } = admission;
    if (delta.baseGeneration === 0) {
      const previous = this.#index;
      this.#index = emptyIndex();
      applyDeltaInPlace(this.#index, delta);
      this.#undo = { generation: this.#generation, undo: previous };
    } else this.#undo = { generation: this.#generation, undo: applyDeltaInPlace(this.#index, delta) };
    this.#generation = admission.generation;
  }

  /** Goes back to the generation before the last commit. */
  rollback(): void {
    const undo = this.#undo;
    if (undo === null) return;
    if (Array.isArray(undo.undo)) undoDelta(this.#index, undo.undo);
    else this.#index = undo.undo;
    this.#generation = undo.generation;
    this.#undo = null;
    this.#checker.reset();
  }
}
