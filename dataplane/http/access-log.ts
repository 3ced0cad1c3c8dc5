// The access log, on demand (`--access-log`): one JSON line per finished request or upgrade, written by the shard
// that served it. Off by default: a line per request costs more than the rest of the request path at high rates.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** Truncated so that one line stays far below PIPE_BUF and cannot be split between threads (see DESIGN.md). */
function clip(value: string | undefined, max = 512): string | undefined {
  return value === undefined || value.length <= max ? value : `${value.slice(0, max)}…`;
}

export function logWhenFinished(log: Logger, req: IncomingMessage, res: ServerResponse, listenerKey: string): void {
  const started = performance.now();
  res.once('close', () => {
    log.info(
      {
        listener: listenerKey,
        method: req.method,
        host: clip(req.headers.host ?? (req.headers[':authority'] as string | undefined), 256),
        path: clip(req.url),
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 100) / 100,
        client: req.socket.remoteAddress,
        completed: res.writableFinished,
        protocol: `HTTP/${req.httpVersion}`,
      },
      'access',
    );
  });
}
