// The fuzzer's seeded choices and the names every generated set shares.

import { seeded } from '../../shared/testing/random-ir.ts';

export const CONTROLLER = 'portico.dev/gateway-controller';
export const GROUP = 'gateway.networking.k8s.io';

export class Draw {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seeded(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}
