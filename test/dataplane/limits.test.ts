// Limits that protect tenants from each other (issue 14, item 3), over real sockets on a data plane with one shard:
// connections per listening socket and per shard on HTTP (engine and h2c), HTTPS (HTTP/1.1 and h2), TCP and TLS
// passthrough, refused at once and counted while the other listeners keep serving; the idle timeout of TCP and TLS
// passthrough streams; the bounded UDP session table; a large download to a client that reads slowly without the
// gateway's memory growing with it.

import { createSocket } from 'node:dgram';
import type { Socket as DatagramSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { connect as h2connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { expect } from 'chai';
import type { CertificateRecord, Listener } from '../../shared/ir/listener.ts';
import type { StreamRoute } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import type { Pem } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';

const PER_LISTENER = 2;
const PER_SHARD = 5;
const STREAM_IDLE_MS = 1500;
const UDP_SESSIONS = 4;

const portOf = (s: Server | HttpServer | DatagramSocket) => (s.address() as AddressInfo).port;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Resolves with the first data the socket receives, or null when it closes without any. */
function firstData(socket: Socket): Promise<string | null> {
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => resolve(d.toString('latin1')));
    socket.once('close', () => resolve(null));
    socket.on('error', () => undefined);
  });
}

/** Writes `message` and resolves with the answer, or null when the connection is closed without one. */
function ask(socket: Socket, message: string): Promise<string | null> {
  const answer = firstData(socket);
  socket.write(message);
  return answer;
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

describe('data plane: limits that protect tenants from each other', function () {
  this.timeout(60_000);
  const address = testAddress();
  let h: Harness;
  let web: EchoServer;
  let tcpEcho: Server;
  let tlsBackend: Server;
  let udpEcho: DatagramSocket;
  let firehose: HttpServer;
  let firehoseWritten = 0;
  let ca: Pem;
  const open: Array<{ destroy(): void }> = [];
  const keep = <T extends { destroy(): void }>(s: T): T => {
    open.push(s);
    return s;
  };

  const sockets = {
    a: `tcp:${address}:19501`,
    b: `tcp:${address}:19502`,
    https: `tcp:${address}:19503`,
    tcp: `tcp:${address}:19504`,
    pass: `tcp:${address}:19505`,
  };

  async function metric(name: string, ...parts: string[]): Promise<number> {
    const text = (await get(`${h.adminUrl}/metrics`)).text;
    return text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && parts.every((p) => line.includes(p)))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  }

  /** Closes the connections of a test and waits until the shard has seen them all close. */
  async function closeAll(): Promise<void> {
    for (const s of open.splice(0)) s.destroy();
    for (let i = 0; i < 200 && (await metric('portico_connections_active')) > 0; i++) await sleep(50);
    expect(await metric('portico_connections_active'), 'open connections counted after all closed').to.equal(0);
  }

  async function httpConnection(port: number): Promise<Socket> {
    const socket = keep(netConnect(port, address));
    expect(await ask(socket, GET)).to.match(/^HTTP\/1\.1 200/);
    return socket;
  }

  async function refusedPlain(port: number, message: string): Promise<void> {
    const socket = keep(netConnect(port, address));
    expect(await ask(socket, message), 'closed without an answer').to.equal(null);
  }

  function tlsOptions(servername: string) {
    return { host: address, servername, ca: ca.cert, ALPNProtocols: ['http/1.1'] };
  }

  async function h2Session(url: string, options: object = {}): Promise<ClientHttp2Session> {
    const session = keep(h2connect(url, options));
    session.on('error', () => undefined);
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': '/', ':authority': 'web.example.com' });
      req.on('response', (headers) => resolve(Number(headers[':status'])));
      req.on('error', reject);
      req.resume();
      req.end();
    });
    expect(status).to.equal(200);
    return session;
  }

  before(async () => {
    h = await startHarness({
      shards: 1,
      maxConnectionsPerListener: PER_LISTENER,
      maxConnectionsPerShard: PER_SHARD,
      streamIdleMs: STREAM_IDLE_MS,
      udpMaxSessions: UDP_SESSIONS,
    });
    web = await startEchoServer('web');
    ca = makeCa();
    const passCert = makeLeaf(ca, ['pass.example.com']);
    const gatewayCert = makeLeaf(ca, ['web.example.com']);
    tcpEcho = createNetServer((s) => {
      s.on('error', () => undefined);
      s.on('data', (d) => s.write(`tcp:${d.toString()}`));
    });
    await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', r));
    tlsBackend = createTlsServer({ cert: passCert.cert, key: passCert.key }, (s: TLSSocket) => {
      s.on('error', () => undefined);
      s.on('data', (d) => s.write(`tls:${d.toString()}`));
    });
    await new Promise<void>((r) => tlsBackend.listen(0, '127.0.0.1', r));
    udpEcho = createSocket('udp4');
    udpEcho.on('message', (m, r) => udpEcho.send(`udp:${m.toString()}`, r.port, r.address));
    await new Promise<void>((r) => udpEcho.bind(0, '127.0.0.1', r));
    // A backend that writes a large body as fast as the gateway takes it, counting what it wrote.
    firehose = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1024 ** 3) });
      const chunk = Buffer.alloc(256 * 1024, 120);
      const pump = () => {
        while (!res.destroyed && firehoseWritten < 1024 ** 3) {
          firehoseWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => firehose.listen(0, '127.0.0.1', r));

    const a: Listener = httpListener('ns/gw/a', 19501, { address });
    const b: Listener = httpListener('ns/gw/b', 19502, { address });
    const https: Listener = httpListener('ns/gw/https', 19503, {
      address,
      protocol: 'HTTPS',
      hostname: 'web.example.com',
      tls: { mode: 'Terminate', certificateKeys: ['ns/gw-cert'] },
    });
    const tcp: Listener = httpListener('ns/gw/tcp', 19504, { address, protocol: 'TCP' });
    const pass: Listener = httpListener('ns/gw/pass', 19505, {
      address,
      protocol: 'TLS',
      hostname: 'pass.example.com',
      tls: { mode: 'Passthrough', certificateKeys: [] },
    });
    const udp: Listener = httpListener('ns/gw/udp', 19506, { address, protocol: 'UDP' });
    const term: Listener = httpListener('ns/gw/term', 19507, {
      address,
      protocol: 'TLS',
      tls: { mode: 'Terminate', certificateKeys: ['ns/gw-cert'] },
    });
    const cert: CertificateRecord = {
      key: 'ns/gw-cert',
      certificatePem: gatewayCert.cert,
      privateKeyPem: gatewayCert.key,
    };
    const result = await h.publish({
      listeners: [a, b, https, tcp, pass, udp, term],
      certificates: [cert],
      backends: [
        backend('ns/web:80', [['127.0.0.1', web.port]]),
        backend('ns/firehose:80', [['127.0.0.1', portOf(firehose)]]),
        backend('ns/tcp:1/tcp', [['127.0.0.1', portOf(tcpEcho)]], { protocol: 'tcp' }),
        backend('ns/tls:443/tcp', [['127.0.0.1', portOf(tlsBackend)]], { protocol: 'tcp' }),
        backend('ns/udp:1/udp', [['127.0.0.1', portOf(udpEcho)]], { protocol: 'udp' }),
      ],
      httpRoutes: [
        httpRoute('httproute/ns/firehose', [a.key], [rule([prefix('/firehose')], ['ns/firehose:80'])]),
        httpRoute('httproute/ns/web', [a.key, b.key, https.key], [rule([prefix('/')], ['ns/web:80'])]),
      ],
      streamRoutes: [
        streamRoute('tcproute/ns/t', [tcp.key], ['ns/tcp:1/tcp']),
        streamRoute('tlsroute/ns/p', [pass.key], ['ns/tls:443/tcp'], ['pass.example.com']),
        streamRoute('udproute/ns/u', [udp.key], ['ns/udp:1/udp']),
        streamRoute('tlsroute/ns/term', [term.key], ['ns/tcp:1/tcp'], ['web.example.com']),
      ],
    });
    expect(result.outcome, JSON.stringify(result)).to.equal('ack');
  });

  afterEach(closeAll);

  after(async () => {
    await h?.stop();
    await web?.close();
    tcpEcho?.close();
    tlsBackend?.close();
    udpEcho?.close();
    firehose?.closeAllConnections();
    firehose?.close();
  });

  it('HTTP: past the per-listener limit (engine and h2c together) a new connection is closed; another listener serves', async () => {
    await httpConnection(19501);
    await h2Session(`http://${address}:19501`);
    expect(await metric('portico_connections_active', sockets.a)).to.equal(2);
    await refusedPlain(19501, GET);
    await httpConnection(19502);
    expect(await metric('portico_connections_refused_total', sockets.a, 'reason="listener"')).to.equal(1);
    await closeAll();
    // Room again once the connections are gone.
    await httpConnection(19501);
    await closeAll();
  });

  it('HTTPS: HTTP/1.1 and h2 count together; past the limit a connection is closed before the handshake', async () => {
    const h1 = keep(tlsConnect({ ...tlsOptions('web.example.com'), port: 19503 }));
    await new Promise((r) => h1.once('secureConnect', r));
    expect(await ask(h1, 'GET / HTTP/1.1\r\nHost: web.example.com\r\n\r\n')).to.match(/^HTTP\/1\.1 200/);
    await h2Session(`https://${address}:19503`, { ca: ca.cert, servername: 'web.example.com' });
    const third = keep(tlsConnect({ ...tlsOptions('web.example.com'), port: 19503 }));
    const outcome = await new Promise<string>((resolve) => {
      third.once('secureConnect', () => resolve('handshake'));
      third.once('error', () => resolve('refused'));
      third.once('close', () => resolve('refused'));
    });
    expect(outcome).to.equal('refused');
    expect(await metric('portico_connections_refused_total', sockets.https, 'reason="listener"')).to.equal(1);
    await httpConnection(19502);
    await closeAll();
  });

  it('TCP and TLS passthrough: past the per-listener limit a new stream is closed unforwarded', async () => {
    for (let i = 0; i < PER_LISTENER; i++) expect(await ask(keep(netConnect(19504, address)), 'hi')).to.equal('tcp:hi');
    await refusedPlain(19504, 'hi');
    for (let i = 0; i < PER_LISTENER; i++) {
      const s = keep(tlsConnect({ ...tlsOptions('pass.example.com'), port: 19505, ALPNProtocols: undefined }));
      await new Promise((r) => s.once('secureConnect', r));
      expect(await ask(s, 'hi')).to.equal('tls:hi');
    }
    const third = keep(tlsConnect({ ...tlsOptions('pass.example.com'), port: 19505, ALPNProtocols: undefined }));
    const outcome = await new Promise<string>((resolve) => {
      third.once('secureConnect', () => resolve('handshake'));
      third.once('error', () => resolve('refused'));
      third.once('close', () => resolve('refused'));
    });
    expect(outcome).to.equal('refused');
    expect(await metric('portico_connections_refused_total', sockets.tcp, 'reason="listener"')).to.equal(1);
    expect(await metric('portico_connections_refused_total', sockets.pass, 'reason="listener"')).to.equal(1);
    await closeAll();
  });

  it('past the per-shard limit a connection to any listener is closed, counted with reason "shard"', async () => {
    await httpConnection(19501);
    await httpConnection(19501);
    await httpConnection(19502);
    await httpConnection(19502);
    expect(await ask(keep(netConnect(19504, address)), 'hi')).to.equal('tcp:hi');
    expect(await metric('portico_connections_active')).to.equal(PER_SHARD);
    // The HTTPS listener has none of its own yet: the shard's limit refuses it.
    await refusedPlain(19503, 'x');
    expect(await metric('portico_connections_refused_total', sockets.https, 'reason="shard"')).to.equal(1);
    await closeAll();
    await httpConnection(19502);
  });

  it('closes a TCP, TLS passthrough or TLS-terminated stream with no byte either way for the idle timeout, not a busy one', async () => {
    const idle = keep(netConnect(19504, address));
    expect(await ask(idle, 'hi')).to.equal('tcp:hi');
    const pass = keep(tlsConnect({ ...tlsOptions('pass.example.com'), port: 19505, ALPNProtocols: undefined }));
    await new Promise((r) => pass.once('secureConnect', r));
    expect(await ask(pass, 'hi')).to.equal('tls:hi');
    const term = keep(tlsConnect({ ...tlsOptions('web.example.com'), port: 19507, ALPNProtocols: undefined }));
    await new Promise((r) => term.once('secureConnect', r));
    expect(await ask(term, 'hi')).to.equal('tcp:hi');
    const busy = keep(netConnect(19504, address));
    expect(await ask(busy, 'hi')).to.equal('tcp:hi');
    let busyClosed = false;
    busy.once('close', () => {
      busyClosed = true;
    });
    const closed = (s: Socket) => new Promise((r) => (s.destroyed ? r(null) : s.once('close', r)));
    // The busy stream talks every STREAM_IDLE_MS / 6 while the others stay silent until they are closed.
    let talking = true;
    const talk = (async () => {
      while (talking) {
        busy.write('.');
        await sleep(STREAM_IDLE_MS / 6);
      }
    })();
    await Promise.all([closed(idle), closed(pass), closed(term)]);
    talking = false;
    await talk;
    expect(busyClosed, 'a stream with traffic stays open').to.equal(false);
    expect(await metric('portico_stream_connections_total', 'outcome="idle"')).to.equal(3);
    await closeAll();
  });

  it('closes a WebSocket tunnel with no byte either way for the idle timeout', async () => {
    const upgrade =
      'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const tunnel = keep(netConnect(19502, address));
    expect(await ask(tunnel, upgrade)).to.match(/^HTTP\/1\.1 101 /);
    const opened = Date.now();
    await new Promise((r) => (tunnel.destroyed ? r(null) : tunnel.once('close', r)));
    // Closed by the gateway's idle check (the backend keeps an idle WebSocket open), not before the limit.
    expect(Date.now() - opened).to.be.at.least(STREAM_IDLE_MS - 100);
  });

  it('bounds the UDP session table: many source ports evict the least recently active session', async () => {
    const clients: DatagramSocket[] = [];
    const reply = (client: DatagramSocket, message: string) =>
      new Promise<string>((resolve) => {
        client.once('message', (m) => resolve(m.toString()));
        client.send(message, 19506, address);
      });
    try {
      for (let i = 0; i < 12; i++) {
        const client = createSocket('udp4');
        clients.push(client);
        expect(await reply(client, `p${i}`)).to.equal(`udp:p${i}`);
      }
      expect(await metric('portico_udp_sessions_evicted_total', 'ns/gw/udp')).to.equal(12 - UDP_SESSIONS);
      // The most recent sessions are kept; an evicted client gets a new session (evicting the oldest again).
      expect(await reply(clients[11], 'again')).to.equal('udp:again');
      expect(await metric('portico_udp_sessions_evicted_total', 'ns/gw/udp')).to.equal(12 - UDP_SESSIONS);
      expect(await reply(clients[0], 'back')).to.equal('udp:back');
      expect(await metric('portico_udp_sessions_evicted_total', 'ns/gw/udp')).to.equal(12 - UDP_SESSIONS + 1);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('streams a large download to a client that reads slowly without buffering it (memory stays flat)', async () => {
    firehoseWritten = 0;
    const socket = keep(netConnect(19501, address));
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let received = 0;
    let peakRss = rssBefore;
    socket.on('data', (d: Buffer) => {
      received += d.length;
      // Slow: a pause after each read, about 64 KiB every 5 ms at most.
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    });
    socket.write('GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let i = 0; i < 40; i++) {
      await sleep(100);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    socket.destroy();
    if (process.env.PORTICO_TEST_VERBOSE)
      console.log({ received, written: firehoseWritten, rssGrowth: peakRss - rssBefore });
    expect(received, 'the download progressed').to.be.greaterThan(1024 * 1024);
    // The backend is held to what the client takes plus the socket buffers on the way (a few MiB), though it would
    // send the whole GiB in this time over loopback; the gateway (a worker of this process) does not grow with it.
    expect(firehoseWritten - received).to.be.below(48 * 1024 * 1024);
    expect(peakRss - rssBefore).to.be.below(256 * 1024 * 1024);
  });
});
