// The operator's view of the world: every object a provider (files, or the Kubernetes API) reported, by kind,
// namespace and name. Providers write to it; the reconciler reads what changed since its last pass from a change
// feed (or a whole snapshot). It knows nothing of Gateway API semantics beyond the object key.
// An object replaced by an equal one (a file read again, a relist) keeps its identity and is not a change for the
// feeds: downstream, work follows identity (the translation session translates again only objects that changed).

import { objectKey } from '../gateway/keys.ts';
import { buildResourceSnapshot } from '../gateway/resources.ts';
import type { KubeObject, ResourceSnapshot } from '../gateway/resources.ts';

/** Objects that changed since a feed was last read, by store key. */
export interface ObjectChanges {
  upserted: Array<readonly [string, KubeObject]>;
  removed: string[];
}

export interface ChangeFeed {
  /** What changed since the previous call (everything, on the first call). */
  take(): ObjectChanges;
  /** Every object now, by key (to start over); the changes up to now count as taken. */
  all(): Array<readonly [string, KubeObject]>;
  close(): void;
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class ResourceStore {
  readonly #objects = new Map<string, KubeObject>();
  readonly #listeners = new Set<() => void>();
  /** Keys changed since each feed was last read. */
  readonly #feeds = new Set<Set<string>>();
  #revision = 0;

  /** Increases with every change; lets a reader tell whether it has seen the latest state. */
  get revision(): number {
    return this.#revision;
  }

  get size(): number {
    return this.#objects.size;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replaces the objects of one source in a single change (a file's documents, or a kind after a relist). */
  replace(previousKeys: Iterable<string>, objects: Iterable<KubeObject>): Set<string> {
    const keys = new Set<string>();
    const previous = new Map<string, KubeObject>();
    for (const key of previousKeys) {
      const object = this.#objects.get(key);
      if (object === undefined) continue;
      previous.set(key, object);
      this.#objects.delete(key);
    }
    for (const object of objects) {
      const key = objectKey(object);
      keys.add(key);
      const before = previous.get(key);
      if (before !== undefined && sameObject(before, object)) {
        this.#objects.set(key, before);
        previous.delete(key);
        continue;
      }
      previous.delete(key);
      this.#objects.set(key, object);
      this.#touch(key);
    }
    for (const key of previous.keys()) this.#touch(key);
    this.#changed();
    return keys;
  }

  upsert(object: KubeObject): void {
    const key = objectKey(object);
    this.#objects.set(key, object);
    this.#touch(key);
    this.#changed();
  }

  delete(key: string): void {
    if (!this.#objects.delete(key)) return;
    this.#touch(key);
    this.#changed();
  }

  /** A feed of the keys that change from now on; its first `take` returns every object. */
  feed(): ChangeFeed {
    const dirty = new Set<string>(this.#objects.keys());
    this.#feeds.add(dirty);
    const objects = this.#objects;
    return {
      take: () => {
        const changes: ObjectChanges = { upserted: [], removed: [] };
        for (const key of dirty) {
          const object = objects.get(key);
          if (object === undefined) changes.removed.push(key);
          else changes.upserted.push([key, object]);
        }
        dirty.clear();
        return changes;
      },
      all: () => {
        dirty.clear();
        return [...objects];
      },
      close: () => {
        this.#feeds.delete(dirty);
      },
    };
  }

  #touch(key: string): void {
    for (const dirty of this.#feeds) dirty.add(key);
  }

  get(key: string): KubeObject | undefined {
    return this.#objects.get(key);
  }

  snapshot(): ResourceSnapshot {
    return buildResourceSnapshot(this.#objects.values());
  }

  #changed(): void {
    this.#revision++;
    for (const listener of this.#listeners) listener();
  }
}
