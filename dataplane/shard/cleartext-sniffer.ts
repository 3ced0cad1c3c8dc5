// Plain-HTTP listener sockets speak HTTP/1.1 and HTTP/2 with prior knowledge (h2c, as gRPC clients use without
// TLS) on the same port. Node has no such server, so the first bytes of each connection decide: the HTTP/2
// connection preface starts with "PRI * HTTP/2.0". The bytes read are put back, and the connection goes on, unread,
// to the HTTP/1.1 server's own connection handler or to the HTTP/2 server; bytes that are neither are closed
// unanswered (h2-limits.ts `classifyCleartext`).

import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { classifyCleartext } from './h2-limits.ts';

/**
 * Re-routes the 'connection' event of a listening HTTP/1.1 server through the sniffer. The HTTP/1.1 server keeps its
 * own connection tracking and timeouts (headers timeout, keep-alive), which Node sets up only for a server that
 * listens, so the sniffer sits inside it rather than in front of it.
 */
export function sniffCleartext(
  server: HttpServer,
  http2: { emit(event: 'connection', socket: Socket): boolean },
  onConnection: (socket: Socket) => void,
  firstBytesTimeoutMs: number,
): void {
  const http1 = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    onConnection(socket);
    let head: Buffer | null = null;
    // Until the first bytes decide, the socket belongs to no server: no server's timeouts or half-close handling
    // apply (the HTTP server allows half-open sockets), so a client that connects and goes away, or sends
    // nothing, must be dealt with here.
    const onEnd = () => socket.destroy();
    socket.once('end', onEnd);
    socket.setTimeout(firstBytesTimeoutMs, () => socket.destroy());
    const onData = (chunk: Buffer) => {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      // Decide as soon as the bytes seen complete the preface, start an HTTP/1.x request, or are neither.
      const verdict = classifyCleartext(head);
      if (verdict === 'more') return;
      if (verdict === 'close') return void socket.destroy();
      const isPreface = verdict === 'h2';
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      if (isPreface) {
        // The HTTP/2 session reads the bytes put back itself, then owns the socket's reads.
        http2.emit('connection', socket);
      } else {
        for (const listener of http1) listener.call(server, socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  });
}
