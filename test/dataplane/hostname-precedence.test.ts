// Route precedence by the routes' own hostnames (GatewayRouteHostnameIntersectionPrecedence), one level up from the
// golden case `httproute/hostname-precedence`: its input is translated, the IR is published to a real data plane
// (listeners moved to a test address and ports of their own, each Service's endpoints replaced by a real echo server
// named after it), and requests show which route won. The translator keeps a route's own hostname where it is wider
// than the listener's; the data plane tries the most specific route hostname first and falls through to the wider
// one when none of its rules match.

import { expect } from 'chai';
import type { Listener } from '../../shared/ir/listener.ts';
import { loadCases, runCase } from '../translate/golden.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';

describe('data plane: route precedence by the routes’ own hostnames (translated golden case)', () => {
  const address = testAddress();
  const ports: Record<string, number> = { 'infra/exact/abc': 18095, 'infra/gw/example': 18096 };
  let h: Harness;
  const echoes: EchoServer[] = [];

  before(async () => {
    const [testCase] = loadCases('httproute/hostname-precedence');
    expect(testCase?.name).to.equal('hostname-precedence');
    const { ir } = runCase(testCase);
    const listeners: Listener[] = ir.listeners
      .filter((l) => ports[l.key] !== undefined)
      .map((l) => ({ ...l, address, port: ports[l.key] }));
    expect(listeners.map((l) => l.key).sort()).to.deep.equal(Object.keys(ports).sort());
    const backends = [];
    for (const b of ir.backends) {
      const echo = await startEchoServer(b.source.name);
      echoes.push(echo);
      backends.push({ ...b, endpoints: [{ address: '127.0.0.1', port: echo.port }] });
    }
    h = await startHarness();
    const httpRoutes = ir.httpRoutes.map((r) => ({
      ...r,
      parents: r.parents.filter((p) => ports[p.listenerKey] !== undefined),
    }));
    expect((await h.publish({ listeners, backends, httpRoutes })).outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    await Promise.all(echoes.map((e) => e.close()));
  });

  const backendFor = async (port: number, path: string, headers: Record<string, string>) => {
    const reply = await get(`http://${address}:${port}${path}`, { headers: { host: 'abc.example.com', ...headers } });
    expect(reply.status).to.equal(200);
    return reply.echo?.backend;
  };

  it('serves the newer exact-hostname route before the older wildcard one, whatever their paths', async () => {
    expect(await backendFor(18095, '/path/prefix/longer', { 'header-a': 'A', 'header-b': 'B' })).to.equal('echo-v2');
  });

  it('lets a request the exact-hostname route does not match fall through to the wildcard route', async () => {
    expect(await backendFor(18095, '/path/prefix/longer', { 'header-b': 'B' })).to.equal('echo');
  });

  it('serves the newer *.example.com route before the older *.com one on a *.example.com listener', async () => {
    expect(await backendFor(18096, '/path/prefix/longer', {})).to.equal('echo-v2');
  });

  it('keeps the listener’s hostname as the limit: a wider route name admits no other host', async () => {
    const reply = await get(`http://${address}:18095/path/prefix/x`, {
      headers: { host: 'other.example.com', 'header-b': 'B' },
    });
    expect(reply.status).to.equal(404);
  });
});
