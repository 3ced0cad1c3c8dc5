import { expect } from 'chai';
import { ShardMetrics } from '../shard/metrics.ts';
import { TrafficCounter } from './traffic.ts';

/** One request through the Fastify path's order of calls: upstream time, then the response naming the route. */
function served(m: ShardMetrics, route: string, backend: string, status: number, seconds: number): void {
  m.upstreamResponse(backend, status, seconds);
  m.response('ns/gw/http', route, status);
}

describe('traffic in the stats message', () => {
  it('sends the increments of each route and backend since the previous message, summed over the shards', () => {
    const a = new ShardMetrics();
    const b = new ShardMetrics();
    const counter = new TrafficCounter();
    served(a, 'ns/web', 'ns/web:80', 200, 0.002);
    served(b, 'ns/web', 'ns/web:80', 503, 0.3);
    a.upstreamError('ns/web:80', 'ECONNREFUSED');
    a.response('ns/gw/http', 'ns/web', 502);
    const first = counter.next([a.toJson(), b.toJson()]);
    const web = first.routes.find((r) => r.route === 'ns/web');
    expect(web).to.include({ requests: 3, errors: 2 });
    // Two requests reached the backend: 2 ms falls in the 2.5 ms bucket, 300 ms in the 500 ms one.
    expect(web?.latency.reduce((x, y) => x + y, 0)).to.equal(2);
    expect(web?.latency[first.bucketsSeconds.indexOf(0.0025)]).to.equal(1);
    expect(web?.latency[first.bucketsSeconds.indexOf(0.5)]).to.equal(1);
    expect(first.backends).to.deep.include.members([
      { backend: 'ns/web:80', responses: 2, errors: 1, latency: web?.latency },
    ]);

    // Nothing moved: nothing sent. Then one more request on shard b only.
    expect(counter.next([a.toJson(), b.toJson()]).routes).to.deep.equal([]);
    served(b, 'ns/web', 'ns/web:80', 200, 0.002);
    const third = counter.next([a.toJson(), b.toJson()]);
    expect(third.routes.map((r) => [r.route, r.requests, r.errors])).to.deep.equal([['ns/web', 1, 0]]);
  });

  it('counts a restarted shard from zero and keeps a silent shard for later', () => {
    const counter = new TrafficCounter();
    const a = new ShardMetrics();
    for (let i = 0; i < 5; i++) served(a, 'ns/web', 'ns/web:80', 200, 0.001);
    counter.next([a.toJson()]);
    // The shard did not answer in time: no traffic now, and its requests are not counted twice later.
    served(a, 'ns/web', 'ns/web:80', 200, 0.001);
    expect(counter.next([[]]).routes).to.deep.equal([]);
    expect(counter.next([a.toJson()]).routes[0].requests).to.equal(1);
    // Restarted: its totals start again below the previous ones.
    const restarted = new ShardMetrics();
    served(restarted, 'ns/web', 'ns/web:80', 200, 0.001);
    expect(counter.next([restarted.toJson()]).routes[0].requests).to.equal(1);
  });

  it('pairs an upstream time with the route of the response that follows it, and with nothing else', () => {
    const m = new ShardMetrics();
    m.response('ns/gw/http', 'ns/redirect', 301); // no upstream: no latency
    served(m, 'ns/web', 'ns/web:80', 200, 0.004);
    m.response('ns/gw/http', 'ns/web', 504); // a timeout: no upstream response
    const latency = m.toJson().find((j) => j.name === 'portico_route_response_seconds')?.values ?? [];
    const counts = latency.filter((v) => v.metricName === 'portico_route_response_seconds_count');
    expect(counts).to.deep.equal([
      { labels: { route: 'ns/web' }, value: 1, metricName: 'portico_route_response_seconds_count' },
    ]);
  });
});
