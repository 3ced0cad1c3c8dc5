// Traces into a real Jaeger v2: a request chain client → gateway → backend over real HTTP on loopback, each hop
// exporting its spans over OTLP/HTTP protobuf, then read back through Jaeger's query API with parent links and
// attributes checked.
// NOTE, until the routing core calls dataplane/telemetry: the "gateway" here is a stand-in HTTP server in this file
// that makes exactly the calls dataplane/telemetry/README.md prescribes (sampled → serverSpan → routed →
// upstreamSpan/endUpstream per attempt → endServer), through ShardTracing's real exporter. When the engine calls the
// module, this test should send its requests through a running Portico instead of the stand-in.

import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ShardTracing } from '../../dataplane/telemetry/tracing.ts';
import { SpanBatcher } from '../../shared/telemetry/batcher.ts';
import { otlpHttpSender } from '../../shared/telemetry/otlp-http.ts';
import { ALWAYS } from '../../shared/telemetry/sampler.ts';
import { SPAN_KIND, Tracer } from '../../shared/telemetry/span.ts';
import { Jaeger, buildJaeger, tagsOf } from './support/jaeger.ts';
import type { JaegerSpan, JaegerTrace } from './support/jaeger.ts';

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;

function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A Tracer with its own exporter, for the processes around the gateway (the test client, the backend). */
function serviceTracer(endpoint: string, serviceName: string): { tracer: Tracer; batcher: SpanBatcher } {
  const batcher = new SpanBatcher({
    resource: { attributes: { 'service.name': serviceName }, scope: { name: 'test', version: '0' } },
    send: otlpHttpSender({ endpoint }),
  });
  return { tracer: new Tracer({ sampler: ALWAYS }, batcher), batcher };
}

const byService = (trace: JaegerTrace, service: string) =>
  trace.spans.filter((s) => trace.processes[s.processID].serviceName === service);
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

