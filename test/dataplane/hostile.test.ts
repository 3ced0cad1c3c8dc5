// Hostile requests, written byte by byte on a raw socket: each gets a 4xx from the parser or the gateway, the
// backend never sees a smuggled request, and the shard keeps serving.

import { connect } from 'node:net';
import { expect } from 'chai';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';

function raw(address: string, port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, address);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(bytes);
    setTimeout(() => socket.end(), 300);
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

describe('data plane: hostile requests', () => {
  const address = testAddress();
  const port = 18085;
  let h: Harness;
  let echo: EchoServer;

  before(async () => {
    h = await startHarness({ headersTimeoutMs: 1500 });
    echo = await startEchoServer('echo');
    const l = httpListener('ns/gw/http', port, { address });
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const routes = [httpRoute('httproute/ns/r', [l.key], [rule([prefix('/')], [b.key])])];
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: routes })).outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
  });

  it('refuses oversized headers with 431', async () => {
    const res = await raw(address, port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(statusOf(res)).to.equal(431);
  });

  it('refuses Content-Length together with Transfer-Encoding (smuggling) with 400, and forwards nothing', async () => {
    const before = echo.received.length;
    const smuggle =
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
    const res = await raw(address, port, smuggle);
    expect(statusOf(res)).to.equal(400);
    expect(echo.received.slice(before).some((r) => r.path === '/smuggled')).to.equal(false);
  });

  it('refuses duplicate Content-Length, bad chunk framing, control characters, bare LF, and a missing Host', async () => {
    const cases = [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n',
      'GET / HTTP/1.1\nHost: x\n\n',
      'GET / HTTP/1.1\r\n\r\n',
      'GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const request of cases) {
      expect(statusOf(await raw(address, port, request)), JSON.stringify(request)).to.equal(400);
    }
  });

  it('answers an encoded dot-dot path with 400 instead of forwarding a traversal', async () => {
    const res = await raw(address, port, 'GET /a/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusOf(res)).to.equal(400);
  });

  it('closes a connection that sends nothing (slowloris before the first byte) and one that half-closes at once', async () => {
    const silent = connect(port, address);
    const silentClosed = new Promise<number>((resolve) => {
      const started = Date.now();
      silent.on('close', () => resolve(Date.now() - started));
    });
    silent.on('error', () => undefined);
    const halfClosed = connect(port, address);
    halfClosed.on('error', () => undefined);
    const halfClosedGone = new Promise<void>((resolve) => halfClosed.on('close', () => resolve()));
    halfClosed.on('connect', () => halfClosed.end());
    await halfClosedGone;
    expect(await silentClosed).to.be.within(1000, 5000);
  });

  it('keeps serving after all of that', async () => {
    expect((await get(`http://${address}:${port}/fine`, { headers: { host: 'x' } })).status).to.equal(200);
  });
});
