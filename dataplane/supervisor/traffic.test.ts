import { expect } from 'chai';
import { MessageChannel } from 'node:worker_threads';
import { LATENCY_BUCKETS, ShardMetrics } from '../shard/metrics.ts';
import type { TrafficReply } from '../shard/metrics.ts';
import { TrafficCounter } from './traffic.ts';

/** One request through the Fastify path's order of calls: upstream time, then the response naming the route. */
function served(m: ShardMetrics, route: string, backend: string, status: number, seconds: number): void {
  m.upstreamResponse(backend, status, seconds);
  m.response('ns/gw/http', route, status);
}

const slot = (seconds: number) => LATENCY_BUCKETS.indexOf(seconds);

describe('traffic in the stats message', () => {
  it('sends what each route and backend served since the previous message, summed over the shards', () => {
    const a = new ShardMetrics(null);
    const b = new ShardMetrics(null);
    const counter = new TrafficCounter();
    served(a, 'ns/web', 'ns/web:80', 200, 0.002);
    served(b, 'ns/web', 'ns/web:80', 503, 0.3);
    a.upstreamError('ns/web:80', 'ECONNREFUSED');
    a.response('ns/gw/http', 'ns/web', 502);
    const first = counter.next([a.takeTraffic(), b.takeTraffic(), null]);
    const web = first.routes.find((r) => r.route === 'ns/web');
    expect(web).to.include({ requests: 3, errors: 2 });
    // Two requests reached the backend: 2 ms falls in the 2.5 ms bucket, 300 ms in the 500 ms one.
    expect(web?.latency.reduce((x, y) => x + y, 0)).to.equal(2);
    expect(web?.latency[slot(0.0025)]).to.equal(1);
    expect(web?.latency[slot(0.5)]).to.equal(1);
    expect(first.backends).to.deep.equal([{ backend: 'ns/web:80', responses: 2, errors: 1, latency: web?.latency }]);

    // Nothing moved: nothing sent. Then one more request on shard b only.
    expect(counter.next([a.takeTraffic(), b.takeTraffic()]).routes).to.deep.equal([]);
    served(b, 'ns/web', 'ns/web:80', 200, 0.002);
    const third = counter.next([a.takeTraffic(), b.takeTraffic()]);
    expect(third.routes.map((r) => [r.route, r.requests, r.errors])).to.deep.equal([['ns/web', 1, 0]]);
  });

  it('pairs an upstream time with the route of the response that follows it, and with nothing else', () => {
    const m = new ShardMetrics(null);
    m.response('ns/gw/http', 'ns/redirect', 301); // no upstream: no latency
    served(m, 'ns/web', 'ns/web:80', 200, 0.004);
    m.response('ns/gw/http', 'ns/web', 504); // a timeout: no upstream response
    const latency = m.toJson().find((j) => j.name === 'portico_route_response_seconds')?.values ?? [];
    const counts = latency.filter((v) => v.metricName === 'portico_route_response_seconds_count');
    expect(counts).to.deep.equal([
      { labels: { route: 'ns/web' }, value: 1, metricName: 'portico_route_response_seconds_count' },
    ]);
    const window = m.takeTraffic().routes;
    expect(window.map((r) => [r.key, r.count, r.latency.reduce((x, y) => x + y, 0)])).to.deep.equal([
      ['ns/redirect', 1, 0],
      ['ns/web', 2, 1],
    ]);
  });

  it('answers a traffic request on its port, as the supervisor sends it to a shard', async () => {
    const { port1, port2 } = new MessageChannel();
    const m = new ShardMetrics(port2);
    served(m, 'ns/web', 'ns/web:80', 200, 0.001);
    const reply = await new Promise<TrafficReply>((resolve) => {
      port1.once('message', resolve);
      port1.postMessage({ type: 'traffic', requestId: 7 });
    });
    port1.close();
    expect(reply.requestId).to.equal(7);
    expect(reply.traffic.routes.map((r) => [r.key, r.count])).to.deep.equal([['ns/web', 1]]);
  });
});
