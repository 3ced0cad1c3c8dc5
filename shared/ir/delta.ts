// Deltas between snapshots: the operator sends only the records that changed since the generation the data plane
// holds, so one route edit is one small message whatever the number of routes. The data plane rebuilds the whole
// record set from its last one plus the delta, then validates the whole set before it applies anything.

import { IR_VERSION, RECORD_KINDS, emptyRecords } from './snapshot.ts';
import type { ConfigSnapshot, RecordKind, SnapshotRecords } from './snapshot.ts';

export interface ConfigDelta {
  irVersion: number;
  generation: number;
  /** The generation this delta applies on top of; 0 means "on top of nothing" (a full snapshot). */
  baseGeneration: number;
  upsert: SnapshotRecords;
  remove: Record<RecordKind, string[]>;
}

type AnyRecord = SnapshotRecords[RecordKind][number];

/** All records of a snapshot by kind and key; the data plane's working copy between generations. */
export type RecordIndex = { [K in RecordKind]: Map<string, SnapshotRecords[K][number]> };

export function emptyIndex(): RecordIndex {
  return {
    listeners: new Map(),
    httpRoutes: new Map(),
    streamRoutes: new Map(),
    backends: new Map(),
    certificates: new Map(),
  };
}

export function indexSnapshot(records: SnapshotRecords): RecordIndex {
  const index = emptyIndex();
  for (const kind of RECORD_KINDS) {
    const map = index[kind] as Map<string, AnyRecord>;
    for (const record of records[kind] as AnyRecord[]) map.set(record.key, record);
  }
  return index;
}

export function snapshotFromIndex(index: RecordIndex, generation: number): ConfigSnapshot {
  return {
    irVersion: IR_VERSION,
    generation,
    listeners: [...index.listeners.values()],
    httpRoutes: [...index.httpRoutes.values()],
    streamRoutes: [...index.streamRoutes.values()],
    backends: [...index.backends.values()],
    certificates: [...index.certificates.values()],
  };
}

/** An index as readers see it: by kind, a map from key to record (a RecordIndex, or a view over one). */
export type ReadonlyRecordIndex = { readonly [K in RecordKind]: ReadonlyMap<string, SnapshotRecords[K][number]> };

/** A record as last sent: the object, and its encoding (an equal record under another identity sends nothing). */
export interface SentRecord {
  record: object;
  encoded: string;
}

/**
 * What the data plane was sent, by kind and key; lets a diff tell a changed record from an equal one. A record whose
 * object is the one sent is not even encoded again, so a diff costs what changed. The publisher keeps one per data
 * plane connection.
 */
export type SentRecords = { [K in RecordKind]: Map<string, SentRecord> };

export function emptySent(): SentRecords {
  return {
    listeners: new Map(),
    httpRoutes: new Map(),
    streamRoutes: new Map(),
    backends: new Map(),
    certificates: new Map(),
  };
}

/** Keys to look at, by kind. */
export type KeysByKind = { readonly [K in RecordKind]?: Iterable<string> };

/** Changes to `SentRecords` that a delta implies, to adopt once the data plane acknowledged it. */
export type SentChanges = Array<{ kind: RecordKind; key: string; sent: SentRecord | undefined }>;

function emptyRemove(): Record<RecordKind, string[]> {
  return { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] };
}

/**
 * The delta that turns what was sent into `next`, looking only at `keys` (the keys that may have changed since);
 * `sent` is not changed: the returned `changes` bring it up to `next` once the delta is acknowledged.
 */
export function diffKeys(
  sent: SentRecords,
  next: ReadonlyRecordIndex,
  keys: KeysByKind,
  generation: number,
  baseGeneration: number,
): { delta: ConfigDelta; changes: SentChanges } {
  const upsert = emptyRecords();
  const remove = emptyRemove();
  const changes: SentChanges = [];
  for (const kind of RECORD_KINDS) {
    const previous = sent[kind];
    const current = next[kind] as ReadonlyMap<string, AnyRecord>;
    const seen = new Set<string>();
    for (const key of keys[kind] ?? []) {
      if (seen.has(key)) continue;
      seen.add(key);
      const record = current.get(key);
      const before = previous.get(key);
      if (record === undefined) {
        if (before !== undefined) {
          remove[kind].push(key);
          changes.push({ kind, key, sent: undefined });
        }
        continue;
      }
      if (before?.record === record) continue;
      const encoded = JSON.stringify(record);
      changes.push({ kind, key, sent: { record, encoded } });
      if (before?.encoded !== encoded) (upsert[kind] as AnyRecord[]).push(record);
    }
  }
  return { delta: { irVersion: IR_VERSION, generation, baseGeneration, upsert, remove }, changes };
}

export function adoptSent(sent: SentRecords, changes: SentChanges): void {
  for (const { kind, key, sent: record } of changes) {
    if (record === undefined) sent[kind].delete(key);
    else sent[kind].set(key, record);
  }
}

/** Every key of `index` and of `sent`: what a diff must look at when nothing is known about what changed. */
export function allKeys(sent: SentRecords, index: ReadonlyRecordIndex): KeysByKind {
  const keys: { [K in RecordKind]?: string[] } = {};
  for (const kind of RECORD_KINDS) keys[kind] = [...index[kind].keys(), ...sent[kind].keys()];
  return keys;
}

