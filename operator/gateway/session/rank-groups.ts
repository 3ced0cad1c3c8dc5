// Route ranks (routes.ts `assignRanks`) kept up to date route by route: a rank is the creation second plus the
// route's place among the routes created in that second, so a route coming or going changes the ranks of its own
// second's group only. The session (session.ts) asks after each run which ranks may have changed.

import { createdAt, nameOf, namespaceOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';

interface Member {
  id: string;
  ms: number;
  name: string;
}

/** Gateway API precedence (resources.ts `comparePrecedence`) on precomputed keys. */
function compare(a: Member, b: Member): number {
  return a.ms - b.ms || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export class RankGroups {
  /** Members of each second, in precedence order (once `take` has sorted in the newcomers). */
  readonly #groups = new Map<number, Member[]>();
  /** Newcomers of each second since the last `take`. */
  readonly #incoming = new Map<number, Member[]>();
  readonly #memberOf = new Map<string, { second: number; member: Member }>();
  readonly #dirty = new Set<number>();

  add(id: string, object: KubeObject): void {
    this.remove(id);
    const ms = createdAt(object);
    const member: Member = { id, ms, name: `${namespaceOf(object)}/${nameOf(object)}` };
    const second = Math.floor(ms / 1000);
    this.#memberOf.set(id, { second, member });
    const incoming = this.#incoming.get(second);
    if (incoming === undefined) this.#incoming.set(second, [member]);
    else incoming.push(member);
    this.#dirty.add(second);
  }

  remove(id: string): void {
    const entry = this.#memberOf.get(id);
    if (entry === undefined) return;
    this.#memberOf.delete(id);
    for (const list of [this.#groups.get(entry.second), this.#incoming.get(entry.second)]) {
      const at = list?.indexOf(entry.member) ?? -1;
      if (at !== -1) list!.splice(at, 1);
    }
    this.#dirty.add(entry.second);
  }

  /** The rank of every route of the groups that changed since the last call, by id. */
  take(): Map<string, number> {
    const ranks = new Map<string, number>();
    for (const second of this.#dirty) {
      const group = this.#merge(second);
      for (let i = 0; i < group.length; i++) ranks.set(group[i].id, second + i / group.length);
    }
    this.#dirty.clear();
    return ranks;
  }

  #merge(second: number): Member[] {
    const group = this.#groups.get(second) ?? [];
    const incoming = this.#incoming.get(second) ?? [];
    this.#incoming.delete(second);
    if (incoming.length > 16) {
      group.push(...incoming);
      group.sort(compare);
    } else {
      for (const member of incoming) {
        let low = 0;
        let high = group.length;
        while (low < high) {
          const mid = (low + high) >>> 1;
          if (compare(group[mid], member) <= 0) low = mid + 1;
          else high = mid;
        }
        group.splice(low, 0, member);
      }
    }
    if (group.length === 0) this.#groups.delete(second);
    else this.#groups.set(second, group);
    return group;
  }
}
