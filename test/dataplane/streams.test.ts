// L4 over real sockets: TCP forwarding, UDP sessions, TLS passthrough by SNI (the backend's own certificate reaches
// the client), TLS terminated at the gateway (re-encrypted to a backend under a BackendTLSPolicy, with the listener's
// backend client certificate), and HTTPS and TLS passthrough listeners sharing one port.

import { createSocket } from 'node:dgram';
import type { Socket as DatagramSocket } from 'node:dgram';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { expect } from 'chai';
import { Agent, request } from 'undici';
import type { CertificateRecord, Listener } from '../../shared/ir/listener.ts';
import type { StreamRoute } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import type { Pem } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';

async function tcpEcho(name: string): Promise<Server> {
  const server = createNetServer((s) => s.on('data', (d) => s.write(`${name}:${d.toString()}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

async function udpEcho(name: string): Promise<DatagramSocket> {
  const socket = createSocket('udp4');
  socket.on('message', (m, r) => socket.send(`${name}:${m.toString()}`, r.port, r.address));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return socket;
}

function exchange(
  socket: { write(d: string): unknown; once(e: 'data', f: (d: Buffer) => void): unknown },
  message: string,
): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => resolve(d.toString()));
    socket.write(message);
  });
}

const portOf = (s: Server | DatagramSocket) => (s.address() as AddressInfo).port;

function streamRoute(
  key: string,
  listenerKeys: string[],
  backendKeys: string[],
  hostnames: string[] = [],
): StreamRoute {
  return {
    key,
    source: { kind: 'TCPRoute', namespace: 'ns', name: key },
    rank: 0,
    parents: listenerKeys.map((listenerKey) => ({ listenerKey, hostnames })),
    backends: backendKeys.map((backendKey) => ({ backendKey, weight: 1, filters: [] })),
  };
}

describe('data plane: TCP, UDP and TLS streams', function () {
  this.timeout(30_000);
  const address = testAddress();
  let h: Harness;
  let tcpA: Server;
  let tcpB: Server;
  let udp: DatagramSocket;
  let tlsBackend: Server;
  let mtlsBackend: Server;
  let web: EchoServer;
  let ca: Pem;
  let passCert: Pem;
  let gatewayCert: Pem;

  before(async () => {
    h = await startHarness();
    tcpA = await tcpEcho('a');
    tcpB = await tcpEcho('b');
    udp = await udpEcho('u');
    web = await startEchoServer('web');
    ca = makeCa();
    passCert = makeLeaf(ca, ['pass.example.com']);
    gatewayCert = makeLeaf(ca, ['*.example.com']);
    tlsBackend = createTlsServer({ cert: passCert.cert, key: passCert.key }, (s: TLSSocket) =>
      s.on('data', (d) => s.write(`tls-backend:${d.toString()}`)),
    );
    await new Promise<void>((r) => tlsBackend.listen(0, '127.0.0.1', r));
    // A backend that requires a client certificate from ca and says whose it got.
    const gatewayClient = makeLeaf(ca, ['gateway-client']);
    mtlsBackend = createTlsServer(
      { cert: passCert.cert, key: passCert.key, requestCert: true, rejectUnauthorized: true, ca: ca.cert },
      (s: TLSSocket) => s.on('data', (d) => s.write(`mtls:${s.getPeerCertificate().subject?.CN}:${d.toString()}`)),
    );
    await new Promise<void>((r) => mtlsBackend.listen(0, '127.0.0.1', r));

    const tcp: Listener = httpListener('ns/gw/tcp', 19301, { address, protocol: 'TCP' });
    const udpL: Listener = httpListener('ns/gw/udp', 19302, { address, protocol: 'UDP' });
    const passthrough: Listener = httpListener('ns/gw/pass', 19443, {
      address,
      protocol: 'TLS',
      hostname: 'pass.example.com',
      tls: { mode: 'Passthrough', certificateKeys: [] },
    });
    const https: Listener = httpListener('ns/gw/https', 19443, {
      address,
      protocol: 'HTTPS',
      hostname: 'web.example.com',
      tls: { mode: 'Terminate', certificateKeys: ['ns/gw-cert'] },
    });
    const terminate: Listener = httpListener('ns/gw/term', 19444, {
      address,
      protocol: 'TLS',
      tls: { mode: 'Terminate', certificateKeys: ['ns/gw-cert'] },
      backendClientCertificateKey: 'ns/gw-client',
    });
    const cert: CertificateRecord = {
      key: 'ns/gw-cert',
      certificatePem: gatewayCert.cert,
      privateKeyPem: gatewayCert.key,
    };
    const backends = [
      backend(
        'ns/tcp:1/tcp',
        [
          ['127.0.0.1', portOf(tcpA)],
          ['127.0.0.1', portOf(tcpB)],
        ],
        { protocol: 'tcp' },
      ),
      backend('ns/udp:1/udp', [['127.0.0.1', portOf(udp)]], { protocol: 'udp' }),
      backend('ns/tls:443/tcp', [['127.0.0.1', portOf(tlsBackend)]], { protocol: 'tcp' }),
      backend('ns/plain:1/tcp', [['127.0.0.1', portOf(tcpA)]], { protocol: 'tcp' }),
      // BackendTLSPolicy on a TLSRoute's backend: a Terminate listener re-encrypts, verifying the backend.
      backend('ns/reenc:443/tcp', [['127.0.0.1', portOf(tlsBackend)]], {
        protocol: 'tcp',
        tls: { hostname: 'pass.example.com', caCertificates: [ca.cert] },
      }),
      backend('ns/wrong-name:443/tcp', [['127.0.0.1', portOf(tlsBackend)]], {
        protocol: 'tcp',
        tls: { hostname: 'other.example.com', caCertificates: [ca.cert] },
      }),
      backend('ns/mtls:443/tcp', [['127.0.0.1', portOf(mtlsBackend)]], {
        protocol: 'tcp',
        tls: { hostname: 'pass.example.com', caCertificates: [ca.cert] },
      }),
      backend('ns/web:80', [['127.0.0.1', web.port]]),
    ];
    const client: CertificateRecord = {
      key: 'ns/gw-client',
      certificatePem: gatewayClient.cert,
      privateKeyPem: gatewayClient.key,
    };
    const result = await h.publish({
      listeners: [tcp, udpL, passthrough, https, terminate],
      backends,
      certificates: [cert, client],
      streamRoutes: [
        streamRoute('tcproute/ns/t', [tcp.key], ['ns/tcp:1/tcp']),
        streamRoute('udproute/ns/u', [udpL.key], ['ns/udp:1/udp']),
        streamRoute('tlsroute/ns/p', [passthrough.key], ['ns/tls:443/tcp'], ['pass.example.com']),
        streamRoute('tlsroute/ns/term', [terminate.key], ['ns/plain:1/tcp'], ['term.example.com']),
        streamRoute('tlsroute/ns/reenc', [terminate.key], ['ns/reenc:443/tcp'], ['reenc.example.com']),
        streamRoute('tlsroute/ns/wrong', [terminate.key], ['ns/wrong-name:443/tcp'], ['wrong.example.com']),
        streamRoute('tlsroute/ns/mtls', [terminate.key], ['ns/mtls:443/tcp'], ['mtls.example.com']),
      ],
      httpRoutes: [httpRoute('httproute/ns/web', [https.key], [rule([prefix('/')], ['ns/web:80'])])],
    });
    expect(result.outcome, JSON.stringify(result)).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    tcpA?.close();
    tcpB?.close();
    udp?.close();
    tlsBackend?.close();
    mtlsBackend?.close();
    await web?.close();
  });

  it('forwards TCP connections, spread over the endpoints', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const socket = netConnect(19301, address);
      const answer = await exchange(socket, `hello${i}`);
      expect(answer).to.match(new RegExp(`^(a|b):hello${i}$`));
      seen.add(answer.split(':')[0]);
      socket.destroy();
    }
    expect([...seen].sort()).to.deep.equal(['a', 'b']);
  });

  it('relays UDP datagrams both ways, per client session', async () => {
    const clients = [createSocket('udp4'), createSocket('udp4')];
    try {
      for (const [i, client] of clients.entries()) {
        const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
        client.send(`ping${i}`, 19302, address);
        expect(await reply).to.equal(`u:ping${i}`);
      }
    } finally {
      clients.forEach((c) => c.close());
    }
  });

  it('passes TLS through by SNI: the client sees the backend’s certificate', async () => {
    const socket = tlsConnect({ host: address, port: 19443, servername: 'pass.example.com', ca: ca.cert });
    await new Promise((r) => socket.once('secureConnect', r));
    expect(socket.getPeerX509Certificate()?.subject).to.include('CN=pass.example.com');
    expect(await exchange(socket, 'secret')).to.equal('tls-backend:secret');
    socket.destroy();
  });

  it('serves HTTPS on the same port for the HTTPS listener’s hostname', async () => {
    const agent = new Agent({ connect: { ca: ca.cert, servername: 'web.example.com' } });
    const res = await request(`https://${address}:19443/x`, {
      headers: { host: 'web.example.com' },
      dispatcher: agent,
    });
    expect(res.statusCode).to.equal(200);
    expect(((await res.body.json()) as { backend: string }).backend).to.equal('web');
    await agent.close();
  });

  it('terminates TLS at the gateway and forwards the plaintext', async () => {
    const socket = tlsConnect({ host: address, port: 19444, servername: 'term.example.com', ca: ca.cert });
    await new Promise((r) => socket.once('secureConnect', r));
    expect(socket.getPeerX509Certificate()?.subject).to.include('CN=*.example.com');
    expect(await exchange(socket, 'plain')).to.equal('a:plain');
    socket.destroy();
  });

  it('re-encrypts a terminated stream to a backend under a BackendTLSPolicy, verifying its certificate', async () => {
    const socket = tlsConnect({ host: address, port: 19444, servername: 'reenc.example.com', ca: ca.cert });
    await new Promise((r) => socket.once('secureConnect', r));
    expect(socket.getPeerX509Certificate()?.subject).to.include('CN=*.example.com');
    expect(await exchange(socket, 'again')).to.equal('tls-backend:again');
    socket.destroy();
  });

  it("re-encrypts a terminated stream presenting the listener's backend client certificate", async () => {
    const socket = tlsConnect({ host: address, port: 19444, servername: 'mtls.example.com', ca: ca.cert });
    await new Promise((r) => socket.once('secureConnect', r));
    // Without the certificate the backend refuses the handshake and the gateway closes the stream.
    const answer = await new Promise<string>((resolve) => {
      socket.once('close', () => resolve('closed'));
      resolve(exchange(socket, 'hello'));
    });
    expect(answer).to.equal('mtls:gateway-client:hello');
    socket.destroy();
  });

  it('closes a terminated stream whose backend fails the policy’s hostname check, sending it nothing', async () => {
    const socket = tlsConnect({ host: address, port: 19444, servername: 'wrong.example.com', ca: ca.cert });
    await new Promise((r) => socket.once('secureConnect', r));
    const outcome = await new Promise<string>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(`answered ${d.toString()}`));
      socket.once('close', () => resolve('closed'));
      socket.once('error', () => resolve('closed'));
      socket.write('must-not-arrive');
    });
    expect(outcome).to.equal('closed');
  });

  it('refuses a TLS connection whose name no listener takes', async () => {
    const socket = tlsConnect({ host: address, port: 19443, servername: 'nobody.example.org', ca: ca.cert });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', () => resolve('refused'));
      socket.once('close', () => resolve('refused'));
    });
    expect(outcome).to.equal('refused');
  });
});
