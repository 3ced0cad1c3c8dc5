// Metrics of one shard, in its own prom-client registry; the supervisor aggregates the registries of all shards
// (prom-client's AggregatorRegistry) when /metrics is scraped. Children are cached per label set so that the request
// path does a few map lookups and an increment, and builds no label strings.

import { Counter, Histogram, Registry } from 'prom-client';
import type { HttpMetrics } from '../http/metrics.ts';

type Child = { inc(value?: number): void };
type Observer = { observe(value: number): void };

function nested<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

export class ShardMetrics implements HttpMetrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: 'portico_http_requests_total',
    help: 'Responses sent by the gateway, by listener, route and status code.',
    labelNames: ['listener', 'route', 'code'] as const,
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: 'portico_upstream_response_seconds',
    help: 'Time from the first upstream attempt to the upstream response headers.',
    labelNames: ['backend'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #upstreamErrors = new Counter({
    name: 'portico_upstream_errors_total',
    help: 'Upstream requests that failed without a response, by backend and error code.',
    labelNames: ['backend', 'code'] as const,
    registers: [this.registry],
  });
  readonly #mirrors = new Counter({
    name: 'portico_mirror_requests_total',
    help: 'Mirrored requests by backend and outcome (sent, failed, skipped for requests with a body).',
    labelNames: ['backend', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #requestChildren = new Map<string, Map<string, Map<number, Child>>>();
  readonly #latencyChildren = new Map<string, Observer>();

  response(listenerKey: string, route: string, status: number): void {
    const byRoute = nested(this.#requestChildren, listenerKey, () => new Map<string, Map<number, Child>>());
    const byCode = nested(byRoute, route, () => new Map<number, Child>());
    let child = byCode.get(status);
    if (child === undefined) byCode.set(status, (child = this.#requests.labels(listenerKey, route, String(status))));
    child.inc();
  }

  upstreamResponse(backendKey: string, _status: number, seconds: number): void {
    nested(this.#latencyChildren, backendKey, () => this.#latency.labels(backendKey)).observe(seconds);
  }

  upstreamError(backendKey: string, code: string): void {
    this.#upstreamErrors.labels(backendKey, code).inc();
  }

  mirror(backendKey: string, outcome: 'sent' | 'failed' | 'skipped'): void {
    this.#mirrors.labels(backendKey, outcome).inc();
  }
}
