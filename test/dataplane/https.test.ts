// HTTPS listeners: TLS terminated with the certificate chosen by SNI among listeners sharing a port, HTTP/1.1 and
// HTTP/2 (ALPN) on the same socket, and a certificate rotated by a new generation without dropping the socket.

import type { X509Certificate } from 'node:crypto';
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { expect } from 'chai';
import { Agent, request } from 'undici';
import type { CertificateRecord, Listener } from '../../shared/ir/listener.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import type { Pem } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';

function peerCertificate(
  address: string,
  port: number,
  servername: string | undefined,
  ca: string,
): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: address, port, servername, ca, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.destroy();
      raw ? resolve(raw) : reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

describe('data plane: HTTPS', () => {
  const address = testAddress();
  const port = 18443;
  let h: Harness;
  let echo: EchoServer;
  let ca: Pem;
  let certA: Pem;
  let certWild: Pem;
  let certDefault: Pem;

  const cert = (key: string, pem: Pem): CertificateRecord => ({
    key,
    certificatePem: pem.cert,
    privateKeyPem: pem.key,
  });
  const https = (key: string, hostname: string | undefined, certKey: string): Listener =>
    httpListener(key, port, {
      address,
      protocol: 'HTTPS',
      hostname,
      tls: { mode: 'Terminate', certificateKeys: [certKey] },
    });

  function records(certs: CertificateRecord[]) {
    const listeners = [
      https('ns/gw/a', 'a.example.com', 'ns/a'),
      https('ns/gw/wild', '*.wild.example.com', 'ns/wild'),
      https('ns/gw/any', undefined, 'ns/default'),
    ];
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const routes = [
      httpRoute(
        'httproute/ns/r',
        listeners.map((l) => l.key),
        [rule([prefix('/')], [b.key])],
      ),
    ];
    return { listeners, backends: [b], httpRoutes: routes, certificates: certs };
  }

  before(async () => {
    h = await startHarness();
    echo = await startEchoServer('tls-echo');
    ca = makeCa();
    certA = makeLeaf(ca, ['a.example.com']);
    certWild = makeLeaf(ca, ['*.wild.example.com']);
    certDefault = makeLeaf(ca, ['default.example.com']);
    const result = await h.publish(
      records([cert('ns/a', certA), cert('ns/wild', certWild), cert('ns/default', certDefault)]),
    );
    expect(result.outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    await echo?.close();
  });

  it('picks the certificate by SNI, and the catch-all listener’s for unknown names', async () => {
    expect((await peerCertificate(address, port, 'a.example.com', ca.cert)).subject).to.include('CN=a.example.com');
    expect((await peerCertificate(address, port, 'x.wild.example.com', ca.cert)).subject).to.include(
      'CN=*.wild.example.com',
    );
    expect((await peerCertificate(address, port, 'other.test', ca.cert)).subject).to.include('CN=default.example.com');
  });

  it('serves HTTP/1.1 over TLS with a verified certificate, and X-Forwarded-Proto https', async () => {
    const agent = new Agent({ connect: { ca: ca.cert, servername: 'a.example.com' } });
    const res = await request(`https://${address}:${port}/secure`, {
      headers: { host: 'a.example.com' },
      dispatcher: agent,
    });
    const body = (await res.body.json()) as { path: string; headers: Record<string, string> };
    await agent.close();
    expect(res.statusCode).to.equal(200);
    expect(body.path).to.equal('/secure');
    expect(body.headers['x-forwarded-proto']).to.equal('https');
  });

  it('serves HTTP/1.1 over TLS to a client that offers no ALPN at all (the engine takes it)', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: address, port, servername: 'a.example.com', ca: ca.cert }, () => {
        expect(socket.alpnProtocol).to.equal(false);
        socket.end('GET /no-alpn HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n');
      });
      let received = '';
      socket.on('data', (c) => (received += c.toString('latin1')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(text).to.match(/^HTTP\/1\.1 200 /);
    expect(text).to.include('"path":"/no-alpn"');
  });

  it('serves HTTP/2 when the client negotiates h2', async () => {
    const session = http2Connect(`https://${address}:${port}`, { ca: ca.cert, servername: 'x.wild.example.com' });
    const { status, body, alpn } = await new Promise<{
      status: number;
      body: string;
      alpn: string | false | undefined;
    }>((resolve, reject) => {
      const stream = session.request({ ':path': '/h2', ':authority': 'x.wild.example.com' });
      let status = 0;
      let body = '';
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (c: Buffer) => (body += c.toString()));
      stream.on('end', () => resolve({ status, body, alpn: session.alpnProtocol }));
      stream.on('error', reject);
    });
    session.close();
    expect(alpn).to.equal('h2');
    expect(status).to.equal(200);
    expect(JSON.parse(body).path).to.equal('/h2');
  });

  it('rotates a certificate with a new generation, on the same socket', async () => {
    const rotated = makeLeaf(ca, ['a.example.com', 'rotated.example.com']);
    const result = await h.publish(
      records([cert('ns/a', rotated), cert('ns/wild', certWild), cert('ns/default', certDefault)]),
    );
    expect(result.outcome).to.equal('ack');
    const served = await peerCertificate(address, port, 'a.example.com', ca.cert);
    expect(served.subjectAltName).to.include('rotated.example.com');
  });
});
