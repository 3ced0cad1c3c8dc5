// Traffic for the stats message: what each route and backend served since the previous message, summed over the
// shards' windows (each shard's metrics keep the increments since they were last taken: dataplane/shard/metrics.ts).
// Only busy routes and backends appear. It keeps nothing between messages and nothing per request.

import type { TrafficStats } from '../../shared/protocol/messages.ts';
import { LATENCY_BUCKETS } from '../shard/metrics.ts';
import type { ShardTraffic } from '../shard/metrics.ts';

type Entry = ShardTraffic['routes'][number];

function sum(parts: ReadonlyArray<readonly Entry[]>): Map<string, Entry> {
  const total = new Map<string, Entry>();
  for (const entries of parts) {
    for (const e of entries) {
      const t = total.get(e.key);
      if (t === undefined) total.set(e.key, { ...e, latency: [...e.latency] });
      else {
        t.count += e.count;
        t.errors += e.errors;
        for (let i = 0; i < t.latency.length; i++) t.latency[i] += e.latency[i] ?? 0;
      }
    }
  }
  return total;
}

export class TrafficCounter {
  #lastAt = performance.now();

  /** The stats message's traffic from the windows the shards answered with (a shard that did not answer: none). */
  next(shards: ReadonlyArray<ShardTraffic | null>): TrafficStats {
    const now = performance.now();
    const answered = shards.filter((s): s is ShardTraffic => s !== null);
    const routes = sum(answered.map((s) => s.routes));
    const backends = sum(answered.map((s) => s.backends));
    const stats: TrafficStats = {
      intervalMs: Math.round(now - this.#lastAt),
      bucketsSeconds: LATENCY_BUCKETS,
      routes: [...routes.values()].map((e) => ({
        route: e.key,
        requests: e.count,
        errors: e.errors,
        latency: e.latency,
      })),
      backends: [...backends.values()].map((e) => ({
        backend: e.key,
        responses: e.count,
        errors: e.errors,
        latency: e.latency,
      })),
    };
    this.#lastAt = now;
    return stats;
  }
}
