// Which entries (routes, Gateways) read which dependency keys (context-index.ts), so that a change to some keys
// finds what to translate again without looking at anything else.

export class Dependents {
  readonly #byKey = new Map<string, Set<string>>();
  readonly #keysOf = new Map<string, readonly string[]>();

  /** `entry` now reads exactly `keys`. */
  set(entry: string, keys: Iterable<string>): void {
    this.delete(entry);
    const list = [...keys];
    if (list.length === 0) return;
    this.#keysOf.set(entry, list);
    for (const key of list) {
      let entries = this.#byKey.get(key);
      if (entries === undefined) this.#byKey.set(key, (entries = new Set()));
      entries.add(entry);
    }
  }

  delete(entry: string): void {
    const keys = this.#keysOf.get(entry);
    if (keys === undefined) return;
    this.#keysOf.delete(entry);
    for (const key of keys) {
      const entries = this.#byKey.get(key);
      entries?.delete(entry);
      if (entries?.size === 0) this.#byKey.delete(key);
    }
  }

  /** Calls `found` for each entry that reads one of `changed` (an entry may be reported more than once). */
  collect(changed: Iterable<string>, found: (entry: string) => void): void {
    for (const key of changed) for (const entry of this.#byKey.get(key) ?? []) found(entry);
  }
}
