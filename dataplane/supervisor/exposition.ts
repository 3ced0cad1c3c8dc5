// The data plane's /metrics text, without prom-client in the supervisor: the shards hand their numbers over in
// prom-client's JSON form (shard/metrics.ts, telemetry/tracing.ts); here the series of every shard are summed by
// name and labels and written in the Prometheus text format (0.0.4). prom-client's module graph cost the
// supervisor's process ~15 MiB of resident memory for three metrics of its own and a sum (bench/RESULTS.md).

import type { MetricJson } from '../shard/metrics.ts';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One metric of each name, its series summed over the parts (the shards, the supervisor) by name and labels. */
export function sumMetrics(parts: readonly (readonly MetricJson[])[]): MetricJson[] {
  const byName = new Map<string, { metric: MetricJson; series: Map<string, MetricJson['values'][number]> }>();
  for (const part of parts) {
    for (const metric of part) {
      let entry = byName.get(metric.name);
      if (entry === undefined) {
        entry = { metric: { ...metric, values: [] }, series: new Map() };
        byName.set(metric.name, entry);
      }
      for (const value of metric.values) {
        const key = `${value.metricName ?? metric.name}${labelText(value.labels)}`;
        const seen = entry.series.get(key);
        if (seen === undefined) entry.series.set(key, { ...value });
        else seen.value += value.value;
      }
    }
  }
  return [...byName.values()].map(({ metric, series }) => ({ ...metric, values: [...series.values()] }));
}

function escapeLabel(value: string | number): string {
  return String(value).replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function labelText(labels: Record<string, string | number>): string {
  const pairs = Object.entries(labels);
  return pairs.length === 0 ? '' : `{${pairs.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** The Prometheus text format of `metrics`: HELP and TYPE, then one line per series. */
export function renderMetrics(metrics: readonly MetricJson[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`);
    lines.push(`# TYPE ${metric.name} ${metric.type}`);
    for (const value of metric.values)
      lines.push(`${value.metricName ?? metric.name}${labelText(value.labels)} ${numberText(value.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The supervisor's own metrics. */
export class SupervisorMetrics {
  /** Config generation in force. */
  generation = 0;
  /** Shards serving the generation in force. */
  shardsReady = 0;
  readonly #applies = new Map<string, number>();

  /** Counts one config message by outcome (ack, or the nack reason). */
  applied(outcome: string): void {
    this.#applies.set(outcome, (this.#applies.get(outcome) ?? 0) + 1);
  }

  toJson(): MetricJson[] {
    return [
      {
        name: 'portico_dataplane_generation',
        help: 'Config generation in force.',
        type: 'gauge',
        aggregator: 'sum',
        values: [{ labels: {}, value: this.generation }],
      },
      {
        name: 'portico_dataplane_config_total',
        help: 'Config messages by outcome (ack, or the nack reason).',
        type: 'counter',
        aggregator: 'sum',
        values: [...this.#applies].map(([outcome, value]) => ({ labels: { outcome }, value })),
      },
      {
        name: 'portico_dataplane_shards_ready',
        help: 'Shards serving the generation in force.',
        type: 'gauge',
        aggregator: 'sum',
        values: [{ labels: {}, value: this.shardsReady }],
      },
    ];
  }
}
