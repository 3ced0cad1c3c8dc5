// WebSocket through the gateway with Node's own WebSocket client: the upgrade is routed like a request (path and
// header filters apply), frames flow both ways, and an unrouted upgrade is refused.

import { connect } from 'node:net';
import { expect } from 'chai';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';

function exchange(url: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => ws.send(message);
    ws.onmessage = (event) => {
      resolve(String(event.data));
      ws.close();
    };
    ws.onerror = () => reject(new Error('websocket error'));
  });
}

describe('data plane: WebSocket', () => {
  const address = testAddress();
  const port = 18089;
  let h: Harness;
  let echo: EchoServer;

  before(async () => {
    h = await startHarness();
    echo = await startEchoServer('ws-echo');
    const l = httpListener('ns/gw/http', port, { address });
    const b = backend('ns/ws:80', [['127.0.0.1', echo.port]], { protocol: 'ws' });
    const routes = [
      httpRoute(
        'httproute/ns/ws',
        [l.key],
        [
          rule([prefix('/ws')], [b.key], {
            filters: [
              { type: 'RequestHeaderModifier', set: [{ name: 'x-via', value: 'portico' }], add: [], remove: [] },
              { type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/socket' } },
            ],
          }),
        ],
      ),
    ];
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: routes })).outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
  });

  it('proxies an upgrade and frames both ways, with the route filters applied', async () => {
    expect(await exchange(`ws://${address}:${port}/ws/chat`, 'hello')).to.equal('ws-echo: hello');
    const upgrade = echo.received.at(-1)!;
    expect(upgrade.path).to.equal('/socket/chat');
    expect(upgrade.headers['x-via']).to.equal('portico');
    expect(upgrade.headers['x-forwarded-for']).to.equal('127.0.0.1');
  });

  it('serves an upgrade pipelined behind a plain request as a tunnel, in its turn', async () => {
    // One write: a plain GET, then the upgrade and a first (masked) WebSocket frame right after its head (early, as
    // a client that does not wait for the 101 sends it): the frame must be held for the tunnel, not parsed.
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('piped');
    const frame = Buffer.concat([
      Buffer.from([0x81, 0x80 | payload.length]),
      mask,
      Buffer.from(payload.map((b, i) => b ^ mask[i % 4])),
    ]);
    const head =
      'GET /ws/plain HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /ws/chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const received = await new Promise<string>((resolve) => {
      const socket = connect(port, address);
      let text = '';
      const timer = setTimeout(() => socket.destroy(), 10_000);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('ws-echo: piped')) socket.destroy();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), frame]));
    });
    // The plain request's response first, then the backend's 101, then the frame the backend echoed.
    expect([...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))).to.deep.equal([200, 101]);
    expect(received.indexOf('101 Switching')).to.be.greaterThan(received.indexOf('200 OK'));
    expect(received).to.include('ws-echo: piped');
  });

  it('refuses an upgrade that no route matches', async () => {
    let failed = false;
    await exchange(`ws://${address}:${port}/nope`, 'x').catch(() => (failed = true));
    expect(failed).to.equal(true);
  });
});
