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
  let abs: EchoServer;

  before(async () => {
    h = await startHarness({ headersTimeoutMs: 1500 });
    echo = await startEchoServer('echo');
    abs = await startEchoServer('abs');
    const l = httpListener('ns/gw/http', port, { address });
    const la = httpListener('ns/gw/abs', port, { address, hostname: 'abs.example.com' });
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const ba = backend('ns/abs:80', [['127.0.0.1', abs.port]]);
    const routes = [
      httpRoute('httproute/ns/r', [l.key], [rule([prefix('/')], [b.key])]),
      httpRoute('httproute/ns/abs', [la.key], [rule([prefix('/')], [ba.key])]),
    ];
    const result = await h.publish({ listeners: [l, la], backends: [b, ba], httpRoutes: routes });
    expect(result.outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
    await abs?.close();
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

  it('refuses a transfer coding other than chunked with 501 (RFC 9112 §6.1), and forwards nothing', async () => {
    // The engine decodes no coding but chunked and frames bodies itself: relabelling the body would change what the
    // backend reads, so these are refused (as nginx does) rather than re-framed.
    const before = echo.received.length;
    const cases = ['gzip, chunked', 'deflate, chunked', 'x-custom, chunked'];
    for (const coding of cases) {
      const request = `POST /coded HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`;
      const res = await raw(address, port, request);
      expect(statusOf(res), coding).to.equal(501);
      expect(res, coding).to.match(/connection: close/i);
    }
    // Two Transfer-Encoding lines are one list ("chunked, chunked"): chunked twice is bad framing, llhttp's 400.
    const twice =
      'POST /coded HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    expect(statusOf(await raw(address, port, twice))).to.equal(400);
    expect(echo.received.slice(before).some((r) => r.path === '/coded')).to.equal(false);
    // The one coding a request may carry, in any case, is forwarded.
    const plain = 'POST /coded HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    expect(statusOf(await raw(address, port, plain))).to.equal(200);
    expect(echo.received.at(-1)?.body).to.equal('hello');
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

  it('refuses a request with two Host headers with 400, and forwards nothing (RFC 9112 §3.2)', async () => {
    const before = echo.received.length;
    const res = await raw(address, port, 'GET /two-hosts HTTP/1.1\r\nHost: x\r\nHost: evil.example\r\n\r\n');
    expect(statusOf(res)).to.equal(400);
    expect(echo.received.slice(before).some((r) => r.path === '/two-hosts')).to.equal(false);
  });

  it('answers a 70 KiB request target with 414, a header block over the limit with 431', async () => {
    expect(statusOf(await raw(address, port, `GET /${'a'.repeat(70 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`))).to.equal(
      414,
    );
    const many = Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(40)}\r\n`).join('');
    expect(statusOf(await raw(address, port, `GET / HTTP/1.1\r\nHost: x\r\n${many}\r\n`))).to.equal(431);
  });

  it('routes an absolute-form target by its own authority and path, whatever the Host header says', async () => {
    const res = await raw(address, port, 'GET http://abs.example.com/p/q?x=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusOf(res)).to.equal(200);
    // The echo body is chunked: its JSON is the one brace-delimited run of it.
    const reply = JSON.parse(/\{.*\}/s.exec(res)?.[0] ?? 'null') as {
      backend: string;
      path: string;
      query: string;
      host: string;
    };
    expect(reply).to.include({ backend: 'abs', path: '/p/q', query: 'x=1', host: 'abs.example.com' });
  });

  it('never forwards an Upgrade: h2c (the request is served as HTTP/1.1, without its upgrade headers)', async () => {
    const res = await raw(
      address,
      port,
      'GET /h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    );
    expect(statusOf(res)).to.equal(200);
    const seen = echo.received.findLast((r) => r.path === '/h2c');
    expect(seen?.headers).to.not.have.any.keys('upgrade', 'http2-settings');
    expect(seen?.headers.connection ?? '').to.not.match(/upgrade/i);
  });

  it('closes with 408 a connection that sends its headers too slowly (slowloris)', async () => {
    const socket = connect(port, address);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    const started = Date.now();
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X: y\r\n'), 200);
    const elapsed = await closed;
    clearInterval(drip);
    expect(statusOf(Buffer.concat(chunks).toString('latin1'))).to.equal(408);
    expect(elapsed).to.be.within(1000, 5000);
  });

  it('keeps serving after all of that', async () => {
    expect((await get(`http://${address}:${port}/fine`, { headers: { host: 'x' } })).status).to.equal(200);
  });
});
