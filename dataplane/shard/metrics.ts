// Metrics of one shard. The request path only increments plain numbers (a few map lookups, no label strings built,
// no prom-client call: prom-client hashes its labels on every increment, which showed up in profiles). At scrape
// time the shard turns its numbers into prom-client's JSON form; the supervisor sums the shards with prom-client's
// AggregatorRegistry and renders the exposition text.
// Per-route latency (for /metrics and the console's live charts) comes through `routeLatency`, the one call a front end
// needs; a front end that reports `upstreamResponse` and then `response` for the same request in one synchronous step
// (the Fastify path does) gets it without calling it: the upstream time is paired with the route of the response.
//
// Live traffic (the console): besides the totals, the same calls add to a window of increments per route and backend,
// which the supervisor takes every second with a `traffic` request on the shard's port. The shard's metrics answer it
// themselves (see the constructor), so that no front end or message loop needs to know; a window entry is allocated
// once per busy route or backend per second, never per request. Taking it costs what was busy, not what exists
// (measured on the 2-core test machine, 10k routes and backends: prom-client's JSON and its copy to the supervisor
// took 0.5-2 s per shard; taking a window with 1,000 busy routes, about 1 ms; with all 10k busy, about 18 ms).

import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { AuthOutcome, HttpMetrics } from '../http/metrics.ts';
import type { StreamMetrics } from '../l4/metrics.ts';
import type { ConnectionMetrics } from './connection-limits.ts';

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  buckets: Float64Array; // per bucket (not cumulative); the last slot is +Inf
  sum: number;
  count: number;
}

/** prom-client's MetricObjectWithValues, as `Registry.getMetricsAsJSON()` returns and `AggregatorRegistry` takes. */
export interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'histogram' | 'gauge';
  aggregator: 'sum';
  values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

function newHistogram(): Histogram {
  return { buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
}

function observe(h: Histogram, seconds: number): void {
  const i = bucketOf(seconds);
  h.buckets[i]++;
  h.sum += seconds;
  h.count++;
}

/** Adds one histogram per label value to a prom-client JSON histogram (cumulative buckets, then sum and count). */
function pushHistogram(into: MetricJson, labels: Record<string, string>, h: Histogram): void {
  const bucket = `${into.name}_bucket`;
  let cumulative = 0;
  LATENCY_BUCKETS.forEach((le, i) => {
    cumulative += h.buckets[i];
    into.values.push({ labels: { ...labels, le }, value: cumulative, metricName: bucket });
  });
  into.values.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: bucket });
  into.values.push({ labels, value: h.sum, metricName: `${into.name}_sum` });
  into.values.push({ labels, value: h.count, metricName: `${into.name}_count` });
}

/** Increments since the last take, for one route or backend. `latency` per bucket, like Histogram.buckets. */
interface WindowEntry {
  count: number;
  errors: number;
  latency: Float64Array;
}

/** What a shard served since the supervisor's previous `traffic` request (the console's live charts). */
export interface ShardTraffic {
  routes: Array<{ key: string; count: number; errors: number; latency: number[] }>;
  backends: Array<{ key: string; count: number; errors: number; latency: number[] }>;
}

/** Supervisor → shard, and the answer: outside the shard's own message types, answered by ShardMetrics itself. */
export interface TrafficRequest {
  type: 'traffic';
  requestId: number;
}
export interface TrafficReply {
  type: 'traffic';
  requestId: number;
  traffic: ShardTraffic;
}

function windowEntry(map: Map<string, WindowEntry>, key: string): WindowEntry {
  let e = map.get(key);
  if (e === undefined)
    map.set(key, (e = { count: 0, errors: 0, latency: new Float64Array(LATENCY_BUCKETS.length + 1) }));
  return e;
}

function bucketOf(seconds: number): number {
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
  return i;
}

function takeWindow(map: Map<string, WindowEntry>): ShardTraffic['routes'] {
  const out: ShardTraffic['routes'] = [];
  for (const [key, e] of map) out.push({ key, count: e.count, errors: e.errors, latency: Array.from(e.latency) });
  map.clear();
  return out;
}

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function nested<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

export class ShardMetrics implements HttpMetrics, StreamMetrics, ConnectionMetrics {
  /** listener → route → status → count */
  readonly #responses = new Map<string, Map<string, Map<number, number>>>();
  readonly #latency = new Map<string, Histogram>();
  /** route → time from the first upstream attempt to the upstream response, for requests that reached one */
  readonly #routeLatency = new Map<string, Histogram>();
  /** The upstream time of the request being reported, until its `response` names the route (-1: none). */
  #pendingSeconds = -1;
  /** backend → code → count */
  readonly #upstreamErrors = new Map<string, Map<string, number>>();
  readonly #mirrors = new Map<string, Map<string, number>>();
  /** listener → route → outcome → count */
  readonly #streams = new Map<string, Map<string, Map<string, number>>>();
  /** listening socket → reason → connections refused by a connection limit */
  readonly #refused = new Map<string, Map<string, number>>();
  /** listening socket → open client connections */
  readonly #active = new Map<string, number>();
  /** listener → route → authorizer → outcome → external-authorization calls */
  readonly #extAuthz = new Map<string, Map<string, Map<string, Map<AuthOutcome, number>>>>();
  /** authorizer → time the authorizer took to decide (or to fail) */
  readonly #extAuthzLatency = new Map<string, Histogram>();
  /** listener → UDP sessions evicted from a full table */
  readonly #udpEvicted = new Map<string, number>();
  /** Increments since the last `takeTraffic`, by route and by backend. */
  readonly #windowRoutes = new Map<string, WindowEntry>();
  readonly #windowBackends = new Map<string, WindowEntry>();

