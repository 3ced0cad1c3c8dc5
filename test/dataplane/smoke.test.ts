import { expect } from 'chai';
import { request } from 'undici';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';

describe('data plane smoke', () => {
  let h: Harness;
  let echo: EchoServer;
  const address = testAddress();
  before(async () => {
    h = await startHarness();
    echo = await startEchoServer('echo');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
  });

  it('serves a route published over the socket', async () => {
    const l = httpListener('ns/gw/http', 18080, { address });
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const result = await h.publish({
      listeners: [l],
      backends: [b],
      httpRoutes: [httpRoute('httproute/ns/r', [l.key], [rule([prefix('/')], [b.key])])],
    });
    expect(result.outcome).to.equal('ack');
    const res = await request(`http://${address}:18080/hello?x=1`, { headers: { host: 'example.com' } });
    const body = (await res.body.json()) as { path: string; host: string; headers: Record<string, string> };
    expect(res.statusCode).to.equal(200);
    expect(body.path).to.equal('/hello');
    expect(body.host).to.equal('example.com');
    expect(body.headers['x-forwarded-for']).to.equal('127.0.0.1');
  });
});
