// The HTTP/1.1 engine's own behaviour over real sockets, where a raw client or a raw backend is needed to see it:
// pipelined requests answered in order, Expect: 100-continue, HEAD, 1xx responses relayed, a chunked body re-framed
// once, a stale pooled upstream connection retried once only when that is safe, upstream bytes that would split a
// response refused with 502, and a client that stops reading holding the upstream back instead of growing memory.

import { createServer as createNetServer, connect } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { Client } from 'undici';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { rawExchange, statusOf, statusesOf } from '../support/raw-http.ts';

/** A backend written byte by byte: `onRequest(socket, n)` for the n-th request head seen on each connection. */
async function rawBackend(onRequest: (socket: Socket, connection: number) => void): Promise<NetServer> {
  let connections = 0;
  const server = createNetServer((socket) => {
    const connection = ++connections;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        onRequest(socket, connection);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

const portOf = (s: NetServer | Server) => (s.address() as AddressInfo).port;

describe('data plane: the HTTP/1.1 engine', function () {
  this.timeout(30_000);
  const address = testAddress();
  const port = 18188;
  let h: Harness;
  let echo: EchoServer;
  let early: NetServer;
  let splitter: NetServer;
  let stale: NetServer;
  let firehose: Server;
  let written = 0;
  let sink: Server;
  let sinkRequest: import('node:http').IncomingMessage | null = null;

  before(async () => {
    h = await startHarness();
    echo = await startEchoServer('echo');
    early = await rawBackend((s) =>
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    );
    splitter = await rawBackend((s) =>
      s.write('HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok'),
    );
    // Every connection answers its first request and dies on the next one, as a backend that closed an idle
    // keep-alive connection the moment the gateway reused it.
    stale = await rawBackend((s, connection) => {
      const n = ((s as Socket & { served?: number }).served ?? 0) + 1;
      (s as Socket & { served?: number }).served = n;
      if (n > 1) return void s.destroy();
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nconn ${connection}`);
    });
    firehose = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    await new Promise<void>((r) => firehose.listen(0, '127.0.0.1', r));
    // Takes an upload and never reads it: the gateway must stop reading from the client, not buffer the upload.
    sink = createServer((req) => {
      sinkRequest = req;
      req.pause();
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const l = httpListener('ns/gw/engine', port, { address });
    const backends = [
      backend('ns/echo:80', [['127.0.0.1', echo.port]]),
      backend('ns/early:80', [['127.0.0.1', portOf(early)]]),
      backend('ns/split:80', [['127.0.0.1', portOf(splitter)]]),
      backend('ns/stale:80', [['127.0.0.1', portOf(stale)]]),
      backend('ns/firehose:80', [['127.0.0.1', portOf(firehose)]]),
      backend('ns/sink:80', [['127.0.0.1', portOf(sink)]]),
    ];
    const routes = [
      httpRoute(
        'httproute/ns/engine',
        [l.key],
        [
          rule([prefix('/early')], ['ns/early:80']),
          rule([prefix('/split')], ['ns/split:80']),
          rule([prefix('/stale')], ['ns/stale:80']),
          rule([prefix('/firehose')], ['ns/firehose:80']),
          rule([prefix('/sink')], ['ns/sink:80']),
          rule([prefix('/')], ['ns/echo:80']),
        ],
      ),
    ];
    expect((await h.publish({ listeners: [l], backends, httpRoutes: routes })).outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
    for (const s of [early, splitter, stale]) s?.close();
    for (const s of [firehose, sink]) {
      s?.closeAllConnections();
      s?.close();
    }
  });

  it('answers pipelined requests in the order they came, the slow one first', async () => {
    const res = await rawExchange(
      address,
      port,
      'GET /one?delay=300 HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n',
      800,
    );
    expect(statusesOf(res)).to.deep.equal([200, 200, 200]);
    const paths = [...res.matchAll(/"path":"([^"]+)"/g)].map((m) => m[1]);
    expect(paths).to.deep.equal(['/one', '/two', '/three']);
  });

  it('relays 100 Continue before the body is sent, then forwards the body', async () => {
    const socket = connect(port, address);
    let text = '';
    socket.on('data', (c) => (text += c.toString('latin1')));
    socket.write('POST /expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    while (!text.includes('100 Continue')) await new Promise((r) => setTimeout(r, 20));
    expect(text).to.not.include('200 OK');
    socket.write('hello');
    while (!text.includes('"body":"hello"')) await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    expect(statusesOf(text)).to.deep.equal([100, 200]);
  });

  it('answers HEAD with the headers only, keeping the connection usable', async () => {
    const res = await rawExchange(
      address,
      port,
      'HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(statusesOf(res)).to.deep.equal([200, 200]);
    expect(res).to.include('"path":"/after"');
    expect(res).to.not.include('"path":"/head"');
  });

  it('answers a Connection: close request (and an HTTP/1.0 one) with Connection: close, then closes', async () => {
    for (const request of [
      'GET /close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /close HTTP/1.0\r\nHost: x\r\n\r\n',
    ]) {
      // A long endAfterMs: the close must come from the gateway.
      const res = await rawExchange(address, port, request, 10_000);
      expect(statusesOf(res), request).to.deep.equal([200]);
      expect(res.slice(0, res.indexOf('\r\n\r\n'))).to.match(/\r\nconnection: close/i);
    }
    // A request sent after one that closes the connection is refused as node:http refuses it, and never forwarded.
    const res = await rawExchange(
      address,
      port,
      'GET /close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n',
      10_000,
    );
    expect(statusesOf(res)).to.deep.equal([200, 400]);
    expect(echo.received.some((r) => r.path === '/never')).to.equal(false);
  });

  it('relays a 103 Early Hints before the final response', async () => {
    const res = await rawExchange(address, port, 'GET /early HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusesOf(res)).to.deep.equal([103, 200]);
    expect(res).to.match(/link: <\/a\.css>/i);
  });

  it('forwards a chunked request body re-framed once, intact', async () => {
    const body = '5\r\nhello\r\n1;ext=x\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n';
    const res = await rawExchange(
      address,
      port,
      `POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
    );
    expect(statusOf(res)).to.equal(200);
    const seen = echo.received.findLast((r) => r.path === '/chunked');
    expect(seen?.body).to.equal('hello world');
    expect(seen?.headers['transfer-encoding']).to.equal('chunked');
    // The trailer stays a trailer: after the body, not merged into the head.
    expect(seen?.headers).to.not.have.property('x-trailer');
    expect(seen?.trailers).to.deep.equal({ 'x-trailer': 't' });
  });

  it('forwards request trailers after the body, without fields a trailer must not carry', async () => {
    // (A Content-Length among the trailers is llhttp's to refuse: 400, as node:http.)
    const body =
      '5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Count: 1\r\nHost: evil\r\nAuthorization: x\r\nConnection: close\r\n\r\n';
    const res = await rawExchange(
      address,
      port,
      `POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n${body}`,
    );
    expect(statusOf(res)).to.equal(200);
    const seen = echo.received.findLast((r) => r.path === '/trailers');
    expect(seen?.body).to.equal('hello');
    expect(seen?.trailers).to.deep.equal({ 'x-checksum': 'abc', 'x-count': '1' });
    expect(seen?.headers.host).to.not.equal('evil');
  });

  it('retries a stale pooled connection once for an idempotent request without a body, never a POST', async () => {
    // One client connection, so that every request goes through the same shard and its pool.
    const client = new Client(`http://${address}:${port}`);
    const call = async (method: 'GET' | 'POST', body?: string) => {
      const res = await client.request({ path: '/stale', method, headers: { host: 'x' }, body });
      return { status: res.statusCode, text: await res.body.text() };
    };
    try {
      const first = await call('GET');
      // The pooled connection is reused and dies without an answer: the GET goes again, on a new connection.
      const second = await call('GET');
      expect(first.status).to.equal(200);
      expect(second.status).to.equal(200);
      expect(second.text).to.not.equal(first.text);
      // A POST with a body on the next reused (dying) connection is not repeated: 502.
      expect((await call('POST', 'payload')).status).to.equal(502);
    } finally {
      await client.close();
    }
  });

  it('answers 502 to upstream bytes that would split a response, and passes none of them on', async () => {
    const res = await rawExchange(address, port, 'GET /split HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusOf(res)).to.equal(502);
    expect(res).to.not.include('evil');
  });

  it('counts the answers it sends and the upstream errors it sees, once each, in /metrics', async () => {
    for (let i = 0; i < 3; i++) await rawExchange(address, port, 'GET /split HTTP/1.1\r\nHost: x\r\n\r\n', 50);
    const metrics = (await get(`${h.adminUrl}/metrics`)).text;
    const count = (prefixText: string, ...parts: string[]) =>
      metrics
        .split('\n')
        .filter((line) => line.startsWith(prefixText) && parts.every((p) => line.includes(p)))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    expect(count('portico_upstream_errors_total{', 'ns/split:80', 'HPE_')).to.be.at.least(3);
    // Every upstream failure answered here was a 502 (the split backend's, the stale POST's): one count each.
    expect(count('portico_http_requests_total{', 'code="502"')).to.equal(count('portico_upstream_errors_total{'));
  });

  it('holds the upstream back when the client stops reading (memory stays bounded)', async () => {
    written = 0;
    const socket = connect(port, address);
    socket.on('error', () => undefined);
    socket.pause();
    socket.write('GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = written;
    await new Promise((r) => setTimeout(r, 500));
    socket.destroy();
    // Kernel socket buffers on both sides plus one read in flight: a few MiB, nowhere near an unbounded stream.
    expect(stalled).to.be.greaterThan(0);
    expect(stalled).to.be.below(48 * 1024 * 1024);
    expect(written - stalled).to.be.below(1024 * 1024);
  });

  it('holds the client back when the backend stops reading an upload (memory stays bounded)', async () => {
    const socket = connect(port, address);
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n');
    const chunk = Buffer.alloc(64 * 1024, 121);
    let sent = 0;
    let stop = false;
    const pump = () => {
      while (!stop && sent < 1024 * 1024 * 1024) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = sent;
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    socket.destroy();
    expect(sinkRequest, 'the upload reached the backend').to.not.equal(null);
    // A 1 GiB upload stops after the socket buffers on the way fill: the gateway reads no faster than the backend.
    expect(stalled).to.be.below(48 * 1024 * 1024);
    expect(sent - stalled).to.be.below(1024 * 1024);
  });
});
