// TLS defaults (dataplane/tls-defaults.ts) on a real data plane: an HTTPS listener (dataplane/shard/https-server.ts)
// and a TLS listener that terminates (dataplane/l4/tls-server.ts), both with an RSA certificate, so that a client
// could pick static-RSA key exchange if the server let it. Clients that offer only static RSA, only CBC suites, or
// only TLS 1.1 are refused; TLS 1.3 and TLS 1.2 with ECDHE and an AEAD suite are served. And the session-ticket key
// rotation, on a real TLS server: a ticket from before a rotation no longer resumes.

import { once } from 'node:events';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { connect, createServer as createTlsServer } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { expect } from 'chai';
import { TLS12_SUITES, TLS_DEFAULTS, rotateTicketKeys } from '../../dataplane/tls-defaults.ts';
import type { CertificateRecord, Listener, ListenerTlsOptions } from '../../shared/ir/listener.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import type { Pem } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';

const HOST = 'tls.example.com';
const STATIC_RSA = 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA';
const CBC = 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384';

type Outcome = { ok: true; protocol: string | null; cipher: string } | { ok: false; error: string };

function handshake(port: number, host: string, options: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, servername: HOST, rejectUnauthorized: false, ...options }, () => {
      resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name });
      socket.destroy();
    });
    socket.on('error', (error) => resolve({ ok: false, error: error.message }));
    socket.on('close', () => resolve({ ok: false, error: 'closed' }));
  });
}

