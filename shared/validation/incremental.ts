// `validateIndex` (snapshot.ts) for an index that changes a few records at a time: the same answer, at the cost of
// the change rather than of the whole index, for the operator's translator (every pass) and the data plane (every
// generation). It relies on what makes the full check decomposable:
//   - a record's own checks (records.ts) depend on the record alone, and records are immutable: a record object
//     that passed once passes again;
//   - the socket checks look at listeners only (a handful): run whenever a listener changed;
//   - a record's reference checks depend on the record and, for each record it names, on its existence (and for a
//     listener, its protocol). So after an index that passed, only changed records and the records that name a
//     target which went away (or a listener whose protocol changed) can fail; an index of referrers finds those.
// Whenever the quick path finds anything, or there is no clean index to build on, the full `validateIndex` runs, so
// the problems reported (and their order) are exactly the full check's.

import { parseRecordRef, recordRef } from '../ir/keys.ts';
import { IR_VERSION, RECORD_KINDS } from '../ir/snapshot.ts';
import type { RecordKind } from '../ir/snapshot.ts';
import type { Problem } from './problem.ts';
import { REFERRING_KINDS, validateRecordReferences, referencesOf, validateListenerSockets } from './references.ts';
import type { ReadonlyRecordIndex } from '../ir/delta.ts';
import type { ReferringKind } from './references.ts';
import { validateIndex, validateRecord } from './snapshot.ts';

/** Keys that changed (upserted or removed) by kind, since the index of the previous check. */
export type ChangedKeys = { readonly [K in RecordKind]?: Iterable<string> };

export class IndexChecker {
  /** The previous check passed, and the referrer index describes the index it checked. */
  #clean = false;
  readonly #known = new WeakSet<object>();
  /** `<kind>|<key>` of a record → the `<kind>|<key>` of the records that name it. */
  #referrers = new Map<string, Set<string>>();
  /** `<kind>|<key>` of a referring record → what it names (to take it out of `#referrers` when it changes). */
  #references = new Map<string, string[]>();
  /** Listener protocols of the checked index (a route's reference check reads them). */
  #protocols = new Map<string, string>();

  /** Forget the previous index: the next check is a full one (after a rollback, or when the changes are not known). */
  reset(): void {
    this.#clean = false;
  }

  /**
   * The problems `validateIndex(next, irVersion)` would report. `changed` names the keys in which `next` differs
   * from the index of the previous call; null when that is not known.
   */
  check(next: ReadonlyRecordIndex, irVersion: unknown, changed: ChangedKeys | null): Problem[] {
    if (this.#clean && changed !== null && irVersion === IR_VERSION && this.#quickCheck(next, changed)) return [];
    return this.#fullCheck(next, irVersion);
  }

  #fullCheck(next: ReadonlyRecordIndex, irVersion: unknown): Problem[] {
    const problems = validateIndex(next, irVersion, { known: this.#known });
    this.#clean = problems.length === 0;
    this.#referrers = new Map();
    this.#references = new Map();
    this.#protocols = new Map();
    if (!this.#clean) return problems;
    for (const kind of REFERRING_KINDS) for (const record of next[kind].values()) this.#index(kind, record);
    for (const listener of next.listeners.values()) this.#protocols.set(listener.key, listener.protocol);
    return problems;
  }

  /** True when `next` passes; false when something fails or may fail (the full check then says what). */
  #quickCheck(next: ReadonlyRecordIndex, changed: ChangedKeys): boolean {
    const out: Problem[] = [];
    const recheck = new Map<string, ReferringKind>();
    let listenersChanged = false;
    for (const kind of RECORD_KINDS) {
      for (const key of changed[kind] ?? []) {
        const record = next[kind].get(key) as object | undefined;
        if (kind === 'listeners') listenersChanged = true;
        if (record !== undefined && !this.#known.has(record)) {
          validateRecord(kind, record, out);
          if (out.length > 0) return false;
          this.#known.add(record);
        }
        if (record !== undefined && kind !== 'certificates') recheck.set(recordRef(kind, key), kind as ReferringKind);
        // Who names this record must be checked again if it went away, or (a listener) changed protocol.
        const protocolChanged =
          kind === 'listeners' && (record as { protocol?: string } | undefined)?.protocol !== this.#protocols.get(key);
        if (record === undefined || protocolChanged) {
          for (const referrer of this.#referrers.get(recordRef(kind, key)) ?? [])
            recheck.set(referrer, parseRecordRef(referrer).kind as ReferringKind);
        }
      }
    }
    if (listenersChanged) {
      validateListenerSockets(next, out);
      if (out.length > 0) return false;
    }
    for (const [id, kind] of recheck) {
      const record = next[kind].get(parseRecordRef(id).key);
      if (record === undefined) continue;
      validateRecordReferences(next, kind, record, out);
      if (out.length > 0) return false;
    }
    // It passed: bring the referrer index and the listener protocols up to the new index.
    for (const kind of RECORD_KINDS) {
      for (const key of changed[kind] ?? []) {
        const record = next[kind].get(key);
        if (kind === 'listeners') {
          if (record === undefined) this.#protocols.delete(key);
          else this.#protocols.set(key, (record as { protocol: string }).protocol);
        }
        if (kind === 'certificates') continue;
        this.#unindex(recordRef(kind, key));
        if (record !== undefined) this.#index(kind as ReferringKind, record);
      }
    }
    return true;
  }

  #index(kind: ReferringKind, record: { key: string }): void {
    const id = recordRef(kind, record.key);
    const targets = referencesOf(kind, record);
    if (targets.length === 0) return;
    this.#references.set(id, targets);
    for (const target of targets) {
      let set = this.#referrers.get(target);
      if (set === undefined) this.#referrers.set(target, (set = new Set()));
      set.add(id);
    }
  }

  #unindex(id: string): void {
    const targets = this.#references.get(id);
    if (targets === undefined) return;
    this.#references.delete(id);
    for (const target of targets) {
      const set = this.#referrers.get(target);
      set?.delete(id);
      if (set?.size === 0) this.#referrers.delete(target);
    }
  }
}
