import { expect } from 'chai';
import { TrafficHistory, quantile } from './traffic.ts';

const BOUNDS = [0.001, 0.01, 0.1, 1];

describe('console traffic', () => {
  it('interpolates quantiles within a histogram bucket, as histogram_quantile does', () => {
    expect(quantile(0.5, BOUNDS, [0, 0, 0, 0, 0])).to.equal(null);
    // 10 requests, all between 1 and 10 ms: the median is half way into that bucket.
    expect(quantile(0.5, BOUNDS, [0, 10, 0, 0, 0])).to.be.closeTo(0.0055, 1e-9);
    expect(quantile(0.99, BOUNDS, [90, 0, 10, 0, 0])).to.be.closeTo(0.091, 1e-9);
    // Above the last bound: the last bound (the histogram cannot say more).
    expect(quantile(0.99, BOUNDS, [0, 0, 0, 0, 5])).to.equal(1);
  });

  it('turns increments into points and gives idle routes a zero point', () => {
    const history = new TrafficHistory(3);
    const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, s));
    const tick = history.add(
      {
        intervalMs: 2000,
        bucketsSeconds: BOUNDS,
        routes: [{ route: 'ns/web', requests: 10, errors: 1, latency: [0, 10, 0, 0, 0] }],
        backends: [{ backend: 'ns/web:80', responses: 9, errors: 1, latency: [0, 9, 0, 0, 0] }],
      },
      at(0),
    );
    expect(tick.routes['ns/web']).to.deep.include({ rps: 5, errorRatio: 0.1, p50: 5.5 });
    expect(tick.backends['ns/web:80']).to.deep.include({ rps: 5, errorRatio: 0.1 });
    const idle = history.add({ intervalMs: 1000, bucketsSeconds: BOUNDS, routes: [], backends: [] }, at(1));
    expect(idle.routes['ns/web']).to.deep.include({ rps: 0, errorRatio: 0, p50: null });
    for (let s = 2; s < 6; s++)
      history.add({ intervalMs: 1000, bucketsSeconds: BOUNDS, routes: [], backends: [] }, at(s));
    expect(history.ticks()).to.have.length(3);
    // Idle for the whole window (a route deleted): no more points for it.
    expect(history.ticks().at(-1)?.routes).to.deep.equal({});
  });
});
