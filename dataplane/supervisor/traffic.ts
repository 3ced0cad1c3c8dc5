// Traffic for the stats message: what each route and backend served since the previous message, summed over the
// shards. Reads the shards' own metrics (the JSON each shard answers a `metrics` request with, as for /metrics), so
// the request path pays nothing for it; keeps the previous totals per shard and sends the increments of the entries
// that moved. A total that went down (a shard restarted, a removed route forgotten) counts from zero again.
// It must not keep anything per request or block the supervisor: one pass over the shards' numbers per message.

import type { TrafficStats } from '../../shared/protocol/messages.ts';
import { LATENCY_BUCKETS } from '../shard/metrics.ts';
import type { MetricJson } from '../shard/metrics.ts';

interface Totals {
  count: number;
  errors: number;
  /** Per bucket (not cumulative), the last slot above the last bound. */
  latency: number[];
}

type ShardTotals = { routes: Map<string, Totals>; backends: Map<string, Totals> };

const SLOTS = LATENCY_BUCKETS.length + 1;

function entry(map: Map<string, Totals>, key: string): Totals {
  let t = map.get(key);
  if (t === undefined) map.set(key, (t = { count: 0, errors: 0, latency: new Array<number>(SLOTS).fill(0) }));
  return t;
}

/** Cumulative `_bucket` samples (by `le`) into per-bucket counts of `into`. */
function addBuckets(metric: MetricJson | undefined, label: string, map: Map<string, Totals>): void {
  if (metric === undefined) return;
  const cumulative = new Map<string, number[]>();
  for (const v of metric.values) {
    if (v.metricName !== `${metric.name}_bucket`) continue;
    const key = String(v.labels[label]);
    let list = cumulative.get(key);
    if (list === undefined) cumulative.set(key, (list = new Array<number>(SLOTS).fill(0)));
    const le = v.labels.le;
    const slot = le === '+Inf' ? SLOTS - 1 : LATENCY_BUCKETS.indexOf(Number(le));
    if (slot >= 0) list[slot] = v.value;
  }
  for (const [key, list] of cumulative) {
    const t = entry(map, key);
    for (let i = 0; i < SLOTS; i++) t.latency[i] = list[i] - (i > 0 ? list[i - 1] : 0);
  }
}

/** One shard's metrics JSON into totals by route and backend. */
export function readShardTotals(metrics: readonly MetricJson[]): ShardTotals {
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const routes = new Map<string, Totals>();
  const backends = new Map<string, Totals>();
  for (const v of byName.get('portico_http_requests_total')?.values ?? []) {
    const t = entry(routes, String(v.labels.route));
    t.count += v.value;
    if (Number(v.labels.code) >= 500) t.errors += v.value;
  }
  addBuckets(byName.get('portico_route_response_seconds'), 'route', routes);
  addBuckets(byName.get('portico_upstream_response_seconds'), 'backend', backends);
  for (const t of backends.values()) t.count = t.latency.reduce((a, b) => a + b, 0);
  for (const v of byName.get('portico_upstream_errors_total')?.values ?? [])
    entry(backends, String(v.labels.backend)).errors += v.value;
  return { routes, backends };
}

function increments(now: Map<string, Totals>, before: Map<string, Totals> | undefined, sum: Map<string, Totals>) {
  for (const [key, t] of now) {
    const b = before?.get(key);
    const reset =
      b !== undefined && (t.count < b.count || t.errors < b.errors || t.latency.some((x, i) => x < b.latency[i]));
    const base = b === undefined || reset ? undefined : b;
    if (base !== undefined && t.count === base.count && t.errors === base.errors) {
      if (t.latency.every((x, i) => x === base.latency[i])) continue;
    }
    const s = entry(sum, key);
    s.count += t.count - (base?.count ?? 0);
    s.errors += t.errors - (base?.errors ?? 0);
    for (let i = 0; i < SLOTS; i++) s.latency[i] += t.latency[i] - (base?.latency[i] ?? 0);
  }
}

export class TrafficCounter {
  /** The totals each shard reported last time it answered. */
  readonly #previous = new Map<number, ShardTotals>();
  #lastAt = performance.now();

  /**
   * The increments since the previous call. `shards[i]` is shard i's metrics JSON, or an empty array when it did not
   * answer in time (its previous totals are kept, so its traffic shows up next time rather than twice).
   */
  next(shards: readonly unknown[]): TrafficStats {
    const now = performance.now();
    const routes = new Map<string, Totals>();
    const backends = new Map<string, Totals>();
    shards.forEach((json, shard) => {
      if (!Array.isArray(json) || json.length === 0) return;
      const totals = readShardTotals(json as MetricJson[]);
      const before = this.#previous.get(shard);
      increments(totals.routes, before?.routes, routes);
      increments(totals.backends, before?.backends, backends);
      this.#previous.set(shard, totals);
    });
    const stats: TrafficStats = {
      intervalMs: Math.round(now - this.#lastAt),
      bucketsSeconds: LATENCY_BUCKETS,
      routes: [...routes].map(([route, t]) => ({ route, requests: t.count, errors: t.errors, latency: t.latency })),
      backends: [...backends].map(([backend, t]) => ({
        backend,
        responses: t.count,
        errors: t.errors,
        latency: t.latency,
      })),
    };
    this.#lastAt = now;
    return stats;
  }
}
