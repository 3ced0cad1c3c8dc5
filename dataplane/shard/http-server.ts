// Plain-HTTP listener sockets: a `net` server whose connections go to the shard's HTTP/1.1 engine, except those that
// open with the HTTP/2 connection preface (h2c with prior knowledge, as gRPC clients use without TLS): the engine
// hands them, unread, to the HTTP/2 server below, which feeds the shard's Fastify app. The engine's llhttp parser is
// the defence against hostile requests (strict: smuggling attempts and invalid characters get 400, an oversized
// target 414, an oversized head 431).

import { createServer as createNetServer } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import type { ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { kBinding } from '../http/binding.ts';
import type { BoundSocket, SocketBinding } from '../http/binding.ts';
import type { Engine } from '../h1/engine.ts';
import { guardH2Sessions, h2ServerOptions } from './h2-limits.ts';
import type { H2ListenerLimits } from './h2-limits.ts';
import type { ListeningServer } from './sockets.ts';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The HTTP/2 server of a plain listener (h2c prior knowledge); its settings and flood limits in h2-limits.ts. */
function createH2c(routing: RequestListener, limits: H2ListenerLimits) {
  const h2c = createH2cServer(h2ServerOptions(limits), routing as never);
  guardH2Sessions(h2c, limits);
  return h2c;
}

export function createHttpListener(
  binding: SocketBinding,
  engine: Engine,
  routing: RequestListener,
  limits: H2ListenerLimits,
): ListeningServer {
  const h2c = createH2c(routing, limits);
  const sessions = new Set<ServerHttp2Session>();
  h2c.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  // Half-open: a client that half-closes after its requests still gets its responses (as node:http allows).
  const server = createNetServer({ noDelay: true, allowHalfOpen: true }, (socket: Socket) => {
    (socket as unknown as BoundSocket)[kBinding] = binding;
    engine.accept(socket, binding, h2c);
  });
  return {
    server,
    drain: (drainMs) => {
      // HTTP/2 sessions get GOAWAY and finish their streams; HTTP/1.1 connections end after their response.
      for (const session of sessions) session.close();
      const force = setTimeout(() => {
        for (const session of sessions) session.destroy();
      }, drainMs);
      force.unref();
      server.close();
      return engine.drain(binding, drainMs).finally(() => clearTimeout(force));
    },
  };
}
