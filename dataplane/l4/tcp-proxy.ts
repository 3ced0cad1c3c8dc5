// TCP forwarding for TCPRoute, TLSRoute passthrough and terminated TLSRoute: one upstream connection per client
// connection, bytes copied both ways by `data` and `write` with explicit backpressure (a side whose peer's write
// buffer is full is paused until `drain`), the way nginx `stream` forwards. (bench/tcp-relay.ts compares this with
// `pipe` and with an `onread` buffer per upstream socket: within the noise of each other in CPU per request; this
// one is chosen for the control it gives over ends and resets, below.)
//   - half-close is propagated both ways: a FIN from one side ends the other side's write half, and the other
//     direction keeps flowing until it ends too (both sockets are half-open capable);
//   - a reset is propagated as a reset (RST), any other failure as a close;
//   - either side closing before it ended closes the other;
//   - a stream with no byte either way for `idleTimeoutMs` (nginx stream's `proxy_timeout`) is closed on both sides,
//     so a client or backend that goes silent without a FIN does not hold two sockets for ever. Every byte either
//     way passes through the client socket (read from it, or written to it), so its timer alone measures that.
// A terminated TLSRoute whose backend has a BackendTLSPolicy re-encrypts: TLS to the backend, verified as for HTTP.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { serverIdentityCheck } from '../upstream/registry.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { StreamMetrics } from './metrics.ts';
import { pickStreamBackend } from './stream-tables.ts';
import type { CompiledStreamRoute } from './stream-tables.ts';

export interface StreamContext {
  listenerKey: string;
  /** The listener's `backendClientCertificateKey`: presented when the stream is re-encrypted to a TLS backend. */
  clientCertificateKey?: string;
  registry: UpstreamRegistry;
  metrics: StreamMetrics;
  connectTimeoutMs: number;
  /** No byte either way for this long closes both sides (0 or absent: never). */
  idleTimeoutMs?: number;
  /** UDP listeners: sessions per listener; past it the least recently active session is evicted. */
  udpMaxSessions?: number;
}

// One stream is two sockets that point at each other: the handlers below are shared by every stream (module
// functions reading the socket they are called on, `this`), so a connection allocates no closure, only the pair's
// record (a connection per request spent a dozen closures on this before).
const kPeer = Symbol('portico.peer');
const kStream = Symbol('portico.stream');

interface StreamSocket extends Socket {
  [kPeer]: Socket;
  [kStream]: StreamPair;
}

/** What the handlers of one forwarded stream need beyond its two sockets. */
class StreamPair {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly ctx: StreamContext;
  readonly routeName: string;
  readonly backendKey: string;
  connected = false;
  constructor(client: Socket, upstream: Socket, ctx: StreamContext, routeName: string, backendKey: string) {
    this.client = client;
    this.upstream = upstream;
    this.ctx = ctx;
    this.routeName = routeName;
    this.backendKey = backendKey;
  }
}

/** `data` of either side: copied to its peer; the side pauses while the peer's write buffer is full. */
function onData(this: StreamSocket, chunk: Buffer): void {
  if (!this[kPeer].write(chunk)) this.pause();
}

/** `drain` of either side: its peer, paused on a full buffer, reads again. */
function onDrain(this: StreamSocket): void {
  this[kPeer].resume();
}

/** `end` (a FIN) of either side: the peer's write half ends; the other direction keeps flowing. */
function onEnd(this: StreamSocket): void {
  this[kPeer].end();
}

function onUpstreamConnected(this: StreamSocket): void {
  const pair = this[kStream];
  pair.connected = true;
  this.setTimeout(0);
  pair.ctx.metrics.streamConnection(pair.ctx.listenerKey, pair.routeName, 'forwarded');
}

function onConnectTimeout(this: StreamSocket): void {
  this.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
}

function onClientIdle(this: StreamSocket): void {
  const pair = this[kStream];
  pair.ctx.metrics.streamConnection(pair.ctx.listenerKey, pair.routeName, 'idle');
  this.destroy();
  this[kPeer].destroy();
}

