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

/** Copies `from`'s bytes to `to`, pausing `from` while `to`'s write buffer is full; `from`'s FIN ends `to`. */
function relay(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.once('end', () => to.end());
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
  let connected = false;
  upstream.once(tls === undefined ? 'connect' : 'secureConnect', () => {
    connected = true;
    upstream.setTimeout(0);
    ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'forwarded');
  });
  const idleMs = ctx.idleTimeoutMs ?? 0;
  if (idleMs > 0) {
    client.setTimeout(idleMs, () => {
      ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'idle');
      client.destroy();
      upstream.destroy();
    });
  }
  upstream.once('timeout', () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
  if (head !== null && head.length > 0) upstream.write(head);
  relay(client, upstream);
  relay(upstream, client);
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (!connected) ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'failed');
    ctx.metrics.upstreamError(backendKey as string, error.code ?? 'UNKNOWN');
    abort(client, error);
  });
  client.on('error', (error: NodeJS.ErrnoException) => abort(upstream, error));
  // A side that closes after its FIN was relayed leaves the other to finish writing; one closed without a FIN (a
  // destroy, a drain's end) takes the other with it.
  client.once('close', () => {
    if (!client.readableEnded) abort(upstream);
  });
  upstream.once('close', () => {
    if (!upstream.readableEnded) abort(client);
  });
}
