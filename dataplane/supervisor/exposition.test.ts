import { expect } from 'chai';
import type { Registry } from 'prom-client';
import type { MetricJson } from '../shard/metrics.ts';
import { SupervisorMetrics, renderMetrics, sumMetrics } from './exposition.ts';

/** Each line of a text exposition, in a set (the order of series is not part of the format's meaning). */
const parsePrometheus = (text: string) => new Set(text.split('\n').filter((line) => line !== ''));

const shard = (code: string, value: number, seconds: number): MetricJson[] => [
  {
    name: 'portico_http_requests_total',
    help: 'Responses.',
    type: 'counter',
    aggregator: 'sum',
    values: [{ labels: { listener: 'ns/gw/http', route: 'ns/r"1', code }, value }],
  },
  {
    name: 'portico_upstream_response_seconds',
    help: 'Time.',
    type: 'histogram',
    aggregator: 'sum',
    values: [
      { labels: { backend: 'b', le: 0.1 }, value: 1, metricName: 'portico_upstream_response_seconds_bucket' },
      { labels: { backend: 'b', le: '+Inf' }, value: 2, metricName: 'portico_upstream_response_seconds_bucket' },
      { labels: { backend: 'b' }, value: seconds, metricName: 'portico_upstream_response_seconds_sum' },
      { labels: { backend: 'b' }, value: 2, metricName: 'portico_upstream_response_seconds_count' },
    ],
  },
];

describe('data plane /metrics exposition', () => {
  it('sums the shards series by name and labels and writes what prom-client writes for the same numbers', async () => {
    const summed = sumMetrics([shard('200', 3, 0.5), shard('200', 4, 0.25), shard('503', 1, 0)]);
    const text = renderMetrics(summed);
    expect(text).to.include('portico_http_requests_total{listener="ns/gw/http",route="ns/r\\"1",code="200"} 7\n');
    expect(text).to.include('portico_http_requests_total{listener="ns/gw/http",route="ns/r\\"1",code="503"} 1\n');
    expect(text).to.include('portico_upstream_response_seconds_bucket{backend="b",le="+Inf"} 6\n');
    expect(text).to.include('portico_upstream_response_seconds_sum{backend="b"} 0.75\n');
    // The reference: prom-client's own aggregation and text of the same parts (still a dependency of the operator).
    const { AggregatorRegistry } = await import('prom-client');
    const reference = await (
      AggregatorRegistry.aggregate([
        shard('200', 3, 0.5),
        shard('200', 4, 0.25),
        shard('503', 1, 0),
      ] as never) as Registry
    ).metrics();
    expect(parsePrometheus(text)).to.deep.equal(parsePrometheus(reference));
  });

  it("writes the supervisor's own metrics", () => {
    const own = new SupervisorMetrics();
    own.generation = 7;
    own.shardsReady = 2;
    own.applied('ack');
    own.applied('ack');
    own.applied('Invalid');
    const text = renderMetrics(sumMetrics([own.toJson()]));
    expect(text).to.include('# TYPE portico_dataplane_generation gauge\nportico_dataplane_generation 7\n');
    expect(text).to.include('portico_dataplane_config_total{outcome="ack"} 2\n');
    expect(text).to.include('portico_dataplane_config_total{outcome="Invalid"} 1\n');
    expect(text).to.include('portico_dataplane_shards_ready 2\n');
  });
});
