// Config admission over the real socket: a bad snapshot is refused with its problems and the previous one keeps
// serving; bind failures are reported per listener; the admin endpoint tells readiness and aggregates metrics.

import { expect } from 'chai';
import { connect } from 'node:net';
import { statSync } from 'node:fs';
import { IR_VERSION } from '../../shared/ir/snapshot.ts';
import { FrameDecoder, encodeFrame } from '../../shared/protocol/frames.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';

describe('data plane: config admission and admin endpoint', () => {
  const address = testAddress();
  const port = 18084;
  const base = `http://${address}:${port}`;
  let h: Harness;
  let echo: EchoServer;
  const l = httpListener('ns/gw/http', port, { address });
  let good: () => ReturnType<typeof goodRecords>;
  function goodRecords() {
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    return {
      listeners: [l],
      backends: [b],
      httpRoutes: [httpRoute('httproute/ns/r', [l.key], [rule([prefix('/')], [b.key])])],
    };
  }

  before(async () => {
    h = await startHarness();
    echo = await startEchoServer('echo');
    good = goodRecords;
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
  });

  it('is not ready before the first config, and ready after it', async () => {
    expect((await get(`${h.adminUrl}/healthz`)).status).to.equal(200);
    expect((await get(`${h.adminUrl}/readyz`)).status).to.equal(503);
    expect((await h.publish(good())).outcome).to.equal('ack');
    expect((await get(`${h.adminUrl}/readyz`)).status).to.equal(200);
  });

  it('creates the socket file with mode 0600', () => {
    expect(statSync(h.socketPath).mode & 0o777).to.equal(0o600);
  });

  it('nacks a snapshot with a regex bomb and an invalid path, naming the fields, and keeps serving the previous one', async () => {
    const records = good();
    const bad = structuredClone(records);
    bad.httpRoutes[0].rules[0].matches = [
      { path: { type: 'RegularExpression', value: '((a{100}){100}){100}' }, headers: [], queryParams: [] },
      { path: { type: 'Exact', value: 'no-slash' }, headers: [], queryParams: [] },
    ];
    const before = h.dataPlane.generation();
    const result = await h.publish(bad);
    expect(result.outcome).to.equal('nack');
    if (result.outcome !== 'nack') return;
    expect(result.nack.reason).to.equal('Invalid');
    expect(result.nack.current).to.equal(before);
    expect(result.nack.problems.map((p) => p.path)).to.deep.equal([
      'httpRoutes[httproute/ns/r].rules[0].matches[0].path.value',
      'httpRoutes[httproute/ns/r].rules[0].matches[1].path.value',
    ]);
    expect(h.dataPlane.generation()).to.equal(before);
    expect((await get(`${base}/still`, { headers: { host: 'x' } })).status).to.equal(200);
    // And the next good snapshot is accepted on top of the one still in force.
    expect((await h.publish(good())).outcome).to.equal('ack');
  });

  it('refuses a hostile peer: an unknown IR version, a delta on the wrong base, a malformed frame', async () => {
    const socket = connect(h.socketPath);
    const decoder = new FrameDecoder();
    const answers: unknown[] = [];
    socket.on('data', (chunk) => answers.push(...decoder.push(chunk).messages));
    await new Promise((r) => socket.once('connect', r));
    socket.write(encodeFrame({ type: 'hello', role: 'operator', protocol: 1, instance: 'hostile' }));
    const generation = h.dataPlane.generation() + 1;
    const empty = { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] };
    socket.write(
      encodeFrame({
        type: 'config',
        delta: { irVersion: 999, generation, baseGeneration: 0, upsert: empty, remove: empty },
      }),
    );
    socket.write(
      encodeFrame({
        type: 'config',
        delta: { irVersion: IR_VERSION, generation, baseGeneration: 12345, upsert: empty, remove: empty },
      }),
    );
    const deadline = Date.now() + 3000;
    while (answers.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const nacks = answers.filter((a) => (a as { type: string }).type === 'nack') as Array<{
      reason: string;
      problems: Array<{ code: string }>;
    }>;
    expect(nacks.map((n) => n.reason)).to.deep.equal(['Invalid', 'BaseMismatch']);
    expect(nacks[0].problems[0].code).to.equal('UnsupportedVersion');
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await closed;
    // The publisher's own connection was replaced by the hostile one and reconnects; service never stopped.
    expect((await get(`${base}/still`, { headers: { host: 'x' } })).status).to.equal(200);
    expect((await h.publish(good())).outcome).to.equal('ack');
  });

  it('reports a listener whose address cannot be bound, and serves the others', async () => {
    const records = good();
    const unusable = httpListener('ns/gw2/http', port, { address: '192.0.2.10' });
    const result = await h.publish({ ...records, listeners: [...records.listeners, unusable] });
    expect(result.outcome).to.equal('ack');
    if (result.outcome !== 'ack') return;
    expect(result.ack.listenerErrors.map((e) => e.listenerKey)).to.deep.equal(['ns/gw2/http']);
    expect(result.ack.listenerErrors[0].message).to.match(/EADDRNOTAVAIL/);
    expect((await get(`${base}/`, { headers: { host: 'x' } })).status).to.equal(200);
  });

  it('serves /metrics summed over shards', async () => {
    for (let i = 0; i < 20; i++) await get(`${base}/m`, { headers: { host: 'x' } });
    const metrics = (await get(`${h.adminUrl}/metrics`)).text;
    const line = metrics
      .split('\n')
      .find((s) => s.startsWith('portico_http_requests_total{') && s.includes('code="200"'));
    expect(line, metrics.slice(0, 2000)).to.not.equal(undefined);
    expect(Number(line!.split(' ').pop())).to.be.at.least(20);
    expect(metrics).to.include('portico_upstream_response_seconds_bucket');
    expect(metrics).to.match(/portico_dataplane_shards_ready 2/);
  });
});
