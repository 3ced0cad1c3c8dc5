import { expect } from 'chai';
import { ExponentialLimiter, TokenBucket, WorkQueue } from './workqueue.ts';

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

/** A handler whose runs the test releases by hand, recording what ran. */
function gatedHandler() {
  const runs: string[] = [];
  const gates: Array<() => void> = [];
  let active = 0;
  let maxActive = 0;
  return {
    runs,
    get maxActive() {
      return maxActive;
    },
    releaseAll() {
      for (const open of gates.splice(0)) open();
    },
    process: async (key: string) => {
      runs.push(key);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active--;
    },
  };
}

describe('framework/workqueue', () => {
  it('processes a key added many times while it waits once', async () => {
    const handler = gatedHandler();
    const queue = new WorkQueue<string>({ concurrency: 1, process: handler.process });
    queue.add('first');
    for (let i = 0; i < 5; i++) queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length, 'a and b wait, once each').to.equal(2);
    while (handler.runs.length < 3 || queue.processing > 0) {
      handler.releaseAll();
      await tick();
    }
    await queue.whenIdle();
    expect(handler.runs).to.deep.equal(['first', 'a', 'b']);
  });

  it('never runs one key twice at once, and runs it again if it was added while running', async () => {
    const handler = gatedHandler();
    const queue = new WorkQueue<string>({ concurrency: 4, process: handler.process });
    queue.add('k');
    await tick();
    queue.add('k');
    queue.add('k');
    await tick();
    expect(handler.runs, 'not started again while running').to.deep.equal(['k']);
    handler.releaseAll();
    await tick();
    expect(handler.runs, 'run once more for the adds that came in during the run').to.deep.equal(['k', 'k']);
    handler.releaseAll();
    await queue.whenIdle();
    expect(handler.maxActive).to.equal(1);
  });

  it('bounds concurrency', async () => {
    const handler = gatedHandler();
    const queue = new WorkQueue<string>({ concurrency: 3, process: handler.process });
    for (let i = 0; i < 10; i++) queue.add(`k${i}`);
    await tick();
    expect(queue.processing).to.equal(3);
    expect(queue.length).to.equal(7);
    while (handler.runs.length < 10 || queue.processing > 0) {
      handler.releaseAll();
      await tick();
    }
    expect(handler.maxActive).to.equal(3);
    expect(new Set(handler.runs).size).to.equal(10);
  });

  it('retries a failing key with growing delays and forgets the failures after a success', async () => {
    const times: number[] = [];
    let calls = 0;
    const errors: number[] = [];
    const queue = new WorkQueue<string>({
      baseDelayMs: 20,
      process: async () => {
        times.push(performance.now());
        if (++calls <= 3) throw new Error('boom');
      },
      onError: (_key, _error, failures) => errors.push(failures),
    });
    queue.add('k');
    while (calls < 4) await tick(10);
    await queue.whenIdle();
    expect(errors).to.deep.equal([1, 2, 3]);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // 20, 40, 80 ms (timers may fire a little late, never early)
    expect(gaps[0]).to.be.at.least(19);
    expect(gaps[1]).to.be.at.least(39);
    expect(gaps[2]).to.be.at.least(79);
    expect(queue.failures('k')).to.equal(0);
  });

  it('shutDown drops delayed keys, refuses new ones and waits for the running one', async () => {
    const handler = gatedHandler();
    const queue = new WorkQueue<string>({ concurrency: 1, process: handler.process });
    queue.add('running');
    queue.addAfter('later', 30);
    await tick();
    let down = false;
    const stopping = queue.shutDown().then(() => (down = true));
    queue.add('refused');
    await tick(50);
    expect(down, 'waits for the running key').to.equal(false);
    handler.releaseAll();
    await stopping;
    expect(handler.runs).to.deep.equal(['running']);
  });

  it('shutDown with a drain lets queued keys finish first', async () => {
    const runs: string[] = [];
    const queue = new WorkQueue<string>({
      concurrency: 1,
      process: async (key) => {
        await tick(5);
        runs.push(key);
      },
    });
    for (const key of ['a', 'b', 'c']) queue.add(key);
    await queue.shutDown(2000);
    expect(runs).to.deep.equal(['a', 'b', 'c']);
  });

  it('a throwing onError hook does not break the queue', async () => {
    let calls = 0;
    const queue = new WorkQueue<string>({
      baseDelayMs: 1,
      process: async () => {
        if (++calls === 1) throw new Error('first');
      },
      onError: () => {
        throw new Error('hook');
      },
    });
    queue.add('k');
    while (calls < 2) await tick();
    await queue.whenIdle();
    expect(calls).to.equal(2);
  });
});

describe('framework/workqueue limiters', () => {
  it('ExponentialLimiter doubles per failure up to the cap, per key', () => {
    const limiter = new ExponentialLimiter<string>(5, 100);
    expect([1, 2, 3, 4, 5, 6].map(() => limiter.when('a'))).to.deep.equal([5, 10, 20, 40, 80, 100]);
    expect(limiter.when('b')).to.equal(5);
    limiter.forget('a');
    expect(limiter.when('a')).to.equal(5);
  });

  it('TokenBucket allows the burst, then spaces by 1/qps, and refills with time', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).to.deep.equal([0, 0, 0]);
    expect(bucket.reserve()).to.equal(100);
    expect(bucket.reserve()).to.equal(200);
    now += 1000;
    expect(bucket.reserve()).to.equal(0);
  });
});
