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

  it('counts authorizer calls by outcome, times them by authorizer, and forgets them with their objects', () => {
    const m = new ShardMetrics(null);
    m.extAuthz('l1', 'ns/a', 'ns/authz:80', 'allowed', 0.004);
    m.extAuthz('l1', 'ns/a', 'ns/authz:80', 'allowed', 0.2);
    m.extAuthz('l1', '', 'ns/authz:80', 'denied', 0.001);
    m.extAuthz('l2', 'ns/b', 'ns/other:80', 'error', 2);
    const calls = () => m.toJson().find((j) => j.name === 'portico_ext_authz_requests_total')!.values;
    const latency = () => m.toJson().find((j) => j.name === 'portico_ext_authz_duration_seconds')!.values;
    expect(calls()).to.deep.include({
      labels: { listener: 'l1', route: 'ns/a', authorizer: 'ns/authz:80', outcome: 'allowed' },
      value: 2,
    });
    expect(calls()).to.deep.include({
      labels: { listener: 'l1', route: '', authorizer: 'ns/authz:80', outcome: 'denied' },
      value: 1,
    });
    const count = latency().find((v) => v.metricName === 'portico_ext_authz_duration_seconds_count');
    expect(count).to.deep.equal({
      labels: { authorizer: 'ns/authz:80' },
      value: 3,
      metricName: 'portico_ext_authz_duration_seconds_count',
    });
    const le = (value: number | string) =>
      latency().find((v) => v.labels.authorizer === 'ns/authz:80' && v.labels.le === value)?.value;
    expect([le(0.001), le(0.005), le(0.25), le('+Inf')]).to.deep.equal([1, 2, 3, 3]);
    m.forget({ listeners: [], routes: ['ns/b'], backends: ['ns/authz:80'] });
    expect(calls()).to.deep.equal([]);
    expect(latency().map((v) => v.labels.authorizer)).to.not.include('ns/authz:80');
  });
});
