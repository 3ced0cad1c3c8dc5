// TCP forwarding under a slow peer, a half-close and a reset, over real sockets through a real data plane (TCPRoute
// and TLSRoute passthrough): a reader that stops reading stops the flow at the other end instead of growing the data
// plane's buffers; a FIN is relayed as a FIN while the other direction keeps flowing; a reset is relayed as a reset.

import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { expect } from 'chai';
import type { Listener } from '../../shared/ir/listener.ts';
import type { StreamRoute } from '../../shared/ir/route.ts';
import { backend, httpListener } from '../../shared/testing/ir-builders.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import type { Pem } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';

const MiB = 1024 * 1024;
/** What the flood may write at most: far more than the kernel's socket buffers on the path could hold. */
const FLOOD_LIMIT = 384 * MiB;
/**
 * What may be in flight when the flow has stopped: the sender's send buffer (tcp_wmem max 4 MiB), the data plane's
 * receive buffer (autotuned up to tcp_rmem max, 32 MiB here) and send buffer, the slow reader's receive buffer, and a
 * few stream high-water marks. Without backpressure the data plane reads everything and the flood reaches its limit.
 */
const IN_FLIGHT_BOUND = 96 * MiB;

function streamRoute(key: string, listenerKey: string, backendKey: string, hostnames: string[] = []): StreamRoute {
  return {
    key,
    source: { kind: hostnames.length > 0 ? 'TLSRoute' : 'TCPRoute', namespace: 'ns', name: key },
    rank: 0,
    parents: [{ listenerKey, hostnames }],
    backends: [{ backendKey, weight: 1, filters: [] }],
  };
}

/**
 * Writes 64 KiB chunks until `state.limit` (which the test may lower) and then ends; `written` counts what the socket
 * accepted, `blocked` says it waits for a drain.
 */
function flood(socket: Socket, limit: number) {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const state = { written: 0, blocked: false, done: false, limit };
  const pump = () => {
    state.blocked = false;
    while (state.written < state.limit && !socket.destroyed) {
      state.written += chunk.length;
      if (!socket.write(chunk)) {
        state.blocked = true;
        socket.once('drain', pump);
        return;
      }
    }
    state.done = true;
    socket.end();
  };
  pump();
  return state;
}

/** Resolves once `state.written` has not moved for a second while blocked (the flow stopped), or the flood ended. */
async function untilStalled(state: { written: number; blocked: boolean; done: boolean }): Promise<void> {
  let last = -1;
  let still = 0;
  while (!state.done) {
    await new Promise((r) => setTimeout(r, 100));
    if (state.blocked && state.written === last) still++;
    else still = 0;
    last = state.written;
    if (still >= 10) return;
  }
}

/** Collects what `socket` receives until it closes (or, with `untilEnd`, until its FIN or an error). */
function readAll(
  socket: Socket,
  untilEnd = false,
): Promise<{ text: string; bytes: number; ended: boolean; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let ended = false;
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      if (chunks.length < 64) chunks.push(d);
    });
    socket.once('end', () => {
      ended = true;
      if (untilEnd) resolve({ text: Buffer.concat(chunks).toString(), bytes, ended });
    });
    socket.once('error', (e: NodeJS.ErrnoException) =>
      resolve({ text: Buffer.concat(chunks).toString(), bytes, ended, error: e.code }),
    );
    socket.once('close', () => resolve({ text: Buffer.concat(chunks).toString(), bytes, ended }));
  });
}