describe('data plane: TLS defaults (Mozilla intermediate)', function () {
  this.timeout(30_000);
  const address = testAddress();
  const httpsPort = 18291;
  const tlsPort = 18292;
  let h: Harness;
  let echo: EchoServer;
  let tcpEcho: TcpServer;
  let pem: Pem;

  before(async () => {
    echo = await startEchoServer('echo');
    tcpEcho = createTcpServer((socket) => socket.pipe(socket));
    tcpEcho.listen(0, '127.0.0.1');
    await once(tcpEcho, 'listening');
    h = await startHarness({ shards: 1 });
    pem = makeLeaf(makeCa('Portico Test CA', 'rsa'), [HOST], { keyType: 'rsa' });
    const certificate: CertificateRecord = { key: 'ns/rsa', certificatePem: pem.cert, privateKeyPem: pem.key };
    const https = httpListener('ns/gw/https', httpsPort, {
      address,
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificateKeys: [certificate.key] },
    });
    const tls: Listener = {
      ...httpListener('ns/gw/tls', tlsPort, { address }),
      protocol: 'TLS',
      hostname: HOST,
      tls: { mode: 'Terminate', certificateKeys: [certificate.key] },
    };
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const t = backend('ns/tcp:80', [['127.0.0.1', (tcpEcho.address() as AddressInfo).port]], { protocol: 'tcp' });
    const outcome = await h.publish({
      listeners: [https, tls],
      backends: [b, t],
      certificates: [certificate],
      httpRoutes: [httpRoute('httproute/ns/r', [https.key], [rule([prefix('/')], [b.key])])],
      streamRoutes: [
        {
          key: 'tlsroute/ns/t',
          source: { kind: 'TLSRoute', namespace: 'ns', name: 't' },
          rank: 0,
          parents: [{ listenerKey: tls.key, hostnames: [HOST] }],
          backends: [{ backendKey: t.key, weight: 1, filters: [] }],
        },
      ],
    });
    expect(outcome.outcome, JSON.stringify(outcome)).to.equal('ack');
  });

  after(async () => {
    await h?.stop();
    await echo?.close();
    tcpEcho?.close();
  });

  it("the clients below are ones Node's defaults accept: static-RSA key exchange and CBC suites (control)", async () => {
    const server = createTlsServer({ cert: pem.cert, key: pem.key }, (socket) => socket.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      for (const ciphers of [STATIC_RSA, CBC]) {
        const outcome = await handshake(port, '127.0.0.1', { maxVersion: 'TLSv1.2', ciphers });
        expect(outcome.ok, `${ciphers}: ${JSON.stringify(outcome)}`).to.equal(true);
      }
    } finally {
      server.close();
    }
    const ours = String(TLS_DEFAULTS.ciphers).split(':');
    expect(ours.filter((c) => !c.startsWith('TLS_') && !c.startsWith('ECDHE-'))).to.deep.equal([]);
    expect(ours.filter((c) => !/GCM|CHACHA20/.test(c))).to.deep.equal([]);
  });

  for (const [listener, port] of [
    ['HTTPS', httpsPort],
    ['TLS (Terminate)', tlsPort],
  ] as const) {
    it(`${listener}: refuses a client that offers only static-RSA key exchange`, async () => {
      const outcome = await handshake(port, address, { maxVersion: 'TLSv1.2', ciphers: STATIC_RSA });
      expect(outcome.ok, JSON.stringify(outcome)).to.equal(false);
    });

    it(`${listener}: refuses a client that offers only CBC suites`, async () => {
      const outcome = await handshake(port, address, { maxVersion: 'TLSv1.2', ciphers: CBC });
      expect(outcome.ok, JSON.stringify(outcome)).to.equal(false);
    });

    it(`${listener}: refuses TLS 1.1`, async () => {
      const outcome = await handshake(port, address, {
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      expect(outcome.ok, JSON.stringify(outcome)).to.equal(false);
    });

    it(`${listener}: serves TLS 1.3, and TLS 1.2 with each ECDHE-RSA AEAD suite`, async () => {
      expect(await handshake(port, address, {})).to.deep.include({ ok: true, protocol: 'TLSv1.3' });
      for (const suite of TLS12_SUITES.filter((s) => s.startsWith('ECDHE-RSA-'))) {
        const outcome = await handshake(port, address, { maxVersion: 'TLSv1.2', ciphers: suite });
        expect(outcome, suite).to.deep.equal({ ok: true, protocol: 'TLSv1.2', cipher: suite });
      }
    });
  }

  it('rotates the session-ticket key: a ticket sealed before a rotation no longer resumes', async () => {
    const server = createTlsServer({ ...TLS_DEFAULTS, cert: pem.cert, key: pem.key }, (socket) => socket.end('x'));
    rotateTicketKeys(server, 300);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const connectOnce = (session?: Buffer) =>
        new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
          let ticket: Buffer | undefined;
          const socket = connect(
            { host: '127.0.0.1', port, servername: HOST, rejectUnauthorized: false, maxVersion: 'TLSv1.2', session },
            () => {
              reused = socket.isSessionReused();
              socket.resume();
            },
          );
          let reused = false;
          socket.on('session', (s: Buffer) => (ticket = s));
          socket.on('error', reject);
          socket.on('close', () => resolve({ reused, session: ticket }));
        });
      // While one key is in force, its ticket resumes; a try that a rotation cut through is tried again.
      let resumed: { reused: boolean; session: Buffer | undefined } = { reused: false, session: undefined };
      let ticket: Buffer | undefined;
      for (let attempt = 0; attempt < 20 && !resumed.reused; attempt++) {
        const keys = server.getTicketKeys();
        const first = await connectOnce();
        expect(first.session, 'a ticket was issued').to.not.equal(undefined);
        ticket = first.session;
        resumed = await connectOnce(ticket);
        if (!resumed.reused)
          expect(server.getTicketKeys().equals(keys), 'not resumed, yet the key did not turn').to.equal(false);
      }
      expect(resumed.reused, 'the ticket resumes while its key is in force').to.equal(true);
      const before = server.getTicketKeys();
      while (server.getTicketKeys().equals(before)) await new Promise((r) => setTimeout(r, 50));
      // The same ticket, that resumed a moment ago, no longer does.
      expect((await connectOnce(ticket)).reused, 'after a rotation').to.equal(false);
    } finally {
      server.close();
    }
  });
});

