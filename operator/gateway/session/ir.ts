// The IR of a translation session (session.ts), record by record: the candidate IR (what the passes built, kept up to
// date key by key) and the published IR (what was handed out: the candidate, unless the final check refused some
// records, which is a translator bug). A run sets candidate records, then `publish` checks them with the incremental
// checker (shared/validation/incremental.ts) and says which published keys changed. A record equal to the one it
// replaces keeps the old object, so that consumers can tell a change by identity.

import { emptyIndex, indexSnapshot } from '../../../shared/ir/delta.ts';
import type { RecordIndex } from '../../../shared/ir/delta.ts';
import { IR_VERSION, RECORD_KINDS, emptyRecords } from '../../../shared/ir/snapshot.ts';
import type { RecordKind, SnapshotRecords } from '../../../shared/ir/snapshot.ts';
import { IndexChecker } from '../../../shared/validation/incremental.ts';
import type { Problem } from '../../../shared/validation/problem.ts';
import { dropInvalidRecords, sortRecords } from './records.ts';

/** Changes to the IR since the previous run. */
export interface RecordChanges {
  upsert: SnapshotRecords;
  remove: Record<RecordKind, string[]>;
}

type Keys = Record<RecordKind, Set<string>>;

function emptyKeys(): Keys {
  return {
    listeners: new Set(),
    httpRoutes: new Set(),
    streamRoutes: new Set(),
    backends: new Set(),
    certificates: new Set(),
  };
}

function copyIndex(index: RecordIndex): RecordIndex {
  return {
    listeners: new Map(index.listeners),
    httpRoutes: new Map(index.httpRoutes),
    streamRoutes: new Map(index.streamRoutes),
    backends: new Map(index.backends),
    certificates: new Map(index.certificates),
  };
}

const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);

export class SessionIr {
  #candidate: RecordIndex = emptyIndex();
  /** Candidate keys set in this run. */
  #candidateChanged = emptyKeys();
  #published: RecordIndex = emptyIndex();
  /** The published IR is the candidate (the last check passed, and nothing was rebuilt since). */
  #publishedIsCandidate = false;
  /** Published keys that changed in this run. */
  #changed = emptyKeys();
  readonly #checker = new IndexChecker();
  #dropped: Problem[] = [];

  get dropped(): Problem[] {
    return this.#dropped;
  }

  /** Starts a run: nothing changed yet. */
  begin(): void {
    this.#candidateChanged = emptyKeys();
    this.#changed = emptyKeys();
  }

  /** Forgets the candidate (the session rebuilds it from nothing); the published IR stays, to compare with. */
  reset(): void {
    this.#candidate = emptyIndex();
    this.#publishedIsCandidate = false;
    this.#checker.reset();
  }

  /** Sets (or, undefined, removes) a candidate record; one equal to the record it replaces keeps that one. */
  set(kind: RecordKind, key: string, record: object | undefined): void {
    const map = this.#candidate[kind] as Map<string, object>;
    const current = map.get(key);
    if (record === undefined) {
      if (current === undefined) return;
      map.delete(key);
      this.#candidateChanged[kind].add(key);
      return;
    }
    if (current === record) return;
    const previous = current ?? (this.#published[kind] as Map<string, object>).get(key);
    if (previous !== undefined && same(previous, record)) record = previous;
    if (current === record) return;
    map.set(key, record);
    this.#candidateChanged[kind].add(key);
  }

  /** Makes `records` the candidate records of a small list (listeners, certificates). */
  replaceAll(kind: 'listeners' | 'certificates', records: ReadonlyMap<string, object>): void {
    for (const key of this.#candidate[kind].keys()) if (!records.has(key)) this.set(kind, key, undefined);
    for (const [key, record] of records) this.set(kind, key, record);
  }

  /** Checks the candidate and decides what goes out: the candidate, or (a translator bug) what survives the check. */
  publish(): void {
    const problems = this.#checker.check(this.#candidate, IR_VERSION, this.#candidateChanged);
    if (problems.length === 0) {
      this.#dropped = [];
      if (!this.#publishedIsCandidate) {
        this.#replacePublished(copyIndex(this.#candidate));
        this.#publishedIsCandidate = true;
        return;
      }
      this.#changed = this.#candidateChanged;
      for (const kind of RECORD_KINDS) {
        const published = this.#published[kind] as Map<string, object>;
        for (const key of this.#candidateChanged[kind]) {
          const record = (this.#candidate[kind] as Map<string, object>).get(key);
          if (record === undefined) published.delete(key);
          else published.set(key, record);
        }
      }
      return;
    }
    const ir = emptyRecords();
    for (const kind of RECORD_KINDS) (ir[kind] as unknown[]).push(...this.#candidate[kind].values());
    this.#dropped = dropInvalidRecords(sortRecords(ir));
    this.#replacePublished(indexSnapshot(ir));
    this.#publishedIsCandidate = false;
  }

  /** The published IR's changes in this run. */
  changes(): RecordChanges {
    const ir: RecordChanges = {
      upsert: emptyRecords(),
      remove: { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] },
    };
    for (const kind of RECORD_KINDS) {
      for (const key of this.#changed[kind]) {
        const record = this.#published[kind].get(key);
        if (record === undefined) ir.remove[kind].push(key);
        else (ir.upsert[kind] as unknown[]).push(record);
      }
    }
    return ir;
  }

  /** The published IR as `translate` gives it (sorted by key). */
  records(): SnapshotRecords {
    const ir = emptyRecords();
    for (const kind of RECORD_KINDS) (ir[kind] as unknown[]).push(...this.#published[kind].values());
    return sortRecords(ir);
  }

  /** Makes `next` the published IR, noting every key that differs (by identity) as changed. */
  #replacePublished(next: RecordIndex): void {
    for (const kind of RECORD_KINDS) {
      const before = this.#published[kind] as Map<string, object>;
      const after = next[kind] as Map<string, object>;
      for (const [key, record] of after) if (before.get(key) !== record) this.#changed[kind].add(key);
      for (const key of before.keys()) if (!after.has(key)) this.#changed[kind].add(key);
    }
    this.#published = next;
  }
}
