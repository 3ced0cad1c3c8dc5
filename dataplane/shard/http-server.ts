// Plain-HTTP listener sockets: a node:http server per socket feeding the shard's Fastify app. The parser limits are
// the defence against hostile requests: llhttp in strict mode refuses request smuggling (both Content-Length and
// Transfer-Encoding, bad chunk framing) and invalid characters with 400, oversized headers get 431.

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import type { ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { kBinding } from '../http/binding.ts';
import type { BoundSocket, SocketBinding } from '../http/binding.ts';
import { isWebSocketUpgrade } from '../http/websocket.ts';
import { sniffCleartext } from './cleartext-sniffer.ts';
import { guardH2Sessions, h2ServerOptions } from './h2-limits.ts';
import type { ListeningServer } from './sockets.ts';

export interface HttpServerOptions {
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
export type UpgradeListener = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

export function createHttpListener(
  binding: SocketBinding,
  routing: RequestListener,
  onUpgrade: UpgradeListener,
  options: HttpServerOptions,
): ListeningServer {
  const server = createServer(
    {
      keepAliveTimeout: options.keepAliveTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      // Per-route request timeouts are ours; Node's would cut long downloads and uploads.
      requestTimeout: 0,
      maxHeaderSize: options.maxHeaderBytes,
      noDelay: true,
      insecureHTTPParser: false,
      requireHostHeader: true,
      // WebSocket upgrades go to our proxy; any other Upgrade (e.g. h2c) is answered as a plain request.
      shouldUpgradeCallback: isWebSocketUpgrade,
    } as Parameters<typeof createServer>[0],
    routing,
  );
  server.on('upgrade', onUpgrade);
  // HTTP/2 with prior knowledge (gRPC without TLS) on the same port, told apart by the connection preface.
  const h2c = createH2cServer(h2ServerOptions(options), routing as never);
  guardH2Sessions(h2c, options);
  const sessions = new Set<ServerHttp2Session>();
  h2c.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  sniffCleartext(
    server,
    h2c,
    (socket: Socket) => {
      (socket as unknown as BoundSocket)[kBinding] = binding;
    },
    options.headersTimeoutMs,
  );
  return {
    server,
    drain: (drainMs) => {
      // HTTP/2 sessions get GOAWAY and finish their streams; HTTP/1.1 connections drain as before.
      for (const session of sessions) session.close();
      const force = setTimeout(() => {
        for (const session of sessions) session.destroy();
      }, drainMs);
      force.unref();
      return drainHttpServer(server, drainMs).finally(() => clearTimeout(force));
    },
  };
}

export function drainHttpServer(server: ReturnType<typeof createServer>, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), drainMs);
    force.unref();
    // close() stops accepting and ends idle keep-alive connections; busy ones end after their response, which
    // carries `Connection: close` because the binding is draining.
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
