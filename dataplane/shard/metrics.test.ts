import { expect } from 'chai';
import { ShardMetrics } from './metrics.ts';

describe('shard metrics', () => {
  it('sums per label set and drops the series of removed listeners, routes and backends', () => {
    const m = new ShardMetrics();
    m.response('l1', 'ns/a', 200);
    m.response('l1', 'ns/a', 200);
    m.response('l1', 'ns/b', 404);
    m.response('l2', 'ns/a', 200);
    m.upstreamResponse('ns/svc:80', 200, 0.002);
    m.upstreamError('ns/old:80', 'ECONNRESET');
    const requests = () => m.toJson().find((j) => j.name === 'portico_http_requests_total')!.values;
    expect(requests()).to.deep.include({ labels: { listener: 'l1', route: 'ns/a', code: 200 }, value: 2 });
    m.forget({ listeners: ['l2'], routes: ['ns/b'], backends: ['ns/old:80'] });
    expect(requests().map((v) => `${v.labels.listener} ${v.labels.route}`)).to.deep.equal(['l1 ns/a']);
    expect(m.toJson().find((j) => j.name === 'portico_upstream_errors_total')!.values).to.deep.equal([]);
    const latency = m.toJson().find((j) => j.name === 'portico_upstream_response_seconds')!.values;
    expect(latency.find((v) => v.labels.le === 0.0025)?.value).to.equal(1);
  });
});
