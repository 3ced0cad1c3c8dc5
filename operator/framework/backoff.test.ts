import { expect } from 'chai';
import { Backoff, sleep } from './backoff.ts';

describe('framework/backoff', () => {
  it('doubles from the initial delay up to the cap, without jitter', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect(Array.from({ length: 6 }, () => backoff.next())).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
    expect(backoff.attempts).to.equal(6);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 50, maxMs: 1000, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).to.equal(50);
  });

  it('keeps jittered delays within [d × (1 − jitter), d] and spreads them', () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5 });
    const delays = Array.from({ length: 200 }, () => backoff.next());
    for (const d of delays) expect(d).to.be.within(500, 1000);
    expect(new Set(delays).size, 'jitter must vary the delays').to.be.greaterThan(50);
  });

  it('uses the random source it is given, at both ends', () => {
    expect(new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 }).next()).to.equal(1000);
    expect(new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 1 }).next()).to.equal(800);
  });

  it('refuses nonsense bounds', () => {
    expect(() => new Backoff({ initialMs: 0 })).to.throw(/initialMs/);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).to.throw(/initialMs/);
  });

  it('sleep ends early when its signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    await sleep(10_000, controller.signal);
    expect(performance.now() - started).to.be.below(1000);
  });
});