  /**
   * `port`: where `traffic` requests come from and go back (the shard's parentPort by default; null in tests). The
   * shard's own message handler ignores message types it does not know, and closing the port stops this too.
   */
  constructor(port: MessagePort | null = parentPort) {
    port?.on('message', (message: TrafficRequest | { type?: unknown }) => {
      if (message?.type !== 'traffic') return;
      const reply: TrafficReply = {
        type: 'traffic',
        requestId: (message as TrafficRequest).requestId,
        traffic: this.takeTraffic(),
      };
      port.postMessage(reply);
    });
  }

  /** The increments since the previous call (the busy routes and backends only), and a fresh window. */
  takeTraffic(): ShardTraffic {
    return { routes: takeWindow(this.#windowRoutes), backends: takeWindow(this.#windowBackends) };
  }

  connectionRefused(socketKey: string, reason: 'shard' | 'listener'): void {
    bump(
      nested(this.#refused, socketKey, () => new Map<string, number>()),
      reason,
    );
  }

  activeConnections(socketKey: string, count: number): void {
    if (count === 0) this.#active.delete(socketKey);
    else this.#active.set(socketKey, count);
  }

  udpSessionEvicted(listenerKey: string): void {
    bump(this.#udpEvicted, listenerKey);
  }

  streamConnection(listenerKey: string, route: string, outcome: 'forwarded' | 'refused' | 'failed' | 'idle'): void {
    bump(
      nested(
        nested(this.#streams, listenerKey, () => new Map<string, Map<string, number>>()),
        route,
        () => new Map<string, number>(),
      ),
      outcome,
    );
  }

  response(listenerKey: string, route: string, status: number): void {
    if (this.#pendingSeconds >= 0) {
      if (route !== '') this.routeLatency(route, this.#pendingSeconds);
      this.#pendingSeconds = -1;
    }
    const w = windowEntry(this.#windowRoutes, route);
    w.count++;
    if (status >= 500) w.errors++;
    const byRoute = nested(this.#responses, listenerKey, () => new Map<string, Map<number, number>>());
    bump(
      nested(byRoute, route, () => new Map<number, number>()),
      status,
    );
  }

  upstreamResponse(backendKey: string, _status: number, seconds: number): void {
    observe(nested(this.#latency, backendKey, newHistogram), seconds);
    this.#pendingSeconds = seconds;
    const w = windowEntry(this.#windowBackends, backendKey);
    w.count++;
    w.latency[bucketOf(seconds)]++;
  }

  /** One request of `route` (`namespace/name`) got its upstream response after `seconds`. */
  routeLatency(route: string, seconds: number): void {
    observe(nested(this.#routeLatency, route, newHistogram), seconds);
    windowEntry(this.#windowRoutes, route).latency[bucketOf(seconds)]++;
  }

  upstreamError(backendKey: string, code: string): void {
    windowEntry(this.#windowBackends, backendKey).errors++;
    bump(
      nested(this.#upstreamErrors, backendKey, () => new Map<string, number>()),
      code,
    );
  }

  mirror(backendKey: string, outcome: 'sent' | 'failed' | 'skipped'): void {
    bump(
      nested(this.#mirrors, backendKey, () => new Map<string, number>()),
      outcome,
    );
  }

  extAuthz(listenerKey: string, route: string, authorizer: string, outcome: AuthOutcome, seconds: number): void {
    const byRoute = nested(this.#extAuthz, listenerKey, () => new Map<string, Map<string, Map<AuthOutcome, number>>>());
    bump(
      nested(
        nested(byRoute, route, () => new Map<string, Map<AuthOutcome, number>>()),
        authorizer,
        () => new Map<AuthOutcome, number>(),
      ),
      outcome,
    );
    observe(nested(this.#extAuthzLatency, authorizer, newHistogram), seconds);
  }

  /**
   * Drops the series of listeners, routes and backends a generation removed, so that churn (routes created and
   * deleted all day) does not grow the metrics without bound. Prometheus sees those series end, as it should.
   */
  forget(removed: { listeners: readonly string[]; routes: readonly string[]; backends: readonly string[] }): void {
    for (const listener of removed.listeners) {
      this.#responses.delete(listener);
      this.#streams.delete(listener);
      this.#udpEvicted.delete(listener);
      this.#extAuthz.delete(listener);
    }
    if (removed.routes.length > 0) {
      for (const byRoute of this.#responses.values()) for (const route of removed.routes) byRoute.delete(route);
      for (const byRoute of this.#streams.values()) for (const route of removed.routes) byRoute.delete(route);
      for (const byRoute of this.#extAuthz.values()) for (const route of removed.routes) byRoute.delete(route);
      for (const route of removed.routes) {
        this.#routeLatency.delete(route);
        this.#windowRoutes.delete(route);
      }
    }
    for (const backend of removed.backends) {
      this.#windowBackends.delete(backend);
      this.#latency.delete(backend);
      this.#upstreamErrors.delete(backend);
      this.#mirrors.delete(backend);
      this.#extAuthzLatency.delete(backend);
      for (const byRoute of this.#extAuthz.values())
        for (const byAuthorizer of byRoute.values()) byAuthorizer.delete(backend);
    }
  }

  toJson(): MetricJson[] {
    const requests: MetricJson = {
      name: 'portico_http_requests_total',
      help: 'Responses sent by the gateway, by listener, route and status code.',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    for (const [listener, byRoute] of this.#responses) {
      for (const [route, byCode] of byRoute)
        for (const [code, value] of byCode) requests.values.push({ labels: { listener, route, code }, value });
    }
    const latency: MetricJson = {
      name: 'portico_upstream_response_seconds',
      help: 'Time from the first upstream attempt to the upstream response.',
      type: 'histogram',
      aggregator: 'sum',
      values: [],
    };
    for (const [backend, h] of this.#latency) pushHistogram(latency, { backend }, h);
    const routeLatency: MetricJson = {
      name: 'portico_route_response_seconds',
      help: 'Time from the first upstream attempt to the upstream response, by route.',
      type: 'histogram',
      aggregator: 'sum',
      values: [],
    };
    for (const [route, h] of this.#routeLatency) pushHistogram(routeLatency, { route }, h);
    const errors: MetricJson = {
      name: 'portico_upstream_errors_total',
      help: 'Upstream requests that failed without a response, by backend and error code.',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    for (const [backend, byCode] of this.#upstreamErrors)
      for (const [code, value] of byCode) errors.values.push({ labels: { backend, code }, value });
    const mirrors: MetricJson = {
      name: 'portico_mirror_requests_total',
      help: 'Mirrored requests by backend and outcome (sent, failed, skipped for requests with a body).',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    for (const [backend, byOutcome] of this.#mirrors)
      for (const [outcome, value] of byOutcome) mirrors.values.push({ labels: { backend, outcome }, value });
    const streams: MetricJson = {
      name: 'portico_stream_connections_total',
      help: 'TCP/TLS connections and UDP sessions by listener, route and outcome (forwarded, refused, failed; idle: closed by the idle timeout).',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    for (const [listener, byRoute] of this.#streams) {
      for (const [route, byOutcome] of byRoute)
        for (const [outcome, value] of byOutcome) streams.values.push({ labels: { listener, route, outcome }, value });
    }
    const refused: MetricJson = {
      name: 'portico_connections_refused_total',
      help: 'Client connections closed at accept by a connection limit, by listening socket (address:port) and limit (shard, listener).',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    for (const [listener, byReason] of this.#refused)
      for (const [reason, value] of byReason) refused.values.push({ labels: { listener, reason }, value });
    const active: MetricJson = {
      name: 'portico_connections_active',
      help: 'Open client connections by listening socket (address:port), summed over shards.',
      type: 'gauge',
      aggregator: 'sum',
      values: [],
    };
    for (const [listener, value] of this.#active) active.values.push({ labels: { listener }, value });
    const evicted: MetricJson = {
      name: 'portico_udp_sessions_evicted_total',
      help: 'UDP sessions evicted (the least recently active) because the listener’s session table was full.',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    for (const [listener, value] of this.#udpEvicted) evicted.values.push({ labels: { listener }, value });
    const authz: MetricJson = {
      name: 'portico_ext_authz_requests_total',
      help:
        'External-authorization calls by listener, route (empty: a listener filter), authorizer (its backend) and ' +
        'outcome (allowed, denied, error).',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    for (const [listener, byRoute] of this.#extAuthz)
      for (const [route, byAuthorizer] of byRoute)
        for (const [authorizer, byOutcome] of byAuthorizer)
          for (const [outcome, value] of byOutcome)
            authz.values.push({ labels: { listener, route, authorizer, outcome }, value });
    const authzLatency: MetricJson = {
      name: 'portico_ext_authz_duration_seconds',
      help: 'Time an external authorizer took to decide (or to fail), by authorizer (its backend).',
      type: 'histogram',
      aggregator: 'sum',
      values: [],
    };
    for (const [authorizer, h] of this.#extAuthzLatency) pushHistogram(authzLatency, { authorizer }, h);
    return [requests, latency, routeLatency, errors, mirrors, streams, refused, active, evicted, authz, authzLatency];
  }
}