describe('observability: spans of a request chain in a real Jaeger', function () {
  this.timeout(600_000); // the first run builds Jaeger (see README); later runs take seconds

  let jaeger: Jaeger;
  let backend: Server;
  let gateway: Server;
  let gatewayTracing: ShardTracing;
  let client: { tracer: Tracer; batcher: SpanBatcher };
  let backendTracing: { tracer: Tracer; batcher: SpanBatcher };
  const flakyCalls = new Map<string, number>();

  before(async () => {
    jaeger = await Jaeger.start(buildJaeger());
    client = serviceTracer(jaeger.otlpEndpoint, 'test-client');
    backendTracing = serviceTracer(jaeger.otlpEndpoint, 'test-backend');
    gatewayTracing = new ShardTracing(
      { endpoint: jaeger.otlpEndpoint, sampler: ALWAYS, attributes: { env: 'test' }, intervalMs: 100 },
      0,
    ).start();

    // The backend continues the trace it is given, and fails the first call of each /flaky request id with 503.
    backend = await listen((req, res) => {
      const { tracer } = backendTracing;
      const traceparent = req.headers.traceparent as string | undefined;
      const span = tracer.startServer(traceparent, req.headers.tracestate as string | undefined, `GET ${req.url}`);
      span.set('http.request.method', req.method ?? '').set('url.path', req.url ?? '');
      const id = String(req.headers['x-request-id']);
      const calls = (flakyCalls.get(id) ?? 0) + 1;
      flakyCalls.set(id, calls);
      const status = req.url === '/flaky' && calls === 1 ? 503 : 200;
      span.set('http.response.status_code', status);
      tracer.end(span);
      res.writeHead(status).end(status === 200 ? 'ok' : 'unavailable');
    });

    // The stand-in gateway: the calls of dataplane/telemetry/README.md, in order, with up to 2 attempts on 5xx.
    gateway = await listen(async (req, res) => {
      const traceparent = req.headers.traceparent as string | undefined;
      const tracestate = req.headers.tracestate as string | undefined;
      const path = req.url ?? '/';
      if (!gatewayTracing.sampled(traceparent)) {
        const upstream = await get(portOf(backend), path, { ...req.headers } as Record<string, string>);
        return void res.writeHead(upstream.status).end(upstream.body);
      }
      const server = gatewayTracing.serverSpan(traceparent, tracestate, {
        method: req.method ?? 'GET',
        scheme: 'http',
        host: 'gateway.test',
        port: portOf(gateway),
        path,
        query: '',
        protocolVersion: req.httpVersion,
        clientAddress: req.socket.remoteAddress ?? '',
        clientPort: req.socket.remotePort ?? 0,
        listener: 'default/gw/http',
        requestId: req.headers['x-request-id'] as string,
        userAgent: req.headers['user-agent'],
      });
      gatewayTracing.routed(server, { gateway: 'default/gw', route: 'default/chain', rule: '0', httpRoute: path });
      let status = 0;
      let attempt = 0;
      while (attempt < 2 && (status === 0 || status >= 500)) {
        attempt++;
        const span = gatewayTracing.upstreamSpan(server, {
          method: 'GET',
          scheme: 'http',
          backend: 'default/backend:80',
          address: '127.0.0.1',
          port: portOf(backend),
          path,
          attempt,
        });
        const headers: Record<string, string> = {
          traceparent: span.traceparent(),
          'x-request-id': req.headers['x-request-id'] as string,
        };
        if (tracestate !== undefined) headers.tracestate = tracestate;
        const upstream = await get(portOf(backend), path, headers);
        status = upstream.status;
        gatewayTracing.endUpstream(span, status);
      }
      gatewayTracing.endServer(server, status, attempt - 1);
      res.writeHead(status).end();
    });
  });

  after(async () => {
    try {
      await Promise.all([
        new Promise((resolve) => gateway?.close(resolve)),
        new Promise((resolve) => backend?.close(resolve)),
      ]);
      await gatewayTracing?.shutdown();
    } finally {
      await jaeger?.stop(); // even when the above failed: never leave Jaeger running
    }
  });

  /** The client's own span around one request through the gateway; returns the trace id. */
  async function call(path: string, requestId: string): Promise<{ traceId: string; clientSpanId: string }> {
    const span = client.tracer.startRoot(`GET ${path}`, SPAN_KIND.client);
    const res = await get(portOf(gateway), path, {
      traceparent: span.traceparent(),
      tracestate: 'portico=test',
      'x-request-id': requestId,
    });
    expect(res.status).to.equal(200);
    client.tracer.end(span);
    await Promise.all([client.batcher.flush(), backendTracing.batcher.flush(), gatewayTracing.batcher.flush()]);
    return { traceId: span.traceId, clientSpanId: span.spanId };
  }

  it('client → gateway server span → upstream client span → backend span, linked and attributed', async () => {
    const { traceId, clientSpanId } = await call('/chain', 'req-chain');
    const trace = await jaeger.waitForTrace(traceId, 4);
    expect(trace.spans).to.have.length(4);
    const [gatewaySpans, backendSpans] = [byService(trace, 'portico-gateway'), byService(trace, 'test-backend')];
    const server = gatewaySpans.find((s) => tagsOf(s)['span.kind'] === 'server');
    const upstream = gatewaySpans.find((s) => tagsOf(s)['span.kind'] === 'client');
    expect(server, 'gateway server span').to.not.equal(undefined);
    expect(upstream, 'gateway upstream span').to.not.equal(undefined);
    if (server === undefined || upstream === undefined) return;
    expect(parentOf(server)).to.equal(clientSpanId);
    expect(parentOf(upstream)).to.equal(server.spanID);
    expect(backendSpans).to.have.length(1);
    expect(parentOf(backendSpans[0])).to.equal(upstream.spanID);

    expect(server.operationName).to.equal('GET /chain');
    expect(tagsOf(server)).to.include({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.path': '/chain',
      'url.scheme': 'http',
      'http.route': '/chain',
      'server.address': 'gateway.test',
      'client.address': '127.0.0.1',
      'portico.listener': 'default/gw/http',
      'portico.gateway': 'default/gw',
      'portico.route': 'default/chain',
      'portico.retries': 0,
      env: 'test',
    });
    expect(tagsOf(upstream)).to.include({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'portico.backend': 'default/backend:80',
      'portico.attempt': 1,
      'server.port': portOf(backend),
    });
    const resourceTags = Object.fromEntries(trace.processes[server.processID].tags.map((t) => [t.key, t.value]));
    expect(resourceTags['portico.shard']).to.equal(0);
  });

  it('a retried request: two upstream spans under one server span, the failed one marked as an error', async () => {
    const { traceId } = await call('/flaky', 'req-flaky');
    const trace = await jaeger.waitForTrace(traceId, 6);
    expect(trace.spans).to.have.length(6);
    const gatewaySpans = byService(trace, 'portico-gateway');
    const server = gatewaySpans.find((s) => tagsOf(s)['span.kind'] === 'server') as JaegerSpan;
    const attempts = gatewaySpans
      .filter((s) => tagsOf(s)['span.kind'] === 'client')
      .sort((a, b) => Number(tagsOf(a)['portico.attempt']) - Number(tagsOf(b)['portico.attempt']));
    expect(attempts.map((s) => parentOf(s))).to.deep.equal([server.spanID, server.spanID]);
    expect(attempts.map((s) => tagsOf(s)['http.response.status_code'])).to.deep.equal([503, 200]);
    expect(tagsOf(attempts[0])).to.include({ error: true, 'error.type': '503', 'otel.status_code': 'ERROR' });
    expect(tagsOf(attempts[1]).error).to.equal(undefined);
    expect(tagsOf(server)).to.include({ 'portico.retries': 1, 'http.response.status_code': 200 });
    // each backend span hangs under the attempt that reached it
    const backendParents = byService(trace, 'test-backend').map(parentOf).sort();
    expect(backendParents).to.deep.equal(attempts.map((s) => s.spanID).sort());
  });

  it('an unsampled request (traceparent flag 00, parent-based) exports nothing and keeps its traceparent', async () => {
    const exportedBefore = gatewayTracing.batcher.stats.exported + gatewayTracing.batcher.stats.queued;
    const traceId = 'aaaabbbbccccddddeeeeffff00001111';
    const res = await get(portOf(gateway), '/chain', {
      traceparent: `00-${traceId}-1234567890abcdef-00`,
      'x-request-id': 'req-unsampled',
    });
    expect(res.status).to.equal(200);
    await gatewayTracing.batcher.flush();
    expect(gatewayTracing.batcher.stats.exported + gatewayTracing.batcher.stats.queued).to.equal(exportedBefore);
    // the backend saw the caller's traceparent unchanged and (sampling ALWAYS on its side) exported its own span
    await backendTracing.batcher.flush();
    const trace = await jaeger.waitForTrace(traceId, 1);
    expect(trace.spans.map((s) => trace.processes[s.processID].serviceName)).to.deep.equal(['test-backend']);
    expect(parentOf(trace.spans[0])).to.equal('1234567890abcdef');
  });
});
