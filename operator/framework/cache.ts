// An indexed cache of objects of one kind, keyed `namespace/name` (or `name`), as a reflector keeps it. Indexes map
// a value computed from each object (a label, a referenced name) to the keys of the objects that yield it, and are
// kept up to date on every change, so lookups such as "EndpointSlices of Service X" never scan the whole kind.
// Objects are stored as given and must be treated as immutable by everyone.

import { keyOf } from './resource.ts';
import type { ApiObject } from './resource.ts';

export type IndexFunc<T> = (object: T) => readonly string[];

export interface ReplaceDiff<T> {
  added: T[];
  updated: Array<{ previous: T; current: T }>;
  deleted: T[];
}

export class ObjectCache<T extends ApiObject = ApiObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  get size(): number {
    return this.#items.size;
  }

  /** Adds an index; existing objects are indexed at once. */
  addIndex(name: string, index: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`index ${name} exists`);
    this.#indexers.set(name, index);
    this.#indices.set(name, new Map());
    for (const [key, object] of this.#items) this.#indexOne(name, index, key, object);
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Objects whose index `name` yields `value`. */
  byIndex(name: string, value: string): T[] {
    const index = this.#indices.get(name);
    if (index === undefined) throw new Error(`no index ${name}`);
    return [...(index.get(value) ?? [])].map((key) => this.#items.get(key)!);
  }

  /** Index values currently present (e.g. every Service that has EndpointSlices). */
  indexValues(name: string): string[] {
    const index = this.#indices.get(name);
    if (index === undefined) throw new Error(`no index ${name}`);
    return [...index.keys()];
  }

  /** Stores the object; returns the one it replaced. */
  upsert(object: T): T | undefined {
    const key = keyOf(object);
    const previous = this.#items.get(key);
    if (previous !== undefined) this.#unindex(key, previous);
    this.#items.set(key, object);
    for (const [name, index] of this.#indexers) this.#indexOne(name, index, key, object);
    return previous;
  }

  delete(key: string): T | undefined {
    const previous = this.#items.get(key);
    if (previous === undefined) return undefined;
    this.#unindex(key, previous);
    this.#items.delete(key);
    return previous;
  }

  /**
   * Replaces the whole content (a relist) and says what changed: objects no longer present are `deleted` — this is
   * how a deletion missed during a watch gap is noticed. An object counts as updated when its resourceVersion moved.
   */
  replace(objects: Iterable<T>): ReplaceDiff<T> {
    const diff: ReplaceDiff<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const object of objects) {
      const key = keyOf(object);
      seen.add(key);
      const previous = this.upsert(object);
      if (previous === undefined) diff.added.push(object);
      else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion)
        diff.updated.push({ previous, current: object });
    }
    for (const key of this.keys()) {
      if (!seen.has(key)) diff.deleted.push(this.delete(key)!);
    }
    return diff;
  }

  #indexOne(name: string, index: IndexFunc<T>, key: string, object: T): void {
    const values = this.#indices.get(name)!;
    for (const value of index(object)) {
      let keys = values.get(value);
      if (keys === undefined) values.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, index] of this.#indexers) {
      const values = this.#indices.get(name)!;
      for (const value of index(object)) {
        const keys = values.get(value);
        keys?.delete(key);
        if (keys?.size === 0) values.delete(value);
      }
    }
  }
}
