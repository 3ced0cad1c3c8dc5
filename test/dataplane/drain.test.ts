// Draining on the HTTP/1.1 engine: when a generation removes a listener, a request already in flight on it is
// answered, with `Connection: close`, and the keep-alive connection then ends (clients move to a listener that stays).

import { connect } from 'node:net';
import { expect } from 'chai';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { statusesOf } from '../support/raw-http.ts';

describe('data plane: draining an HTTP/1.1 listener', function () {
  this.timeout(30_000);
  const address = testAddress();
  const port = 18189;
  let h: Harness;
  let echo: EchoServer;

  before(async () => {
    h = await startHarness({ drainMs: 5000 });
    echo = await startEchoServer('echo');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
  });

  it('answers the request in flight with Connection: close, then ends the connection', async () => {
    const l = httpListener('ns/gw/drain', port, { address });
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const route = httpRoute('httproute/ns/drain', [l.key], [rule([prefix('/')], [b.key])]);
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: [route] })).outcome).to.equal('ack');

    const socket = connect(port, address);
    let text = '';
    socket.on('data', (c) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!text.includes('"path":"/first"')) await new Promise((r) => setTimeout(r, 20));
    expect(text.slice(0, text.indexOf('\r\n\r\n'))).to.not.match(/connection: close/i);

    socket.write('GET /slow?delay=2500 HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    // The listener goes away while /slow is in flight.
    expect((await h.publish({ listeners: [], backends: [b], httpRoutes: [] })).outcome).to.equal('ack');
    await closed;
    expect(statusesOf(text)).to.deep.equal([200, 200]);
    const second = text.slice(text.indexOf('HTTP/1.1', 10));
    expect(second.slice(0, second.indexOf('\r\n\r\n'))).to.match(/connection: close/i);
    expect(second).to.include('"path":"/slow"');
  });
});
