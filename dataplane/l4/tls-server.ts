// Sockets with TLS listeners (alone, or sharing the port with HTTPS listeners): the ClientHello is read without
// terminating TLS, its server name picks the listener, and then
//   - an HTTPS listener: the connection goes (unread) to the shard's HTTPS server;
//   - a TLS listener in Passthrough mode: the encrypted stream is forwarded to the route's backend as is;
//   - a TLS listener in Terminate mode: TLS ends here (certificate by SNI) and the plaintext is forwarded.

import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { SocketBinding } from '../http/binding.ts';
import { normalizeHost } from '../http/hostnames.ts';
import type { ListeningServer } from '../shard/sockets.ts';
import { MAX_CLIENT_HELLO, parseClientHello } from './client-hello.ts';
import { forwardStream } from './tcp-proxy.ts';
import { TLS_DEFAULTS, rotateTicketKeys, tlsPolicyAccepted } from '../tls-defaults.ts';
import type { StreamContext } from './tcp-proxy.ts';

const HELLO_TIMEOUT_MS = 10_000;

export function createTlsListener(
  binding: SocketBinding,
  https: ListeningServer | null,
  context: Omit<StreamContext, 'listenerKey'>,
): ListeningServer {
  const connections = new Set<Socket>();
  let terminatorOptions = binding.table.tls?.fallback ?? TLS_DEFAULTS;
  const terminator = createTlsServer({
    ...terminatorOptions,
    // As on HTTPS listeners (Node's default is 120 s): a handshake begun and not finished holds a socket not for long.
    handshakeTimeout: HELLO_TIMEOUT_MS,
    SNICallback: (servername, callback) => callback(null, binding.table.tls?.byHost.lookup(normalizeHost(servername))),
  });
  rotateTicketKeys(terminator);
  terminator.on('secureConnection', (socket: TLSSocket) => {
    if (!tlsPolicyAccepted(binding.table.listeners, socket)) return void socket.destroy();
    const sni = normalizeHost(typeof socket.servername === 'string' ? socket.servername : '');
    const listener = binding.table.listeners.lookup(sni);
    forwardStream(
      socket,
      listener?.stream?.lookup(sni),
      {
        ...context,
        listenerKey: listener?.key ?? '',
        clientCertificateKey: listener?.listener.backendClientCertificateKey,
      },
      null,
      true,
    );
  });
  terminator.on('tlsClientError', (_error, socket) => socket.destroy());

  // Half-open connections are allowed for the forwarded streams (a FIN is relayed, not answered); a connection handed
  // to the HTTPS server gets Node's default back.
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(HELLO_TIMEOUT_MS, () => socket.destroy());
    const onEnd = () => socket.destroy();
    socket.once('end', onEnd);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const hello = parseClientHello(head);
      if (hello.state === 'incomplete' && head.length <= MAX_CLIENT_HELLO + 5) return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.setTimeout(0);
      if (hello.state !== 'ok') return void socket.destroy();
      const sni = hello.serverName ?? '';
      const listener = binding.table.listeners.lookup(sni);
      if (listener === undefined) return void socket.destroy();
      const protocol = listener.listener.protocol;
      if (protocol === 'HTTPS' && https !== null) {
        socket.pause();
        socket.allowHalfOpen = false;
        socket.unshift(head);
        (https.server as unknown as { emit(e: 'connection', s: Socket): void }).emit('connection', socket);
      } else if (protocol === 'TLS' && listener.listener.tls?.mode === 'Passthrough') {
        socket.pause();
        forwardStream(socket, listener.stream?.lookup(sni), { ...context, listenerKey: listener.key }, head);
        socket.resume();
      } else if (protocol === 'TLS') {
        socket.pause();
        socket.unshift(head);
        terminator.emit('connection', socket);
      } else socket.destroy();
    };
    socket.on('data', onData);
  });
  return {
    server,
    refresh: () => {
      https?.refresh?.();
      // The socket's TLS policy and default certificate follow the generation in force (tls-defaults.ts).
      const next = binding.table.tls?.fallback ?? TLS_DEFAULTS;
      if (next !== terminatorOptions) terminator.setSecureContext((terminatorOptions = next));
    },
    drain: (drainMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => connections.forEach((c) => c.destroy()), drainMs);
        force.unref();
        void https?.drain(drainMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
