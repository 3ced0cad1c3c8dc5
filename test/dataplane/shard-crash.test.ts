// A shard killed under load: the other shard keeps serving, the supervisor restarts the dead one, and the restarted
// shard serves the generation that was committed while it was down.

import { expect } from 'chai';
import { Agent, request } from 'undici';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';

/** One request on a brand-new connection, so the kernel picks a shard afresh each time. */
async function fresh(url: string): Promise<number> {
  const agent = new Agent({ pipelining: 0 });
  try {
    const res = await request(url, { headers: { host: 'x', connection: 'close' }, dispatcher: agent });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

describe('data plane: a shard killed under load', function () {
  this.timeout(60_000);
  const address = testAddress();
  const port = 18088;
  const base = `http://${address}:${port}`;
  let h: Harness;
  let echo: EchoServer;

  before(async () => {
    h = await startHarness();
    echo = await startEchoServer('echo');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
  });

  it('keeps serving on the other shard and restarts the dead one on the current generation', async () => {
    const l = httpListener('ns/gw/http', port, { address });
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const v1 = httpRoute('httproute/ns/v1', [l.key], [rule([prefix('/v1')], [b.key])]);
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: [v1] })).outcome).to.equal('ack');
    const threadsBefore = h.dataPlane.shards.threadIds();

    let running = true;
    const during: number[] = [];
    const load = (async () => {
      while (running) during.push(await fresh(`${base}/v1`).catch(() => 0));
    })();
    await new Promise((r) => setTimeout(r, 200));
    await h.dataPlane.shards.kill(0);

    // While shard 0 is down, a new generation is committed (acked by the surviving shard).
    const v2 = httpRoute('httproute/ns/v2', [l.key], [rule([prefix('/v2')], [b.key])], { rank: 1 });
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: [v1, v2] })).outcome).to.equal('ack');

    const deadline = Date.now() + 10_000;
    while (h.dataPlane.shards.readyCount < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    running = false;
    await load;
    expect(h.dataPlane.shards.readyCount).to.equal(2);
    expect(h.dataPlane.shards.threadIds()).to.not.deep.equal(threadsBefore);

    // The load never stopped being served: at most the connections caught in the dying shard failed.
    const failed = during.filter((s) => s !== 200).length;
    expect(during.length).to.be.greaterThan(20);
    expect(failed / during.length).to.be.below(0.05);

    // Both shards now serve the newer generation: 100 fresh connections (spread by the kernel) all find /v2.
    const statuses = [];
    for (let i = 0; i < 100; i++) statuses.push(await fresh(`${base}/v2`));
    expect(
      statuses.every((s) => s === 200),
      statuses.join(','),
    ).to.equal(true);
  });
});
