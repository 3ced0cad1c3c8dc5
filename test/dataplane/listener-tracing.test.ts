// XTelemetryPolicy in the data plane, over real sockets: the real data plane (supervisor + 2 shards) serves three
// listeners of three Gateways; two carry tracing records (what two policies translate to), the third none, so the
// command-line default applies to it. Requests go through each; two real OTLP/HTTP collectors on loopback
// (test/observability/support/otlp-sink.ts) receive what each listener's sampler let through. Then a new generation
// swaps the two policies' sampling, and the next requests follow it without a restart.

import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { ListenerTracing } from '../../shared/ir/tracing.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { OtlpSink } from '../observability/support/otlp-sink.ts';
import type { SunkSpan } from '../observability/support/otlp-sink.ts';

const SAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function get(host: string, port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits (bounded) until `ready()`; the bound is a hang guard, not a timing goal. */
async function until(ready: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const servers = (sink: OtlpSink, listener: string): SunkSpan[] =>
  sink.spans.filter(
    (s) => s.attributes['portico.listener'] === listener && s.name.length > 0 && 'client.address' in s.attributes,
  );

describe('data plane: per-listener tracing from XTelemetryPolicy records (real sockets, real OTLP/HTTP)', function () {
  this.timeout(60_000);
  const address = testAddress();
  const ports = { a: 18301, b: 18302, c: 18303 };
  let h: Harness;
  let upstream: Server;
  let policySink: OtlpSink;
  let defaultSink: OtlpSink;

  const record = (name: string, extra: Partial<ListenerTracing>): ListenerTracing => ({
    source: { kind: 'XTelemetryPolicy', namespace: 'ns', name },
    mode: 'Enabled',
    endpoint: policySink.endpoint,
    attributes: [],
    ...extra,
  });

  async function publish(a: ListenerTracing, b: ListenerTracing): Promise<void> {
    const la = httpListener('ns/gw-a/http', ports.a, { address, tracing: a });
    const lb = httpListener('ns/gw-b/http', ports.b, { address, tracing: b });
    const lc = httpListener('ns/gw-c/http', ports.c, { address });
    const be = backend('ns/app:80', [['127.0.0.1', (upstream.address() as AddressInfo).port]]);
    const result = await h.publish({
      listeners: [la, lb, lc],
      backends: [be],
      httpRoutes: [
        httpRoute('httproute/ns/app', [la.key, lb.key, lc.key], [rule([prefix('/api')], [be.key])], {
          source: { kind: 'HTTPRoute', namespace: 'ns', name: 'app' },
        }),
      ],
    });
    expect(result.outcome).to.equal('ack');
  }

  before(async () => {
    policySink = await OtlpSink.start({ keep: true });
    defaultSink = await OtlpSink.start({ keep: true });
    upstream = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    // The command line: export to the default collector, no new traces, follow a sampled parent.
    h = await startHarness({
      tracing: {
        endpoint: defaultSink.endpoint,
        sampler: { ratio: 0, parentBased: true, parentRatio: 1 },
        intervalMs: 100,
      },
    });
  });

  after(async () => {
    await h?.stop();
    await Promise.all([policySink?.close(), defaultSink?.close()]);
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('samples each listener as its policy says, and the listener without one as the command line says', async () => {
    await publish(
      record('all', {
        ratio: 1,
        spanName: 'edge ingress',
        serviceName: 'edge',
        attributes: [
          { name: 'deployment.environment', literal: 'test' },
          { name: 'app.user', header: 'x-user-id' },
          { name: 'app.status', attribute: 'http.response.status_code' },
        ],
      }),
      record('none', { ratio: 0, parentBased: false }),
    );
    for (let i = 0; i < 10; i++) {
      expect(await get(address, ports.a, `/api/a/${i}`, { 'x-user-id': `u${i}` })).to.equal(200);
      // A sampled parent does not make listener b trace: its policy turns parent-based sampling off at 0 %.
      expect(await get(address, ports.b, `/api/b/${i}`, { traceparent: SAMPLED_PARENT })).to.equal(200);
    }
    for (let i = 0; i < 4; i++) {
      expect(await get(address, ports.c, `/api/c/${i}`, { traceparent: SAMPLED_PARENT })).to.equal(200);
      expect(await get(address, ports.c, `/api/c/${i}`)).to.equal(200); // no parent, ratio 0: not traced
    }
    await until(() => servers(policySink, 'ns/gw-a/http').length === 10, "listener a's 10 server spans");
    await until(() => servers(defaultSink, 'ns/gw-c/http').length === 4, "listener c's 4 server spans");
    await new Promise((r) => setTimeout(r, 500)); // several export intervals: anything else would have come
    expect(servers(policySink, 'ns/gw-a/http')).to.have.length(10);
    expect(servers(defaultSink, 'ns/gw-c/http')).to.have.length(4);
    expect(policySink.spans.filter((s) => s.attributes['portico.listener'] === 'ns/gw-b/http')).to.deep.equal([]);
    // Besides the server spans, one client span per request (the upstream attempt), nothing else.
    expect(policySink.spans).to.have.length(20);
    expect(defaultSink.spans).to.have.length(8);

    const a = servers(policySink, 'ns/gw-a/http')[0];
    expect(a.service).to.equal('edge');
    expect(a.name).to.equal('edge ingress');
    expect(a.attributes['deployment.environment']).to.equal('test');
    expect(a.attributes['app.user']).to.match(/^u\d$/);
    expect(a.attributes['app.status']).to.equal(200);
    expect(a.attributes['http.route']).to.equal('/api/*');
    expect(a.attributes['network.protocol.name']).to.equal('http');
    const c = servers(defaultSink, 'ns/gw-c/http')[0];
    expect(c.service).to.equal('portico-gateway');
    expect(c.name).to.equal('GET /api/*');
  });

  it('follows a change of policy on the next generation, without a restart', async () => {
    const before = { a: servers(policySink, 'ns/gw-a/http').length, b: 0 };
    const threads = h.dataPlane.shards.threadIds();
    await publish(record('all', { mode: 'Disabled', endpoint: undefined }), record('none', { ratio: 1 }));
    for (let i = 0; i < 6; i++) {
      expect(await get(address, ports.a, `/api/a/${i}`)).to.equal(200);
      expect(await get(address, ports.b, `/api/b/${i}`)).to.equal(200);
    }
    await until(() => servers(policySink, 'ns/gw-b/http').length === 6, "listener b's 6 server spans");
    await new Promise((r) => setTimeout(r, 500));
    expect(servers(policySink, 'ns/gw-b/http')).to.have.length(before.b + 6);
    expect(servers(policySink, 'ns/gw-a/http')).to.have.length(before.a);
    expect(h.dataPlane.shards.threadIds()).to.deep.equal(threads); // the same shards: no restart
  });
});