function onUpstreamError(this: StreamSocket, error: NodeJS.ErrnoException): void {
  const pair = this[kStream];
  if (!pair.connected) pair.ctx.metrics.streamConnection(pair.ctx.listenerKey, pair.routeName, 'failed');
  pair.ctx.metrics.upstreamError(pair.backendKey, error.code ?? 'UNKNOWN');
  abort(this[kPeer], error);
}

function onClientError(this: StreamSocket, error: NodeJS.ErrnoException): void {
  abort(this[kPeer], error);
}

/** A side that closes after its FIN was relayed leaves the other to finish; one closed without a FIN takes it along. */
function onClose(this: StreamSocket): void {
  if (!this.readableEnded) abort(this[kPeer]);
}

/** Closes `peer` because its partner failed: with a reset when the partner was reset, else with a FIN. */
function abort(peer: Socket, error?: NodeJS.ErrnoException): void {
  if (peer.destroyed) return;
  if (error?.code === 'ECONNRESET' && !('encrypted' in peer)) {
    try {
      peer.resetAndDestroy();
      return;
    } catch {
      // not a TCP handle (already detached): close it the ordinary way
    }
  }
  peer.destroy();
}

/**
 * Forwards `client` along `route` (none: the connection is refused by closing it). `head` holds bytes already read
 * from the client (a peeked ClientHello) that must reach the upstream first. The client socket should allow half-open
 * connections (`allowHalfOpen` on its server) for a client's FIN to be forwarded rather than answered.
 * `terminated`: the client's TLS ended here, so a backend's TLS settings (BackendTLSPolicy) apply; a passthrough
 * stream is the client's own TLS already.
 */
export function forwardStream(
  client: Socket,
  route: CompiledStreamRoute | undefined,
  ctx: StreamContext,
  head: Buffer | null,
  terminated = false,
): void {
  const routeName = route?.routeName ?? '';
  const backendKey = route === undefined ? null : pickStreamBackend(route);
  const runtime =
    backendKey === null
      ? undefined
      : ctx.registry.backend(backendKey, terminated ? ctx.clientCertificateKey : undefined);
  const endpoint = runtime?.endpoints.pick();
  if (runtime === undefined || endpoint === undefined) {
    ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'refused');
    client.destroy();
    return;
  }
  const tls = terminated ? runtime.record.tls : undefined;
  const upstream: Socket =
    tls === undefined
      ? connect({
          host: endpoint.host,
          port: endpoint.port,
          noDelay: true,
          allowHalfOpen: true,
          timeout: ctx.connectTimeoutMs,
        })
      : connectTls({
          host: endpoint.host,
          port: endpoint.port,
          // Passed on to the TLS socket by tls.connect (_tls_wrap.js), though @types/node leaves it out.
          ...({ allowHalfOpen: true } as ConnectionOptions),
          servername: tls.hostname,
          ca: tls.caCertificates,
          cert: runtime.client?.certificatePem,
          key: runtime.client?.privateKeyPem,
          rejectUnauthorized: true,
          checkServerIdentity: serverIdentityCheck(tls.hostname, tls.subjectAltNames),
        })
          .setNoDelay(true)
          .setTimeout(ctx.connectTimeoutMs);
  const pair = new StreamPair(client, upstream, ctx, routeName, backendKey as string);
  const c = client as StreamSocket;
  const u = upstream as StreamSocket;
  c[kPeer] = upstream;
  c[kStream] = pair;
  u[kPeer] = client;
  u[kStream] = pair;
  upstream.once(tls === undefined ? 'connect' : 'secureConnect', onUpstreamConnected);
  const idleMs = ctx.idleTimeoutMs ?? 0;
  if (idleMs > 0) {
    client.setTimeout(idleMs);
    client.once('timeout', onClientIdle);
  }
  upstream.once('timeout', onConnectTimeout);
  if (head !== null && head.length > 0) upstream.write(head);
  client.on('data', onData);
  upstream.on('data', onData);
  client.on('drain', onDrain);
  upstream.on('drain', onDrain);
  client.once('end', onEnd);
  upstream.once('end', onEnd);
  upstream.on('error', onUpstreamError);
  client.on('error', onClientError);
  client.once('close', onClose);
  upstream.once('close', onClose);
}
