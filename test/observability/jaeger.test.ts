// Traces into a real Jaeger v2 through the real data plane: a request chain client → Portico (supervisor + shards,
// tracing on with `--otlp-endpoint`) → backend over real HTTP on loopback, each hop exporting its spans over
// OTLP/HTTP protobuf, then read back through Jaeger's query API with parent links and attributes checked. The HTTP/1.1
// engine serves the plain requests (a retried one, a mirrored one); a gRPC call goes through the HTTP/2 front end to
// an h2c backend.

import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { SpanBatcher } from '../../shared/telemetry/batcher.ts';
import { otlpHttpSender } from '../../shared/telemetry/otlp-http.ts';
import { ALWAYS } from '../../shared/telemetry/sampler.ts';
import { SPAN_KIND, Tracer } from '../../shared/telemetry/span.ts';
import type { HttpMatch } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { Jaeger, buildJaeger, tagsOf } from './support/jaeger.ts';
import type { JaegerSpan, JaegerTrace } from './support/jaeger.ts';

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;

function get(
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A Tracer with its own exporter, for the processes around the gateway (the test client, the backends). */
function serviceTracer(endpoint: string, serviceName: string): { tracer: Tracer; batcher: SpanBatcher } {
  const batcher = new SpanBatcher({
    resource: { attributes: { 'service.name': serviceName }, scope: { name: 'test', version: '0' } },
    send: otlpHttpSender({ endpoint }),
  });
  return { tracer: new Tracer({ sampler: ALWAYS }, batcher), batcher };
}

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const grpcDefinition = {
  Say: {
    path: '/echo.v1.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
} as grpc.ServiceDefinition;

const byService = (trace: JaegerTrace, service: string) =>
  trace.spans.filter((s) => trace.processes[s.processID].serviceName === service);
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
const kindOf = (span: JaegerSpan) => tagsOf(span)['span.kind'];

describe('observability: spans of a request chain through the real data plane, in a real Jaeger', function () {
  this.timeout(600_000); // the first run builds Jaeger (see README); later runs take seconds

  const address = testAddress();
  const port = 18191;
  const grpcPort = 18192;
  let jaeger: Jaeger;
  let backendServer: Server;
  let mirrorServer: Server;
  let grpcServer: grpc.Server;
  let grpcClient: grpc.Client;
  let h: Harness;
  let client: { tracer: Tracer; batcher: SpanBatcher };
  let backendTracing: { tracer: Tracer; batcher: SpanBatcher };
  const flakyCalls = new Map<string, number>();
  const seenByBackend: Array<Record<string, string | string[] | undefined>> = [];
  let mirrored = 0;

  /** A backend span continuing the trace the gateway sent. */
  function backendSpan(name: string, traceparent: string | undefined, tracestate: string | undefined, status: number) {
    const { tracer } = backendTracing;
    const span = tracer.startServer(traceparent, tracestate, name);
    span.set('http.response.status_code', status);
    tracer.end(span);
  }

  before(async () => {
    jaeger = await Jaeger.start(buildJaeger());
    client = serviceTracer(jaeger.otlpEndpoint, 'test-client');
    backendTracing = serviceTracer(jaeger.otlpEndpoint, 'test-backend');

    // The backend continues the trace it is given, and fails the first call of each /flaky request id with 503.
    backendServer = await listen((req, res) => {
      seenByBackend.push({ ...req.headers });
      const id = String(req.headers['x-request-id']);
      const calls = (flakyCalls.get(id) ?? 0) + 1;
      flakyCalls.set(id, calls);
      const status = req.url === '/flaky' && calls === 1 ? 503 : 200;
      backendSpan(`GET ${req.url}`, req.headers.traceparent as string, req.headers.tracestate as string, status);
      res.writeHead(status).end(status === 200 ? 'ok' : 'unavailable');
    });
    mirrorServer = await listen((req, res) => {
      backendSpan(`MIRROR ${req.url}`, req.headers.traceparent as string, req.headers.tracestate as string, 200);
      mirrored++;
      res.writeHead(200).end('mirror');
    });
    grpcServer = new grpc.Server();
    grpcServer.addService(grpcDefinition, {
      Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const traceparent = call.metadata.get('traceparent')[0] as string | undefined;
        backendSpan('echo.v1.Echo/Say', traceparent, undefined, 200);
        callback(null, Buffer.from(`hello ${call.request.toString()}`));
      },
    });
    const grpcBackendPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
        error ? reject(error) : resolve(p),
      ),
    );

    h = await startHarness({
      shards: 1,
      tracing: {
        endpoint: jaeger.otlpEndpoint,
        sampler: { ratio: 0, parentBased: true, parentRatio: 1 },
        attributes: { env: 'test' },
        intervalMs: 100,
      },
    });
    const l = httpListener('ns/gw/http', port, { address });
    const lg = httpListener('ns/gw/grpc', grpcPort, { address });
    const b = backend('ns/backend:80', [['127.0.0.1', portOf(backendServer)]]);
    const m = backend('ns/mirror:80', [['127.0.0.1', portOf(mirrorServer)]]);
    const g = backend('ns/echo:9000/h2c', [['127.0.0.1', grpcBackendPort]], { protocol: 'h2c' });
    const exact = (value: string): HttpMatch => ({ path: { type: 'Exact', value }, headers: [], queryParams: [] });
    const published = await h.publish({
      listeners: [l, lg],
      backends: [b, m, g],
      httpRoutes: [
        httpRoute(
          'httproute/ns/chain',
          [l.key],
          [
            rule([prefix('/flaky')], [b.key], {
              retry: { attempts: 2, codes: [503], backoffMs: 10, onConnectionError: false, onBackendTimeout: false },
            }),
            rule([prefix('/mirrored')], [b.key], {
              filters: [{ type: 'RequestMirror', backendKey: m.key, percent: 100 }],
            }),
            rule([prefix('/')], [b.key]),
          ],
          { source: { kind: 'HTTPRoute', namespace: 'ns', name: 'chain' } },
        ),
        httpRoute('grpcroute/ns/echo', [lg.key], [rule([exact('/echo.v1.Echo/Say')], [g.key])], {
          source: { kind: 'GRPCRoute', namespace: 'ns', name: 'echo' },
        }),
      ],
    });
    expect(published.outcome).to.equal('ack');
    grpcClient = new grpc.Client(`${address}:${grpcPort}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    try {
      grpcClient?.close();
      grpcServer?.forceShutdown();
      await h?.stop(); // the shards send what they hold on shutdown
      await Promise.all([
        new Promise((resolve) => backendServer?.close(resolve)),
        new Promise((resolve) => mirrorServer?.close(resolve)),
      ]);
    } finally {
      await jaeger?.stop(); // even when the above failed: never leave Jaeger running
    }
  });

  /** The client's own span around one request through the gateway; returns the trace id. */
  async function call(path: string, requestId: string): Promise<{ traceId: string; clientSpanId: string }> {
    const span = client.tracer.startRoot(`GET ${path}`, SPAN_KIND.client);
    const res = await get(address, port, path, {
      host: 'gateway.test',
      traceparent: span.traceparent(),
      tracestate: 'portico=test',
      'x-request-id': requestId,
    });
    expect(res.status).to.equal(200);
    client.tracer.end(span);
    await Promise.all([client.batcher.flush(), backendTracing.batcher.flush()]);
    return { traceId: span.traceId, clientSpanId: span.spanId };
  }

  it('client → gateway server span → upstream client span → backend span, linked and attributed', async () => {
    const { traceId, clientSpanId } = await call('/chain?x=1', 'req-chain');
    const trace = await jaeger.waitForTrace(traceId, 4);
    expect(trace.spans).to.have.length(4);
    const [gatewaySpans, backendSpans] = [byService(trace, 'portico-gateway'), byService(trace, 'test-backend')];
    const server = gatewaySpans.find((s) => kindOf(s) === 'server');
    const upstream = gatewaySpans.find((s) => kindOf(s) === 'client');
    expect(server, 'gateway server span').to.not.equal(undefined);
    expect(upstream, 'gateway upstream span').to.not.equal(undefined);
    if (server === undefined || upstream === undefined) return;
    expect(parentOf(server)).to.equal(clientSpanId);
    expect(parentOf(upstream)).to.equal(server.spanID);
    expect(backendSpans).to.have.length(1);
    expect(parentOf(backendSpans[0])).to.equal(upstream.spanID);

    expect(tagsOf(server)).to.include({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.path': '/chain',
      'url.query': 'x=1',
      'url.scheme': 'http',
      'server.address': 'gateway.test',
      'server.port': port,
      'network.protocol.version': '1.1',
      'client.address': '127.0.0.1',
      'portico.listener': 'ns/gw/http',
      'portico.gateway': 'ns/gw',
      'portico.route': 'ns/chain',
      'portico.rule': '2',
      'portico.retries': 0,
      env: 'test',
    });
    expect(tagsOf(upstream)).to.include({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'portico.backend': 'ns/backend:80',
      'portico.attempt': 1,
      'server.address': '127.0.0.1',
      'server.port': portOf(backendServer),
    });
    const resourceTags = Object.fromEntries(trace.processes[server.processID].tags.map((t) => [t.key, t.value]));
    expect(resourceTags['portico.shard']).to.equal(0);
    // What the backend received: the upstream span's context, the caller's tracestate, the request id.
    const seen = seenByBackend.find((s) => s['x-request-id'] === 'req-chain');
    expect(seen?.traceparent).to.equal(`00-${traceId}-${upstream.spanID}-01`);
    expect(seen?.tracestate).to.equal('portico=test');
  });

  it('a retried request: two upstream spans under one server span, the failed one marked as an error', async () => {
    const { traceId } = await call('/flaky', 'req-flaky');
    const trace = await jaeger.waitForTrace(traceId, 6);
    expect(trace.spans).to.have.length(6);
    const gatewaySpans = byService(trace, 'portico-gateway');
    const server = gatewaySpans.find((s) => kindOf(s) === 'server') as JaegerSpan;
    const attempts = gatewaySpans
      .filter((s) => kindOf(s) === 'client')
      .sort((a, b) => Number(tagsOf(a)['portico.attempt']) - Number(tagsOf(b)['portico.attempt']));
    expect(attempts.map((s) => parentOf(s))).to.deep.equal([server.spanID, server.spanID]);
    expect(attempts.map((s) => tagsOf(s)['http.response.status_code'])).to.deep.equal([503, 200]);
    expect(tagsOf(attempts[0])).to.include({ error: true, 'error.type': '503', 'otel.status_code': 'ERROR' });
    expect(tagsOf(attempts[1]).error).to.equal(undefined);
    expect(tagsOf(server)).to.include({ 'portico.retries': 1, 'http.response.status_code': 200, 'portico.rule': '0' });
    // each backend span hangs under the attempt that reached it
    const backendParents = byService(trace, 'test-backend').map(parentOf).sort();
    expect(backendParents).to.deep.equal(attempts.map((s) => s.spanID).sort());
  });

  it('a retried request over HTTP/2 (the Fastify front end): two upstream spans, each with its own context', async () => {
    const span = client.tracer.startRoot('GET /flaky', SPAN_KIND.client);
    const session = connectHttp2(`http://${address}:${port}`);
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({
        ':path': '/flaky',
        ':authority': 'gateway.test',
        traceparent: span.traceparent(),
        'x-request-id': 'req-flaky-h2',
      });
      let code = 0;
      stream.on('response', (headers) => (code = Number(headers[':status'])));
      stream.on('error', reject);
      stream.resume();
      stream.on('end', () => resolve(code));
    });
    session.close();
    expect(status).to.equal(200);
    client.tracer.end(span);
    await Promise.all([client.batcher.flush(), backendTracing.batcher.flush()]);
    const trace = await jaeger.waitForTrace(span.traceId, 6);
    const gatewaySpans = byService(trace, 'portico-gateway');
    const server = gatewaySpans.find((s) => kindOf(s) === 'server') as JaegerSpan;
    expect(tagsOf(server)).to.include({ 'network.protocol.version': '2', 'portico.retries': 1 });
    const attempts = gatewaySpans
      .filter((s) => kindOf(s) === 'client')
      .sort((a, b) => Number(tagsOf(a)['portico.attempt']) - Number(tagsOf(b)['portico.attempt']));
    expect(attempts.map((s) => tagsOf(s)['portico.attempt'])).to.deep.equal([1, 2]);
    expect(attempts.map((s) => tagsOf(s)['http.response.status_code'])).to.deep.equal([503, 200]);
    expect(attempts.map((s) => tagsOf(s)['server.port'])).to.deep.equal([portOf(backendServer), portOf(backendServer)]);
    expect(attempts.map(parentOf)).to.deep.equal([server.spanID, server.spanID]);
    const backendParents = byService(trace, 'test-backend').map(parentOf).sort();
    expect(backendParents).to.deep.equal(attempts.map((s) => s.spanID).sort());
  });

  it('a mirrored request: the mirror has its own upstream span (portico.mirror) and backend span', async () => {
    const { traceId } = await call('/mirrored', 'req-mirrored');
    // The mirror may arrive after the main response: its backend's span is flushed once it has.
    for (let i = 0; i < 100 && mirrored === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(mirrored, 'mirror requests received').to.equal(1);
    await backendTracing.batcher.flush();
    const trace = await jaeger.waitForTrace(traceId, 6).catch(async (error: Error) => {
      const partial = await jaeger.trace(traceId);
      const names = partial?.spans.map((s) => `${partial.processes[s.processID].serviceName}:${s.operationName}`);
      throw new Error(`${error.message}; spans there: ${JSON.stringify(names)}`);
    });
    const gatewaySpans = byService(trace, 'portico-gateway');
    const server = gatewaySpans.find((s) => kindOf(s) === 'server') as JaegerSpan;
    const upstreams = gatewaySpans.filter((s) => kindOf(s) === 'client');
    expect(upstreams).to.have.length(2);
    const mirror = upstreams.find((s) => tagsOf(s)['portico.mirror'] === true);
    expect(mirror, 'mirror span').to.not.equal(undefined);
    expect(tagsOf(mirror as JaegerSpan)).to.include({ 'portico.backend': 'ns/mirror:80' });
    expect(upstreams.map(parentOf)).to.deep.equal([server.spanID, server.spanID]);
    const backendParents = byService(trace, 'test-backend').map(parentOf).sort();
    expect(backendParents).to.deep.equal(upstreams.map((s) => s.spanID).sort());
  });

  it('a gRPC call (HTTP/2 front end, h2c backend): client → server span → upstream span → backend span', async () => {
    const span = client.tracer.startRoot('echo.v1.Echo/Say', SPAN_KIND.client);
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', span.traceparent());
    const reply = await new Promise<string>((resolve, reject) =>
      grpcClient.makeUnaryRequest(
        '/echo.v1.Echo/Say',
        raw.serialize,
        raw.deserialize,
        Buffer.from('jaeger'),
        metadata,
        { deadline: Date.now() + 5000 },
        (error, value) => (error ? reject(error) : resolve(String(value))),
      ),
    );
    expect(reply).to.equal('hello jaeger');
    client.tracer.end(span);
    await Promise.all([client.batcher.flush(), backendTracing.batcher.flush()]);
    const trace = await jaeger.waitForTrace(span.traceId, 4);
    const gatewaySpans = byService(trace, 'portico-gateway');
    const server = gatewaySpans.find((s) => kindOf(s) === 'server') as JaegerSpan;
    const upstream = gatewaySpans.find((s) => kindOf(s) === 'client') as JaegerSpan;
    expect(server, 'gateway server span').to.not.equal(undefined);
    expect(upstream, 'gateway upstream span').to.not.equal(undefined);
    expect(parentOf(server)).to.equal(span.spanId);
    expect(parentOf(upstream)).to.equal(server.spanID);
    expect(byService(trace, 'test-backend').map(parentOf)).to.deep.equal([upstream.spanID]);
    expect(tagsOf(server)).to.include({
      'http.request.method': 'POST',
      'url.path': '/echo.v1.Echo/Say',
      'network.protocol.version': '2',
      'http.response.status_code': 200,
      'portico.listener': 'ns/gw/grpc',
      'portico.route': 'ns/echo',
    });
    expect(tagsOf(upstream)).to.include({
      'portico.backend': 'ns/echo:9000/h2c',
      'portico.attempt': 1,
      'server.address': '127.0.0.1',
    });
  });

  it("the shards' exporter counters are in the data plane's /metrics", async () => {
    const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
    const exported = /^portico_tracing_spans_total\{outcome="exported"\} (\d+)/m.exec(text);
    expect(exported, 'portico_tracing_spans_total{outcome="exported"}').to.not.equal(null);
    expect(Number(exported?.[1])).to.be.greaterThan(0);
    expect(text).to.match(/^portico_tracing_spans_total\{outcome="dropped"\} 0$/m);
  });

  it('an unsampled request (traceparent flag 00, parent-based) exports nothing and keeps its traceparent', async () => {
    const traceId = 'aaaabbbbccccddddeeeeffff00001111';
    const res = await get(address, port, '/chain', {
      host: 'gateway.test',
      traceparent: `00-${traceId}-1234567890abcdef-00`,
      'x-request-id': 'req-unsampled',
    });
    expect(res.status).to.equal(200);
    // the backend saw the caller's traceparent unchanged and (sampling ALWAYS on its side) exported its own span
    await backendTracing.batcher.flush();
    const seen = seenByBackend.find((s) => s['x-request-id'] === 'req-unsampled');
    expect(seen?.traceparent).to.equal(`00-${traceId}-1234567890abcdef-00`);
    const trace = await jaeger.waitForTrace(traceId, 1);
    await new Promise((r) => setTimeout(r, 500)); // longer than the shard's export interval (100 ms)
    const again = (await jaeger.trace(traceId)) as JaegerTrace;
    expect(again.spans.map((s) => again.processes[s.processID].serviceName)).to.deep.equal(['test-backend']);
    expect(parentOf(trace.spans[0])).to.equal('1234567890abcdef');
  });
});
