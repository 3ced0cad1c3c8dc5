// Live traffic for the console: the data plane's per-second increments (the `traffic` of its stats messages) turned
// into points — requests/s, error ratio, latency percentiles — kept for the last few minutes per route and backend.
// Routes and backends that saw no traffic in an interval get a zero point, so a chart falls back to zero when
// traffic stops rather than holding its last value.

import type { TrafficStats } from '../../shared/protocol/messages.ts';

export interface Point {
  /** Unix time, seconds. */
  t: number;
  rps: number;
  /** Share of requests answered with a 5xx (routes) or failed without a response (backends), 0..1. */
  errorRatio: number;
  /** Milliseconds; null when no request reached an upstream in the interval. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface TrafficTick {
  t: number;
  routes: Record<string, Point>;
  backends: Record<string, Point>;
}

/** The q-quantile of a histogram, interpolated within its bucket (as Prometheus' histogram_quantile does). */
export function quantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (seen + counts[i] >= rank && counts[i] > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - seen) / counts[i]);
    }
    seen += counts[i];
  }
  return bounds[bounds.length - 1];
}

function point(t: number, seconds: number, count: number, errors: number, bounds: number[], latency: number[]): Point {
  const ms = (q: number) => {
    const v = quantile(q, bounds, latency);
    return v === null ? null : Math.round(v * 1e5) / 100;
  };
  return {
    t,
    rps: Math.round((count / seconds) * 100) / 100,
    errorRatio: count === 0 ? 0 : Math.round((errors / count) * 1e4) / 1e4,
    p50: ms(0.5),
    p90: ms(0.9),
    p99: ms(0.99),
  };
}

export class TrafficHistory {
  readonly #keep: number;
  readonly #ticks: TrafficTick[] = [];
  /** Keys seen in the kept window, with the tick they were last busy: they get zero points while idle, then go. */
  readonly #routes = new Map<string, number>();
  readonly #backends = new Map<string, number>();
  #count = 0;

  constructor(keepSeconds = 180) {
    this.#keep = keepSeconds;
  }

  /** Adds one stats message's traffic; returns the tick it made. */
  add(traffic: TrafficStats, now: Date): TrafficTick {
    const t = Math.round(now.getTime() / 100) / 10;
    const seconds = Math.max(traffic.intervalMs, 1) / 1000;
    const tick: TrafficTick = { t, routes: {}, backends: {} };
    const n = ++this.#count;
    for (const r of traffic.routes) {
      this.#routes.set(r.route, n);
      tick.routes[r.route] = point(t, seconds, r.requests, r.errors, traffic.bucketsSeconds, r.latency);
    }
    for (const b of traffic.backends) {
      this.#backends.set(b.backend, n);
      const attempts = b.responses + b.errors;
      tick.backends[b.backend] = point(t, seconds, attempts, b.errors, traffic.bucketsSeconds, b.latency);
    }
    const idle = (): Point => ({ t, rps: 0, errorRatio: 0, p50: null, p90: null, p99: null });
    for (const [keys, points] of [
      [this.#routes, tick.routes],
      [this.#backends, tick.backends],
    ] as const) {
      for (const [key, busy] of keys) {
        if (n - busy >= this.#keep) keys.delete(key);
        else points[key] ??= idle();
      }
    }
    this.#ticks.push(tick);
    if (this.#ticks.length > this.#keep) this.#ticks.shift();
    return tick;
  }

  ticks(): readonly TrafficTick[] {
    return this.#ticks;
  }
}
