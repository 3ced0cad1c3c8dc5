// The access log line, on demand (`--access-log`): one JSON line per finished request or upgrade, written by the shard
// that served it, with the same fields whichever front end served it (the engine, or Fastify for HTTP/2): the
// dictionary's (shared/telemetry/attributes.ts), built by shared/telemetry/access-record.ts. The logger is a pino
// instance with `base: null` and `timestamp: false` (the record carries `time`); a line is `level`, `msg: "access"`
// and the record. Off by default: a line per request costs more than the rest of the request path at high rates.

import type { Logger } from 'pino';
import { buildAccessRecord } from '../../shared/telemetry/access-record.ts';
import type { AccessEntry } from '../../shared/telemetry/access-record.ts';

/** Truncated so that one line stays far below PIPE_BUF and cannot be split between threads (see DESIGN.md). */
export function clip(value: string | undefined, max = 512): string | undefined {
  return value === undefined || value.length <= max ? value : `${value.slice(0, max)}…`;
}

export function writeAccessLine(log: Logger, entry: AccessEntry): void {
  log.info(buildAccessRecord(entry), 'access');
}
