// The statuses of a translation session (session.ts): every status handed out, by `statusKey`, and what changed in
// the current run. A status equal to the one it replaces but for its time is not a change, so it keeps the
// `lastTransitionTime` of the run that produced it (a status writer keeps unchanged conditions' times anyway, see
// status.ts `mergeConditions`). Knows nothing of how statuses are built.

import type { ObjectStatus } from '../status.ts';
import { compareStatuses } from '../status.ts';

export interface StatusChanges {
  /** New or changed statuses, in `TranslateResult.statuses` order. */
  upsert: ObjectStatus[];
  /** Keys (`statusKey`) of objects that no longer get a status from us. */
  remove: string[];
}

/** A status as compared between runs: everything but the time. */
function statusFingerprint(status: ObjectStatus): string {
  return JSON.stringify(status, (key, value) => (key === 'lastTransitionTime' ? undefined : value));
}

export class StatusTable {
  readonly #statuses = new Map<string, ObjectStatus>();
  #changes = new Map<string, ObjectStatus | undefined>();
  /** In a run that starts over: statuses not set (yet) in this run, taken back at `end`. */
  #stale: Set<string> | null = null;

  /** A run begins. */
  begin(): void {
    this.#changes = new Map();
  }

  /** The run starts over (first run, new options): every status not set again in it is gone at `end`. */
  startOver(): void {
    this.#stale = new Set(this.#statuses.keys());
  }

  /** Sets (or, with undefined, takes back) the status of `key`. */
  set(key: string, status: ObjectStatus | undefined): void {
    this.#stale?.delete(key);
    const current = this.#statuses.get(key);
    if (status === undefined) {
      if (current === undefined) return;
      this.#statuses.delete(key);
      this.#changes.set(key, undefined);
      return;
    }
    if (current !== undefined && statusFingerprint(current) === statusFingerprint(status)) return;
    this.#statuses.set(key, status);
    this.#changes.set(key, status);
  }

  /** The run is over: what a run that started over did not set is taken back; returns the run's changes. */
  end(): StatusChanges {
    for (const key of this.#stale ?? []) this.set(key, undefined);
    this.#stale = null;
    const changes: StatusChanges = { upsert: [], remove: [] };
    for (const [key, status] of this.#changes) {
      if (status === undefined) changes.remove.push(key);
      else changes.upsert.push(status);
    }
    changes.upsert.sort(compareStatuses);
    return changes;
  }

  /** Every status, in `TranslateResult.statuses` order. */
  all(): ObjectStatus[] {
    return [...this.#statuses.values()].sort(compareStatuses);
  }
}
