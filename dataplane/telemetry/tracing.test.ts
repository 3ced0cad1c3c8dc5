// ShardTracing's calls, in the order the routing core makes them (README.md), against a capturing sink: span names,
// kinds, parent links, attributes and error marking. The spans over the wire, into a real Jaeger, are in
// test/observability/jaeger.test.ts.

import { expect } from 'chai';
import { SPAN_KIND, STATUS_CODE } from '../../shared/telemetry/span.ts';
import type { Span } from '../../shared/telemetry/span.ts';
import { ShardTracing } from './tracing.ts';
import type { ServerRequestInfo } from './tracing.ts';

const request: ServerRequestInfo = {
  method: 'GET',
  scheme: 'https',
  host: 'shop.example',
  port: 443,
  path: '/cart',
  query: 'a=1',
  protocolVersion: '2',
  clientAddress: '10.0.0.7',
  clientPort: 5555,
  listener: 'infra/gw/https',
  requestId: 'r-1',
  tlsVersion: '1.3',
  sni: 'shop.example',
};

function attrs(span: Span): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < span.attributes.length; i += 2) out[span.attributes[i] as string] = span.attributes[i + 1];
  return out;
}

function setup(ratio: number) {
  const ended: Span[] = [];
  const tracing = new ShardTracing(
    {
      endpoint: 'http://127.0.0.1:1', // never used: the sink below takes the spans
      sampler: { ratio, parentBased: true, parentRatio: 1 },
      attributes: { env: 'prod' },
    },
    3,
    { push: (s) => ended.push(s) > 0 },
  );
  return { tracing, ended };
}

describe('dataplane/telemetry/tracing', () => {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('a retried request: a server span continuing the caller, two client spans under it, the failed one in error', () => {
    const { tracing, ended } = setup(0);
    expect(tracing.sampled(parent)).to.equal(true);
    const server = tracing.serverSpan(parent, 'vendor=1', request, 1000);
    tracing.routed(server, { gateway: 'infra/gw', route: 'shop/cart', rule: '0', httpRoute: '/cart' });
    const attempt = {
      method: 'GET',
      scheme: 'http' as const,
      backend: 'shop/cart:80',
      address: '10.1.0.1',
      port: 8080,
      path: '/cart',
    };
    const first = tracing.upstreamSpan(server, { ...attempt, attempt: 1 }, 1001);
    tracing.endUpstream(first, 0, 'upstream_reset', 1002);
    const second = tracing.upstreamSpan(server, { ...attempt, attempt: 2 }, 1002);
    tracing.endUpstream(second, 200, undefined, 1010);
    tracing.endServer(server, 200, 1, undefined, 1011);

    expect(ended).to.deep.equal([first, second, server]);
    expect(server.traceId).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(server.parentSpanId).to.equal('00f067aa0ba902b7');
    expect(server.traceState).to.equal('vendor=1');
    expect(server.kind).to.equal(SPAN_KIND.server);
    expect(server.name).to.equal('GET /cart');
    expect(server.statusCode).to.equal(STATUS_CODE.unset);
    expect(attrs(server)).to.deep.include({
      'http.request.method': 'GET',
      'url.query': 'a=1',
      'http.request.header.x-request-id': ['r-1'],
      'tls.protocol.version': '1.3',
      'portico.route': 'shop/cart',
      'portico.rule': '0',
      'http.route': '/cart',
      'http.response.status_code': 200,
      'portico.retries': 1,
      env: 'prod',
    });
    for (const span of [first, second]) {
      expect(span.kind).to.equal(SPAN_KIND.client);
      expect(span.parentSpanId).to.equal(server.spanId);
      expect(span.traceId).to.equal(server.traceId);
      expect(span.traceparent()).to.equal(`00-${server.traceId}-${span.spanId}-01`);
    }
    expect(first.statusCode).to.equal(STATUS_CODE.error);
    expect(attrs(first)).to.include({ 'error.type': 'upstream_reset', 'portico.attempt': 1 });
    expect(attrs(first)['http.response.status_code']).to.equal(undefined);
    expect(attrs(second)).to.include({ 'http.response.status_code': 200, 'portico.attempt': 2 });
    expect(second.statusCode).to.equal(STATUS_CODE.unset);
  });

  it('starts a trace when there is no parent, and marks a 5xx server span and a 4xx client span as errors', () => {
    const { tracing } = setup(1);
    expect(tracing.sampled(undefined)).to.equal(true);
    const server = tracing.serverSpan(undefined, undefined, { ...request, method: 'PURGE' });
    expect(server.parentSpanId).to.equal('');
    expect(server.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(attrs(server)).to.include({ 'http.request.method': '_OTHER', 'http.request.method_original': 'PURGE' });
    const client = tracing.upstreamSpan(server, {
      method: 'PURGE',
      scheme: 'http',
      backend: 'b',
      address: '10.0.0.1',
      port: 80,
      path: '/',
      attempt: 1,
      mirror: true,
    });
    tracing.endUpstream(client, 404);
    tracing.endServer(server, 503, 0);
    expect(client.statusCode).to.equal(STATUS_CODE.error);
    expect(attrs(client)).to.include({ 'portico.mirror': true, 'error.type': '404' });
    expect(server.statusCode).to.equal(STATUS_CODE.error);
  });

  it('does not sample an unsampled parent under parent-based sampling, nor a new trace at 0 %', () => {
    const { tracing } = setup(0);
    expect(tracing.sampled('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')).to.equal(false);
    expect(tracing.sampled(undefined)).to.equal(false);
    expect(tracing.tracer.off).to.equal(false); // a sampled parent would still be traced
  });

  it("reports the exporter's counters as a shard metric", () => {
    const { tracing } = setup(1);
    const [metric] = tracing.metricsJson();
    expect(metric.name).to.equal('portico_tracing_spans_total');
    expect(metric.values.map((v) => v.labels.outcome)).to.deep.equal(['exported', 'dropped', 'failed']);
  });
});
