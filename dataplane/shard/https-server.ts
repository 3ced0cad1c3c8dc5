// HTTPS listener sockets: TLS terminated here with the certificate chosen by SNI, then, as the client negotiates with
// ALPN, HTTP/2 served by the shard's Fastify app, or HTTP/1.1 (ALPN `http/1.1` or none) served by the shard's engine.
// The server lives as long as the socket; a new generation only changes the table it reads (certificates included).

import { createSecureServer } from 'node:http2';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { kBinding } from '../http/binding.ts';
import type { BoundSocket, SocketBinding } from '../http/binding.ts';
import { normalizeHost } from '../http/hostnames.ts';
import type { Engine } from '../h1/engine.ts';
import type { RequestListener } from './http-server.ts';
import { guardH2Sessions, h2ServerOptions } from './h2-limits.ts';
import type { ListeningServer } from './sockets.ts';
import { TLS_DEFAULTS, rotateTicketKeys, tlsPolicyAccepted } from '../tls-defaults.ts';

export interface HttpsServerOptions {
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

/**
 * Frontend client certificate validation: a listener in AllowValidOnly mode takes only clients whose certificate
 * chains to its CA bundle; AllowInsecureFallback lets the others through too.
 */
export function clientCertificateAccepted(binding: SocketBinding, socket: TLSSocket): boolean {
  if (!binding.table.clientCertificates) return true;
  const servername = typeof socket.servername === 'string' ? socket.servername : '';
  const validation = binding.table.listeners.lookup(normalizeHost(servername))?.listener.tls?.clientValidation;
  return validation === undefined || validation.mode === 'AllowInsecureFallback' || socket.authorized;
}

export function createHttpsListener(
  binding: SocketBinding,
  engine: Engine,
  routing: RequestListener,
  options: HttpsServerOptions,
): ListeningServer {
  const fallback = binding.table.tls?.fallback ?? undefined;
  const server: Http2SecureServer = createSecureServer({
    ...TLS_DEFAULTS,
    ...fallback,
    allowHTTP1: true,
    ALPNProtocols: ['h2', 'http/1.1'],
    ...h2ServerOptions(options),
    // A client that opens a connection and never finishes the handshake holds a socket: not for long.
    handshakeTimeout: 10_000,
    maxSendHeaderBlockLength: options.maxHeaderBytes,
    // Asked of every client when some listener on the socket validates client certificates; whether a missing or
    // invalid one is acceptable depends on the listener, decided after the handshake.
    requestCert: binding.table.clientCertificates,
    rejectUnauthorized: false,
    SNICallback: (servername, callback) => {
      const context = binding.table.tls?.byHost.lookup(normalizeHost(servername));
      // No listener takes this name: the default context (the catch-all listener's certificate) answers.
      callback(null, context);
    },
  });
  guardH2Sessions(server, options);
  rotateTicketKeys(server);
  server.on('request', routing as never);
  // The HTTP/2 server's own handler of a finished handshake: called for h2 connections only.
  const http2Listeners = server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
  server.removeAllListeners('secureConnection');
  const sockets = new Set<TLSSocket>();
  const sessions = new Set<ServerHttp2Session>();
  server.on('secureConnection', (socket: TLSSocket) => {
    if (!clientCertificateAccepted(binding, socket) || !tlsPolicyAccepted(binding.table.listeners, socket))
      return void socket.destroy();
    (socket as unknown as BoundSocket)[kBinding] = binding;
    if (socket.alpnProtocol !== 'h2') {
      // As on plain sockets: a client that half-closes after its request still gets the response.
      socket.allowHalfOpen = true;
      return engine.accept(socket, binding, null);
    }
    for (const listener of http2Listeners) listener.call(server, socket);
    sockets.add(socket);
    // An idle connection (no bytes either way) is closed after the keep-alive timeout.
    socket.setTimeout(options.keepAliveTimeoutMs, () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  let appliedFallback = fallback;
  return {
    server,
    refresh() {
      // Clients without SNI get the default context: keep it in step with the generation in force.
      const next = binding.table.tls?.fallback ?? undefined;
      if (next !== undefined && next !== appliedFallback) {
        server.setSecureContext(next);
        appliedFallback = next;
      }
    },
    drain: (drainMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, drainMs);
        force.unref();
        let left = 2;
        const done = () => {
          if (--left > 0) return;
          clearTimeout(force);
          resolve();
        };
        server.close(done);
        void engine.drain(binding, drainMs).then(done);
        // HTTP/2 clients get GOAWAY and finish their streams; HTTP/1.1 ones get `Connection: close` on their next
        // response (the binding is draining).
        for (const session of sessions) session.close();
      }),
  };
}