/**
 * The delta that turns what was sent (`sent`, updated in place to `next`) into `next`. With an empty `sent` the
 * delta carries every record, i.e. a full snapshot.
 */
export function diffRecords(
  sent: SentRecords,
  next: SnapshotRecords,
  generation: number,
  baseGeneration: number,
): ConfigDelta {
  const index = indexSnapshot(next);
  const { delta, changes } = diffKeys(sent, index, allKeys(sent, index), generation, baseGeneration);
  adoptSent(sent, changes);
  return delta;
}

export function isEmptyDelta(delta: ConfigDelta): boolean {
  return RECORD_KINDS.every((kind) => delta.upsert[kind].length === 0 && delta.remove[kind].length === 0);
}

/** A new index: `base` with the delta applied. `base` is not modified, so a rejected delta leaves it intact. */
export function applyDelta(base: RecordIndex, delta: ConfigDelta): RecordIndex {
  const next = emptyIndex();
  for (const kind of RECORD_KINDS) {
    const map = new Map(base[kind] as Map<string, AnyRecord>);
    for (const key of delta.remove[kind] ?? []) map.delete(key);
    for (const record of (delta.upsert[kind] ?? []) as AnyRecord[]) map.set(record.key, record);
    (next as Record<RecordKind, Map<string, AnyRecord>>)[kind] = map;
  }
  return next;
}

/** Undo information of `applyDeltaInPlace`: the records it replaced or removed (undefined: the key was new). */
export type DeltaUndo = Array<{ kind: RecordKind; key: string; previous: AnyRecord | undefined }>;

/**
 * Applies the delta to `index` itself, at the cost of the delta (no copy of the index); returns what it takes to
 * undo it. Keys keep their places as in `applyDelta`: a removed key goes, an upserted new key comes last.
 */
export function applyDeltaInPlace(index: RecordIndex, delta: ConfigDelta): DeltaUndo {
  const undo: DeltaUndo = [];
  for (const kind of RECORD_KINDS) {
    const map = index[kind] as Map<string, AnyRecord>;
    for (const key of delta.remove[kind] ?? []) {
      if (!map.has(key)) continue;
      undo.push({ kind, key, previous: map.get(key) });
      map.delete(key);
    }
    for (const record of (delta.upsert[kind] ?? []) as AnyRecord[]) {
      undo.push({ kind, key: record.key, previous: map.get(record.key) });
      map.set(record.key, record);
    }
  }
  return undo;
}

export function undoDelta(index: RecordIndex, undo: DeltaUndo): void {
  for (let i = undo.length - 1; i >= 0; i--) {
    const { kind, key, previous } = undo[i];
    const map = index[kind] as Map<string, AnyRecord>;
    if (previous === undefined) map.delete(key);
    else map.set(key, previous);
  }
}

/** A read-only map: `base` with some keys removed and some set, without copying `base`. */
class OverlayMap<V> implements ReadonlyMap<string, V> {
  readonly #base: ReadonlyMap<string, V>;
  readonly #upserts: ReadonlyMap<string, V>;
  readonly #removed: ReadonlySet<string>;

  constructor(base: ReadonlyMap<string, V>, removed: ReadonlySet<string>, upserts: ReadonlyMap<string, V>) {
    this.#base = base;
    this.#removed = removed;
    this.#upserts = upserts;
  }

  get(key: string): V | undefined {
    const upserted = this.#upserts.get(key);
    if (upserted !== undefined) return upserted;
    return this.#removed.has(key) ? undefined : this.#base.get(key);
  }

  has(key: string): boolean {
    return this.#upserts.has(key) || (!this.#removed.has(key) && this.#base.has(key));
  }

  get size(): number {
    let size = this.#base.size;
    for (const key of this.#removed) if (this.#base.has(key) && !this.#upserts.has(key)) size--;
    for (const key of this.#upserts.keys()) if (!this.#base.has(key)) size++;
    return size;
  }

  /** The order `applyDelta` gives: base order, removed keys out, then keys (re)added by the delta. */
  *entries(): MapIterator<[string, V]> {
    for (const [key, value] of this.#base) {
      if (this.#removed.has(key)) continue;
      yield [key, this.#upserts.get(key) ?? value];
    }
    for (const [key, value] of this.#upserts) if (!this.#base.has(key) || this.#removed.has(key)) yield [key, value];
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
}

/** `applyDelta(base, delta)` as a read-only view, at the cost of the delta: for checking a delta before applying it. */
export function overlayDelta(base: RecordIndex, delta: ConfigDelta): ReadonlyRecordIndex {
  const view = {} as Record<RecordKind, ReadonlyMap<string, AnyRecord>>;
  for (const kind of RECORD_KINDS) {
    const upserts = new Map<string, AnyRecord>();
    for (const record of (delta.upsert[kind] ?? []) as AnyRecord[]) upserts.set(record.key, record);
    view[kind] = new OverlayMap(base[kind] as Map<string, AnyRecord>, new Set(delta.remove[kind] ?? []), upserts);
  }
  return view as unknown as ReadonlyRecordIndex;
}

/** Keys a delta touches, by kind. */
export function deltaKeys(delta: ConfigDelta): KeysByKind {
  const keys: { [K in RecordKind]?: string[] } = {};
  for (const kind of RECORD_KINDS)
    keys[kind] = [...(delta.remove[kind] ?? []), ...((delta.upsert[kind] ?? []) as AnyRecord[]).map((r) => r.key)];
  return keys;
}
