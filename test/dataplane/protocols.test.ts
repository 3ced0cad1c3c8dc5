// Protocols on both sides: HTTP/2 with prior knowledge (h2c) to a real node:http2 backend, from an HTTP/1.1
// client and from an h2c client (what gRPC clients do without TLS) on the same plain-HTTP listener.

import { connect, createServer } from 'node:http2';
import type { Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { get } from '../support/http-client.ts';

describe('data plane: backend protocols', () => {
  const address = testAddress();
  const port = 18090;
  let h: Harness;
  let h2c: Http2Server;

  before(async () => {
    h2c = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          version: req.httpVersion,
          path: req.url,
          authority: req.headers[':authority'],
          xff: req.headers['x-forwarded-for'],
        }),
      );
    });
    await new Promise<void>((r) => h2c.listen(0, '127.0.0.1', r));
    h = await startHarness();
    const l = httpListener('ns/gw/http', port, { address });
    const b = backend('ns/h2c:80', [['127.0.0.1', (h2c.address() as AddressInfo).port]], { protocol: 'h2c' });
    expect(
      (
        await h.publish({
          listeners: [l],
          backends: [b],
          httpRoutes: [httpRoute('httproute/ns/r', [l.key], [rule([prefix('/')], [b.key])])],
        })
      ).outcome,
    ).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    h2c?.close();
  });

  it('accepts HTTP/2 with prior knowledge and HTTP/1.1 on the same plain listener', async () => {
    const session = connect(`http://${address}:${port}`);
    const reply = await new Promise<{ status: number; body: string; trailers: Record<string, unknown> }>(
      (resolve, reject) => {
        const stream = session.request({
          ':path': '/pkg.Service/Method',
          ':method': 'POST',
          ':authority': 'grpc.test',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        stream.on('end', () => resolve({ status, body, trailers: {} }));
        stream.on('error', reject);
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      },
    );
    session.close();
    expect(reply.status).to.equal(200);
    expect(JSON.parse(reply.body)).to.include({ version: '2.0', path: '/pkg.Service/Method', authority: 'grpc.test' });
    expect((await get(`http://${address}:${port}/h1`, { headers: { host: 'h.test' } })).status).to.equal(200);
  });

  it('speaks h2c to a backend whose Service port says kubernetes.io/h2c', async () => {
    const reply = await get(`http://${address}:${port}/over/h2c`, { headers: { host: 'h.test' } });
    expect(reply.status).to.equal(200);
    expect(JSON.parse(reply.text)).to.deep.equal({
      version: '2.0',
      path: '/over/h2c',
      authority: 'h.test',
      xff: '127.0.0.1',
    });
  });
});
