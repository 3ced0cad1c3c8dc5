// The benchmark's ceiling proxy (bench/ceiling-proxy.ts) forwards what it is given correctly, so that its line in
// `npm run bench` measures a proxy and not a shortcut: Host lookup, bodies both ways, HEAD, pipelined requests in
// order over one connection, hop-by-hop headers dropped, 404 for an unknown host without a fallback.

import { createServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { expect } from 'chai';
import { startCeilingProxy } from '../../bench/ceiling-proxy.ts';

async function echo(name: string): Promise<HttpServer> {
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const payload = JSON.stringify({
        backend: name,
        method: req.method,
        url: req.url,
        host: req.headers.host,
        connection: req.headers.connection ?? null,
        keepAlive: req.headers['keep-alive'] ?? null,
        body,
      });
      // Chunked for /chunked (written in two parts), sized otherwise.
      if (req.url === '/chunked') {
        res.write(payload.slice(0, 5));
        res.end(payload.slice(5));
      } else res.end(payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** Sends raw bytes on one connection and collects everything until the proxy closes it. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.write(bytes);
  });
}

describe('bench: the llhttp ceiling proxy', () => {
  let a: HttpServer;
  let b: HttpServer;
  let proxy: Server;
  let port: number;

  before(async () => {
    a = await echo('a');
    b = await echo('b');
    const at = (s: HttpServer) => ({ host: '127.0.0.1', port: (s.address() as AddressInfo).port });
    proxy = await startCeilingProxy({ port: 0, routes: new Map([['b.test', at(b)]]), fallback: at(a) });
    port = (proxy.address() as AddressInfo).port;
  });
  after(() => {
    proxy?.close();
    a?.close();
    b?.close();
  });

  it('routes by Host, forwards bodies, and answers pipelined requests in order on one connection', async () => {
    const out = await raw(
      port,
      'GET /one HTTP/1.1\r\nHost: B.test:80\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n' +
        'POST /two HTTP/1.1\r\nHost: other.test\r\nContent-Length: 5\r\n\r\nhello' +
        'PUT /three HTTP/1.1\r\nHost: b.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
        'GET /chunked HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n',
    );
    // The last answer is chunked: drop its size lines to read the bodies.
    const bodies = [...out.replace(/\r\n[0-9a-f]+\r\n/gi, '').matchAll(/\{[^}]*\}/g)].map(
      (m) => JSON.parse(m[0]) as Record<string, unknown>,
    );
    expect(bodies.map((x) => [x.backend, x.method, x.url, x.body])).to.deep.equal([
      ['b', 'GET', '/one', ''],
      ['a', 'POST', '/two', 'hello'],
      ['b', 'PUT', '/three', 'abc'],
      ['b', 'GET', '/chunked', ''],
    ]);
    expect(bodies[0].host).to.equal('B.test:80');
    // Hop-by-hop headers stay on their hop: the client's Connection and Keep-Alive do not reach the backend.
    expect([bodies[0].connection, bodies[0].keepAlive]).to.deep.equal([null, null]);
    expect(out.match(/HTTP\/1\.1 200 /g)).to.have.length(4);
    expect(out).to.match(/transfer-encoding: chunked\r\nconnection: close\r\n\r\n/i);
  });

  it('answers HEAD without a body, and 404 for an unknown host when there is no fallback', async () => {
    const head = await raw(port, 'HEAD /h HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n');
    expect(head).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.endsWith('\r\n\r\n')).to.equal(true);
    const strict = await startCeilingProxy({ port: 0, routes: new Map() });
    try {
      const out = await raw(
        (strict.address() as AddressInfo).port,
        'GET / HTTP/1.1\r\nHost: nobody.test\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      expect(out.match(/HTTP\/1\.1 404 /g)).to.have.length(2);
    } finally {
      strict.close();
    }
  });

  it('refuses a malformed request with 400', async () => {
    const out = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost : b\r\nbad header\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 400 /);
  });
});
