// Reconfiguration without loss: requests flow continuously on a route that exists throughout while 50 generations
// change its endpoints and its backend, add and remove other routes, and add and remove a whole listener.
// Every one of those requests must succeed.

import { expect } from 'chai';
import type { Listener } from '../../shared/ir/listener.ts';
import type { HttpRoute } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';

describe('data plane: 50 generations under load', function () {
  this.timeout(120_000);
  const address = testAddress();
  const port = 18086;
  const extraPort = 18087;
  let h: Harness;
  const echoes: EchoServer[] = [];

  before(async () => {
    h = await startHarness();
    for (let i = 0; i < 4; i++) echoes.push(await startEchoServer(`e${i}`));
  });
  after(async () => {
    await h?.stop();
    await Promise.all(echoes.map((e) => e.close()));
  });

  function generation(n: number) {
    const main = httpListener('ns/gw/http', port, { address });
    const listeners: Listener[] = [main];
    // Endpoints move between echo servers; the stable route also switches between two backend records.
    const endpointsA = [echoes[n % 4], echoes[(n + 1) % 4]].map((e) => ['127.0.0.1', e.port] as [string, number]);
    const endpointsB = [echoes[(n + 2) % 4]].map((e) => ['127.0.0.1', e.port] as [string, number]);
    const backends = [backend('ns/a:80', endpointsA), backend('ns/b:80', endpointsB)];
    const routes: HttpRoute[] = [
      httpRoute('httproute/ns/stable', [main.key], [rule([prefix('/stable')], [n % 2 === 0 ? 'ns/a:80' : 'ns/b:80'])]),
    ];
    for (let i = 0; i < n % 7; i++)
      routes.push(
        httpRoute(`httproute/ns/churn-${n}-${i}`, [main.key], [rule([prefix(`/churn/${i}`)], ['ns/a:80'])], {
          rank: i + 1,
        }),
      );
    if (n % 5 < 2) {
      const extra = httpListener('ns/gw/extra', extraPort, { address });
      listeners.push(extra);
      routes.push(httpRoute('httproute/ns/extra', [extra.key], [rule([prefix('/')], ['ns/b:80'])], { rank: 100 }));
    }
    return { listeners, backends, httpRoutes: routes };
  }

  it('answers every request on the stable route while generations change', async () => {
    expect((await h.publish(generation(0))).outcome).to.equal('ack');
    let running = true;
    let ok = 0;
    const failures: string[] = [];
    const client = async () => {
      while (running) {
        try {
          const reply = await get(`http://${address}:${port}/stable/x`, { headers: { host: 'example.com' } });
          if (reply.status === 200) ok++;
          else failures.push(`status ${reply.status}: ${reply.text}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const clients = Array.from({ length: 6 }, client);
    const acks: string[] = [];
    for (let n = 1; n <= 50; n++) {
      const result = await h.publish(generation(n));
      acks.push(result.outcome);
      await new Promise((r) => setTimeout(r, 30));
    }
    running = false;
    await Promise.all(clients);
    expect(
      acks.every((a) => a === 'ack'),
      acks.join(','),
    ).to.equal(true);
    expect(failures, failures.slice(0, 5).join('\n')).to.deep.equal([]);
    expect(ok).to.be.greaterThan(200);
  });
});
