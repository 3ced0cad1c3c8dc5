// TCP listener sockets: every connection goes to the listener's route (TCPRoute). Half-open connections are allowed,
// so that a client's FIN is forwarded to the backend instead of being answered here (see tcp-proxy.ts).

import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import type { SocketBinding } from '../http/binding.ts';
import type { ListeningServer } from '../shard/sockets.ts';
import { forwardStream } from './tcp-proxy.ts';
import type { StreamContext } from './tcp-proxy.ts';

export function createTcpListener(
  binding: SocketBinding,
  context: Omit<StreamContext, 'listenerKey'>,
): ListeningServer {
  const connections = new Set<Socket>();
  // The stream context of the listener in force, built once per listener key rather than once per connection.
  let streamContext: StreamContext | null = null;
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    const listener = binding.table.listenerList[0];
    const listenerKey = listener?.key ?? '';
    if (streamContext === null || streamContext.listenerKey !== listenerKey)
      streamContext = { ...context, listenerKey };
    forwardStream(socket, listener?.stream?.lookup(''), streamContext, null);
  });
  return {
    server,
    drain: (drainMs) =>
      new Promise<void>((resolve) => {
        // Established streams keep flowing until they end or the drain time is up.
        const force = setTimeout(() => connections.forEach((c) => c.destroy()), drainMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
