// The configuration in force in the data plane and the step that admits the next one: a delta is checked for shape,
// must build on the generation held, is merged into a copy of the record index, and the whole result is validated.
// Nothing changes unless all of that passes, so a bad snapshot is refused with its problems and the previous one
// keeps serving.

import { applyDelta, emptyIndex, snapshotFromIndex } from '../../shared/ir/delta.ts';
import type { ConfigDelta, RecordIndex } from '../../shared/ir/delta.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { validateDeltaShape } from '../../shared/validation/delta.ts';
import type { Problem } from '../../shared/validation/problem.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';

export type Admission =
  | { ok: true; generation: number; index: RecordIndex; validateMs: number }
  | { ok: false; reason: 'Invalid' | 'BaseMismatch'; problems: Problem[] };

export class ConfigState {
  #generation = 0;
  #index: RecordIndex = emptyIndex();
  /** Records that passed validation once; immutable, so they are not checked again. */
  readonly #known = new WeakSet<object>();

  get generation(): number {
    return this.#generation;
  }

  get index(): RecordIndex {
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
        problems: [{ code: 'InvalidValue', path: 'baseGeneration', message: `delta builds on generation ${delta.baseGeneration}, but generation ${this.#generation} is in force; send a full snapshot` }],
      };
    }
    if (delta.generation <= this.#generation) {
      return {
        ok: false,
        reason: 'Invalid',
        problems: [{ code: 'InvalidValue', path: 'generation', message: `generation ${delta.generation} is not above ${this.#generation}, the one in force` }],
      };
    }
    const index = applyDelta(delta.baseGeneration === 0 ? emptyIndex() : this.#index, delta);
    const problems = validateIndex(index, delta.irVersion, { known: this.#known });
    if (problems.length > 0) return { ok: false, reason: 'Invalid', problems };
    return { ok: true, generation: delta.generation, index, validateMs: performance.now() - started };
  }

  commit(generation: number, index: RecordIndex): void {
    this.#generation = generation;
    this.#index = index;
  }
}