describe('data plane: TCP forwarding with slow peers, half-closes and resets', function () {
  this.timeout(60_000);
  const address = testAddress();
  const port = 19321;
  const tlsPort = 19322;
  let h: Harness;
  let server: Server;
  let tlsServer: TlsServer;
  let ca: Pem;
  /** What the TLS backend does with the next connection (after its handshake). */
  let onTlsBackend: (socket: TLSSocket) => void = (s) => s.destroy();
  /** What the backend does with the next connection; each test sets it before connecting. */
  let onBackend: (socket: Socket) => void = (s) => s.destroy();

  before(async () => {
    server = createNetServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      onBackend(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ca = makeCa();
    const leaf = makeLeaf(ca, ['pass.example.com']);
    tlsServer = createTlsServer({ cert: leaf.cert, key: leaf.key, allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      onTlsBackend(s);
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    h = await startHarness();
    const tcp: Listener = httpListener('ns/gw/tcp', port, { address, protocol: 'TCP' });
    const pass: Listener = httpListener('ns/gw/pass', tlsPort, {
      address,
      protocol: 'TLS',
      hostname: 'pass.example.com',
      tls: { mode: 'Passthrough', certificateKeys: [] },
    });
    const b = backend('ns/sink:1/tcp', [['127.0.0.1', (server.address() as AddressInfo).port]], { protocol: 'tcp' });
    const tb = backend('ns/tls:443/tcp', [['127.0.0.1', (tlsServer.address() as AddressInfo).port]], {
      protocol: 'tcp',
    });
    const result = await h.publish({
      listeners: [tcp, pass],
      backends: [b, tb],
      streamRoutes: [
        streamRoute('tcproute/ns/t', tcp.key, b.key),
        streamRoute('tlsroute/ns/p', pass.key, tb.key, ['pass.example.com']),
      ],
    });
    expect(result.outcome, JSON.stringify(result)).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    server?.close();
    tlsServer?.close();
  });

  const backendConnection = () => new Promise<Socket>((resolve) => (onBackend = resolve));
  const client = () => {
    const socket = netConnect({ port, host: address, allowHalfOpen: true });
    socket.on('error', () => undefined);
    return socket;
  };

  it('a client that stops reading stops the backend’s flow at a bounded amount, and then gets every byte', async () => {
    const upstream = backendConnection();
    const c = client();
    c.pause();
    c.write('go');
    const b = await upstream;
    const state = flood(b, FLOOD_LIMIT);
    await untilStalled(state);
    expect(state.done, `the flood wrote all ${FLOOD_LIMIT / MiB} MiB: nothing held it back`).to.equal(false);
    expect(state.written).to.be.below(IN_FLIGHT_BOUND);
    const stalledAt = state.written;
    // The reader catches up: the flow resumes, 4 MiB more are written, and everything arrives, then the FIN.
    state.limit = stalledAt + 4 * MiB;
    const received = readAll(c, true);
    c.resume();
    const r = await received;
    expect(state.written).to.be.above(stalledAt);
    expect(r.bytes).to.equal(state.written);
    expect(r.ended).to.equal(true);
  });

  it('a backend that stops reading stops the client’s flow at a bounded amount, and then gets every byte', async () => {
    const upstream = backendConnection();
    const c = client();
    await new Promise((r) => c.once('connect', r));
    const state = flood(c, FLOOD_LIMIT);
    const b = await upstream;
    b.pause();
    await untilStalled(state);
    expect(state.done, `the flood wrote all ${FLOOD_LIMIT / MiB} MiB: nothing held it back`).to.equal(false);
    expect(state.written).to.be.below(IN_FLIGHT_BOUND);
    const stalledAt = state.written;
    state.limit = stalledAt + 4 * MiB;
    const received = readAll(b, true);
    b.resume();
    const r = await received;
    expect(state.written).to.be.above(stalledAt);
    expect(r.bytes).to.equal(state.written);
    expect(r.ended).to.equal(true);
  });

  it('relays a client’s FIN to the backend and still delivers the backend’s answer to it', async () => {
    const upstream = backendConnection();
    const c = client();
    const received = readAll(c);
    c.end('ping');
    const b = await upstream;
    const got = await new Promise<string>((resolve) => {
      let data = '';
      b.on('data', (d: Buffer) => (data += d.toString()));
      b.once('end', () => resolve(data));
    });
    expect(got).to.equal('ping');
    b.end('answer after your FIN');
    const r = await received;
    expect(r).to.deep.include({ text: 'answer after your FIN', ended: true });
  });

  it('relays a backend’s FIN to the client and still delivers what the client sends after it', async () => {
    const upstream = backendConnection();
    const c = client();
    const b = await new Promise<Socket>((resolve) => {
      c.once('connect', () => upstream.then(resolve));
    });
    const atBackend = readAll(b);
    b.end('banner');
    const seen = await new Promise<string>((resolve) => {
      let data = '';
      c.on('data', (d: Buffer) => (data += d.toString()));
      c.once('end', () => resolve(data));
    });
    expect(seen).to.equal('banner');
    c.end('written after the backend’s FIN');
    const r = await atBackend;
    expect(r).to.deep.include({ text: 'written after the backend’s FIN', ended: true });
  });

  it('relays a backend’s reset to the client as a reset', async () => {
    const upstream = backendConnection();
    const c = client();
    const outcome = readAll(c, true);
    c.write('hello');
    const b = await upstream;
    await new Promise((r) => b.once('data', r));
    b.resetAndDestroy();
    const r = await outcome;
    expect(r.error, 'the client saw a clean close, not a reset').to.equal('ECONNRESET');
  });

  it('relays a client’s reset to the backend as a reset', async () => {
    const upstream = backendConnection();
    const c = client();
    c.write('hello');
    const b = await upstream;
    const outcome = readAll(b, true);
    await new Promise((r) => b.once('data', r));
    c.resetAndDestroy();
    const r = await outcome;
    expect(r.error, 'the backend saw a clean close, not a reset').to.equal('ECONNRESET');
  });

  it('passes TLS through with half-closes both ways: the end of each side’s stream reaches the other', async () => {
    const atBackend = new Promise<{ got: string; socket: TLSSocket }>((resolve) => {
      onTlsBackend = (s) => {
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString()));
        s.once('end', () => resolve({ got, socket: s }));
      };
    });
    // A TLS socket is as half-open as the TCP socket under it.
    const raw = netConnect({ port: tlsPort, host: address, allowHalfOpen: true });
    const c = tlsConnect({ socket: raw, servername: 'pass.example.com', ca: ca.cert });
    c.on('error', () => undefined);
    await new Promise((r) => c.once('secureConnect', r));
    const received = readAll(c, true);
    c.end('request, then end of stream');
    const { got, socket } = await atBackend;
    expect(got).to.equal('request, then end of stream');
    socket.end('answer after the client’s end');
    const r = await received;
    expect(r).to.deep.include({ text: 'answer after the client’s end', ended: true });
  });
});