/** Whether a request over a TLS connection with these client options is answered (not merely handshaken). */
function served(port: number, host: string, servername: string, options: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect({ host, port, servername, rejectUnauthorized: false, ...options }, () => {
      socket.write(`GET / HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () =>
      resolve(answer.startsWith('HTTP/1.1 200') ? 'served' : answer === '' ? 'refused' : answer),
    );
  });
}

describe('data plane: per-listener TLS policy (tls.options)', function () {
  this.timeout(30_000);
  const address = testAddress();
  const httpsPort = 18293;
  const tlsPort = 18294;
  let h: Harness;
  let echo: EchoServer;
  let tcpEcho: TcpServer;

  before(async () => {
    echo = await startEchoServer('echo');
    tcpEcho = createTcpServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    tcpEcho.listen(0, '127.0.0.1');
    await once(tcpEcho, 'listening');
    h = await startHarness({ shards: 1 });
    const pem = makeLeaf(makeCa('Portico Test CA', 'rsa'), ['*.example.com'], { keyType: 'rsa' });
    const certificate: CertificateRecord = { key: 'ns/rsa', certificatePem: pem.cert, privateKeyPem: pem.key };
    const https = (name: string, options?: ListenerTlsOptions) =>
      httpListener(`ns/gw/${name}`, httpsPort, {
        address,
        protocol: 'HTTPS',
        hostname: `${name}.example.com`,
        tls: { mode: 'Terminate', certificateKeys: [certificate.key], ...(options ? { options } : {}) },
      });
    const listeners = [
      https('strict', { minVersion: 'TLSv1.3' }),
      https('legacy', { cipherSuites: ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA'] }),
      https('plain'),
    ];
    const tls: Listener = {
      ...httpListener('ns/gw/tls13', tlsPort, { address }),
      protocol: 'TLS',
      hostname: 'tls13.example.com',
      tls: { mode: 'Terminate', certificateKeys: [certificate.key], options: { minVersion: 'TLSv1.3' } },
    };
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const t = backend('ns/tcp:80', [['127.0.0.1', (tcpEcho.address() as AddressInfo).port]], { protocol: 'tcp' });
    const outcome = await h.publish({
      listeners: [...listeners, tls],
      backends: [b, t],
      certificates: [certificate],
      httpRoutes: [
        httpRoute(
          'httproute/ns/r',
          listeners.map((l) => l.key),
          [rule([prefix('/')], [b.key])],
        ),
      ],
      streamRoutes: [
        {
          key: 'tlsroute/ns/t',
          source: { kind: 'TLSRoute', namespace: 'ns', name: 't' },
          rank: 0,
          parents: [{ listenerKey: tls.key, hostnames: ['tls13.example.com'] }],
          backends: [{ backendKey: t.key, weight: 1, filters: [] }],
        },
      ],
    });
    expect(outcome.outcome, JSON.stringify(outcome)).to.equal('ack');
  });

  after(async () => {
    await h?.stop();
    await echo?.close();
    tcpEcho?.close();
  });

  const tls12 = (ciphers?: string): ConnectionOptions => ({ maxVersion: 'TLSv1.2', ...(ciphers ? { ciphers } : {}) });

  it('a listener that lists a CBC suite takes a CBC-only client; its neighbours on the port do not', async () => {
    expect(await served(httpsPort, address, 'legacy.example.com', tls12(CBC))).to.equal('served');
    expect(await served(httpsPort, address, 'plain.example.com', tls12(CBC))).to.equal('refused');
    expect(await served(httpsPort, address, 'strict.example.com', tls12(CBC))).to.equal('refused');
    expect(await served(httpsPort, address, 'plain.example.com', tls12())).to.equal('served');
    expect(await served(httpsPort, address, 'legacy.example.com', tls12('ECDHE-RSA-AES256-GCM-SHA384'))).to.equal(
      'refused',
    );
  });

  it('a listener with min-version 1.3 refuses TLS 1.2 and serves TLS 1.3, on a shared HTTPS port and on a TLS listener', async () => {
    expect(await served(httpsPort, address, 'strict.example.com', tls12())).to.equal('refused');
    expect(await served(httpsPort, address, 'strict.example.com', {})).to.equal('served');
    expect(await served(tlsPort, address, 'tls13.example.com', tls12())).to.equal('refused');
    expect(await served(tlsPort, address, 'tls13.example.com', {})).to.equal('served');
  });
});
