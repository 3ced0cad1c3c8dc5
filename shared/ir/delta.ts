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
  return { listeners: new Map(), httpRoutes: new Map(), streamRoutes: new Map(), backends: new Map(), certificates: new Map() };
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

/**
 * Encodings of the records last sent, by kind and key; lets `diffRecords` tell a changed record from an equal one
 * without keeping a deep copy. The publisher keeps one per data plane connection.
 */
export type SentRecords = { [K in RecordKind]: Map<string, string> };

export function emptySent(): SentRecords {
  return { listeners: new Map(), httpRoutes: new Map(), streamRoutes: new Map(), backends: new Map(), certificates: new Map() };
}

/**
 * The delta that turns what was sent (`sent`, updated in place to `next`) into `next`. With an empty `sent` the
 * delta carries every record, i.e. a full snapshot.
 */
export function diffRecords(sent: SentRecords, next: SnapshotRecords, generation: number, baseGeneration: number): ConfigDelta {
  const upsert = emptyRecords();
  const remove = { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] } as Record<RecordKind, string[]>;
  for (const kind of RECORD_KINDS) {
    const previous = sent[kind];
    const seen = new Set<string>();
    for (const record of next[kind] as AnyRecord[]) {
      seen.add(record.key);
      const encoded = JSON.stringify(record);
      if (previous.get(record.key) !== encoded) {
        previous.set(record.key, encoded);
        (upsert[kind] as AnyRecord[]).push(record);
      }
    }
    for (const key of previous.keys()) {
      if (!seen.has(key)) {
        previous.delete(key);
        remove[kind].push(key);
      }
    }
  }
  return { irVersion: IR_VERSION, generation, baseGeneration, upsert, remove };
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
