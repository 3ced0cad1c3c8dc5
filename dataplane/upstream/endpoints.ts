// Endpoint choice within one backend: plain round robin when every endpoint has the same weight (the common case,
// from EndpointSlices), smooth weighted round robin otherwise. Deterministic, so a test can count the spread.

import type { Endpoint } from '../../shared/ir/backend.ts';

export class EndpointPicker<T> {
  readonly #items: T[];
  readonly #weights: number[] | null;
  readonly #current: number[];
  readonly #total: number;
  #next = 0;

  constructor(items: T[], endpoints: Endpoint[]) {
    const weights = endpoints.map((e) => e.weight ?? 1);
    const uniform = weights.every((w) => w === weights[0]) && weights[0] !== 0;
    // Drop zero-weight endpoints up front: they must never be picked.
    const kept = items.filter((_, i) => weights[i] > 0);
    this.#items = kept;
    this.#weights = uniform ? null : weights.filter((w) => w > 0);
    this.#current = new Array(kept.length).fill(0);
    this.#total = uniform ? kept.length : (this.#weights as number[]).reduce((a, b) => a + b, 0);
  }

  get size(): number {
    return this.#items.length;
  }

  /** The next endpoint, or undefined when there is none. */
  pick(): T | undefined {
    const n = this.#items.length;
    if (n === 0) return undefined;
    if (this.#weights === null) {
      const item = this.#items[this.#next];
      this.#next = this.#next + 1 === n ? 0 : this.#next + 1;
      return item;
    }
    // Smooth weighted round robin (as in nginx): spread heavy endpoints evenly instead of in bursts.
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.#current[i] += this.#weights[i];
      if (this.#current[i] > this.#current[best]) best = i;
    }
    this.#current[best] -= this.#total;
    return this.#items[best];
  }
}
