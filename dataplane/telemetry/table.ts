// A shard's tracing, per listener: the command-line default (`--otlp-endpoint`, `--trace-sampling`,
// `--trace-parent-based`) where no XTelemetryPolicy applies, and for each listener whose record carries one
// (shared/ir/tracing.ts) a ShardTracing of its own: its sampler, span name and attributes, and an exporter shared by
// every listener that sends to the same collector as the same service (one keep-alive connection each). A new
// generation calls `configure`; requests already traced keep the ShardTracing they started with, and an exporter no
// listener uses any more is shut down after a grace period, so their spans still go out.
// Must not: cost a request more than one Map lookup before the sampling decision (`of`); do I/O itself.

import type { Listener } from '../../shared/ir/listener.ts';
import type { ListenerTracing } from '../../shared/ir/tracing.ts';
import { REQUEST_HEADER_PREFIX } from '../../shared/telemetry/attributes.ts';
import type { SpanBatcher } from '../../shared/telemetry/batcher.ts';
import type { SpanSink } from '../../shared/telemetry/span.ts';
import { ShardTracing, newExporter } from './tracing.ts';
import type { MetricJson, TracingConfig } from './tracing.ts';

/** Portico's own default where neither a policy nor the command line says: 1 % of new traces, parent-based. */
export const DEFAULT_RATIO = 0.01;
/** How long an exporter no listener uses keeps running, for the spans of requests that started before the change. */
const RETIRE_MS = 30_000;

/**
 * The tracing config of a listener's record, over the command-line `defaults` field by field (the policy wins where it
 * says something); null when the listener traces nothing (mode Disabled, or a collector without a ready endpoint).
 */
export function configOf(record: ListenerTracing, defaults: TracingConfig | undefined): TracingConfig | null {
  if (record.mode !== 'Enabled' || record.endpoint === undefined) return null;
  const literal: Record<string, string> = {};
  const headerAttributes: Array<readonly [string, string]> = [];
  const copiedAttributes: Array<readonly [string, string]> = [];
  for (const a of record.attributes) {
    if ('literal' in a) literal[a.name] = a.literal;
    else if ('header' in a) headerAttributes.push([a.name, a.header]);
    else if (a.attribute.startsWith(REQUEST_HEADER_PREFIX))
      headerAttributes.push([a.name, a.attribute.slice(REQUEST_HEADER_PREFIX.length).toLowerCase()]);
    else copiedAttributes.push([a.name, a.attribute]);
  }
  return {
    endpoint: record.endpoint,
    headers: record.headers,
    serviceName: record.serviceName,
    spanName: record.spanName,
    sampler: {
      ratio: record.ratio ?? defaults?.sampler.ratio ?? DEFAULT_RATIO,
      parentBased: record.parentBased ?? defaults?.sampler.parentBased ?? true,
      parentRatio: record.parentRatio ?? 1,
    },
    attributes: literal,
    headerAttributes,
    copiedAttributes,
    maxQueue: defaults?.maxQueue,
    maxBatch: defaults?.maxBatch,
    intervalMs: defaults?.intervalMs,
  };
}

/** Listeners that export to the same collector, with the same headers and service name, share one exporter. */
function exporterKey(config: TracingConfig): string {
  return JSON.stringify([config.endpoint, config.headers ?? null, config.serviceName ?? null]);
}

export class TracingTable {
  readonly #shard: number;
  readonly #defaults: TracingConfig | undefined;
  readonly #default: ShardTracing | null;
  readonly #sink: SpanSink | undefined;
  /** Listener key → its tracing (null: traces nothing), for listeners whose record has a tracing record. */
  #byListener = new Map<string, ShardTracing | null>();
  #exporters = new Map<string, SpanBatcher>();
  readonly #retiring = new Set<SpanBatcher>();
  /** Counters of exporters already shut down, so that the totals never go back. */
  readonly #retired = { exported: 0, dropped: 0, failed: 0 };

  /** `sink`: where every ended span goes instead of an exporter (tests). */
  constructor(defaults: TracingConfig | undefined, shard: number, sink?: SpanSink) {
    this.#shard = shard;
    this.#defaults = defaults;
    this.#sink = sink;
    this.#default = defaults === undefined ? null : new ShardTracing(defaults, shard, sink).start();
  }

  /** The tracing of a request on listener `key` ('' before a listener is known); null: not traced. */
  of(key: string): ShardTracing | null {
    if (this.#byListener.size === 0) return this.#default;
    const tracing = this.#byListener.get(key);
    return tracing === undefined ? this.#default : tracing;
  }

  /** A generation's listeners: rebuilds the per-listener tracing, keeping the exporters still in use. */
  configure(listeners: Iterable<Listener>): void {
    const byListener = new Map<string, ShardTracing | null>();
    const exporters = new Map<string, SpanBatcher>();
    for (const listener of listeners) {
      if (listener.tracing === undefined) continue;
      const config = configOf(listener.tracing, this.#defaults);
      if (config === null) {
        byListener.set(listener.key, null);
        continue;
      }
      const key = exporterKey(config);
      let exporter = exporters.get(key) ?? this.#exporters.get(key);
      if (exporter === undefined) exporter = newExporter(config, this.#shard).start();
      exporters.set(key, exporter);
      byListener.set(listener.key, new ShardTracing(config, this.#shard, this.#sink, exporter));
    }
    for (const [key, exporter] of this.#exporters) if (!exporters.has(key)) this.#retire(exporter);
    this.#byListener = byListener;
    this.#exporters = exporters;
  }

  #retire(exporter: SpanBatcher): void {
    this.#retiring.add(exporter);
    setTimeout(() => void this.#shutdown(exporter), RETIRE_MS).unref();
  }

  async #shutdown(exporter: SpanBatcher, timeoutMs?: number): Promise<void> {
    if (!this.#retiring.delete(exporter)) return;
    await exporter.shutdown(timeoutMs);
    this.#retired.exported += exporter.stats.exported;
    this.#retired.dropped += exporter.stats.dropped;
    this.#retired.failed += exporter.stats.failed;
  }

  /** Every exporter of the shard (the default one, the policies' ones, those retiring). */
  #all(): SpanBatcher[] {
    const all = [...this.#exporters.values(), ...this.#retiring];
    if (this.#default !== null) all.push(this.#default.batcher);
    return all;
  }

  /** The exporters' counters for the shard's /metrics, summed (portico_tracing_spans_total{outcome}). */
  metricsJson(): MetricJson[] {
    const totals = { ...this.#retired };
    for (const exporter of this.#all()) {
      totals.exported += exporter.stats.exported;
      totals.dropped += exporter.stats.dropped;
      totals.failed += exporter.stats.failed;
    }
    return [
      {
        name: 'portico_tracing_spans_total',
        help: 'Spans by outcome: exported, dropped (queue full), failed (export request failed).',
        type: 'counter',
        aggregator: 'sum',
        values: [
          { labels: { outcome: 'exported' }, value: totals.exported },
          { labels: { outcome: 'dropped' }, value: totals.dropped },
          { labels: { outcome: 'failed' }, value: totals.failed },
        ],
      },
    ];
  }

  /** On drain: sends what every exporter holds, for up to `timeoutMs` each (in parallel). */
  async shutdown(timeoutMs?: number): Promise<void> {
    for (const exporter of this.#exporters.values()) this.#retiring.add(exporter);
    this.#exporters = new Map();
    this.#byListener = new Map();
    await Promise.all([
      ...[...this.#retiring].map((e) => this.#shutdown(e, timeoutMs)),
      this.#default?.shutdown(timeoutMs),
    ]);
  }
}
