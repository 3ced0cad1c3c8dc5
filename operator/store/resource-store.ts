// The operator's view of the world: every object a provider (files, or the Kubernetes API) reported, by kind,
// namespace and name. Providers write to it; the reconciler reads consistent snapshots from it. It knows nothing of
// Gateway API semantics beyond the object key.

import { buildResourceSnapshot } from '../gateway/resources.ts';
import type { KubeObject, ResourceSnapshot } from '../gateway/resources.ts';

export function objectKey(object: KubeObject): string {
  const meta = object.metadata ?? {};
  return `${object.kind ?? ''}/${meta.namespace ?? ''}/${meta.name ?? ''}`;
}

export class ResourceStore {
  readonly #objects = new Map<string, KubeObject>();
  readonly #listeners = new Set<() => void>();
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
    for (const key of previousKeys) this.#objects.delete(key);
    for (const object of objects) {
      const key = objectKey(object);
      keys.add(key);
      this.#objects.set(key, object);
    }
    this.#changed();
    return keys;
  }

  upsert(object: KubeObject): void {
    this.#objects.set(objectKey(object), object);
    this.#changed();
  }

  delete(key: string): void {
    if (this.#objects.delete(key)) this.#changed();
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
