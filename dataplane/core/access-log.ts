// The access log line, on demand (`--access-log`): one JSON line per finished request or upgrade, written by the shard
// that served it, with the same fields whichever front end served it (the engine, or Fastify for HTTP/2). Off by
// default: a line per request costs more than the rest of the request path at high rates.

import type { Logger } from 'pino';

export interface AccessEntry {
  listener: string;
  route: string;
  method: string;
  host: string | undefined;
  target: string;
  status: number;
  /** performance.now() when the request's head was read. */
  started: number;
  client: string | undefined;
  /** The response went out whole (false: the client or the upstream went away first). */
  completed: boolean;
  protocol: string;
}

/** Truncated so that one line stays far below PIPE_BUF and cannot be split between threads (see DESIGN.md). */
export function clip(value: string | undefined, max = 512): string | undefined {
  return value === undefined || value.length <= max ? value : `${value.slice(0, max)}…`;
}

export function writeAccessLine(log: Logger, entry: AccessEntry): void {
  log.info(
    {
      listener: entry.listener,
      route: entry.route,
      method: entry.method,
      host: clip(entry.host, 256),
      path: clip(entry.target),
      status: entry.status,
      ms: Math.round((performance.now() - entry.started) * 100) / 100,
      client: entry.client,
      completed: entry.completed,
      protocol: entry.protocol,
    },
    'access',
  );
}
