// The Fastify (HTTP/2) front end's access log: the line of dataplane/core/access-log.ts, written when the response
// closes.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { writeAccessLine } from '../core/access-log.ts';

export function logWhenFinished(
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  listenerKey: string,
  route: () => string,
): void {
  const started = performance.now();
  res.once('close', () => {
    writeAccessLine(log, {
      listener: listenerKey,
      route: route(),
      method: req.method ?? '',
      host: req.headers.host ?? (req.headers[':authority'] as string | undefined),
      target: req.url ?? '',
      status: res.statusCode,
      started,
      client: req.socket.remoteAddress,
      completed: res.writableFinished,
      protocol: `HTTP/${req.httpVersion}`,
    });
  });
}
