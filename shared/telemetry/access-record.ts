// One access-log record, keyed by the dictionary's names (attributes.ts): what the data plane's access-log writer
// logs per finished request, so every line has the same documented fields and types (README, Observability).
// The writer (in the engine) fills an AccessEntry from what it already holds and logs buildAccessRecord(entry) as
// one JSON line, with pino set to `base: null`, `timestamp: false` (the record carries `time`) and `messageKey: 'msg'`.
// Must not: allocate per field beyond the record itself; format anything the dictionary does not define.

import type { ResponseFlag } from './attributes.ts';

/** Truncation keeps one line far below PIPE_BUF, so lines from different threads cannot interleave. */
const MAX_PATH = 512;
const MAX_HEADER = 256;

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

export interface AccessEntry {
  /** End of the request, epoch ms. */
  endMs: number;
  durationMs: number;
  requestId: string;
  traceId?: string;
  spanId?: string;
  clientAddress: string;
  clientPort: number;
  method: string;
  host: string;
  port: number;
  scheme: 'http' | 'https';
  path: string;
  /** Without `?`; '' or undefined when none. */
  query?: string;
  protocolVersion: string;
  userAgent?: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  listener: string;
  gateway?: string;
  route?: string;
  rule?: string;
  httpRoute?: string;
  backend?: string;
  upstreamAddress?: string;
  upstreamMs?: number;
  retries: number;
  flags: readonly ResponseFlag[];
  errorType?: string;
  tlsVersion?: string;
  sni?: string;
}

const STANDARD_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/** Rounds milliseconds to 0.01 ms: enough for a log, and it keeps lines short. */
const ms = (value: number) => Math.round(value * 100) / 100;

export function buildAccessRecord(e: AccessEntry): Record<string, unknown> {
  const standard = STANDARD_METHODS.has(e.method);
  const record: Record<string, unknown> = {
    time: new Date(e.endMs).toISOString(),
    'http.request.header.x-request-id': [clip(e.requestId, MAX_HEADER)],
    'client.address': e.clientAddress,
    'client.port': e.clientPort,
    'http.request.method': standard ? e.method : '_OTHER',
    'server.address': clip(e.host, MAX_HEADER),
    'server.port': e.port,
    'url.scheme': e.scheme,
    'url.path': clip(e.path, MAX_PATH),
    'network.protocol.version': e.protocolVersion,
    'http.response.status_code': e.status,
    'http.request.body.size': e.bytesIn,
    'http.response.body.size': e.bytesOut,
    'portico.duration_ms': ms(e.durationMs),
    'portico.listener': e.listener,
    'portico.retries': e.retries,
    'portico.response_flags': e.flags,
  };
  if (!standard) record['http.request.method_original'] = clip(e.method, MAX_HEADER);
  if (e.traceId !== undefined) record.trace_id = e.traceId;
  if (e.spanId !== undefined) record.span_id = e.spanId;
  if (e.query) record['url.query'] = clip(e.query, MAX_PATH);
  if (e.userAgent !== undefined) record['user_agent.original'] = clip(e.userAgent, MAX_HEADER);
  if (e.httpRoute !== undefined) record['http.route'] = e.httpRoute;
  if (e.errorType !== undefined) record['error.type'] = e.errorType;
  if (e.tlsVersion !== undefined) record['tls.protocol.version'] = e.tlsVersion;
  if (e.sni !== undefined) record['tls.client.server_name'] = clip(e.sni, MAX_HEADER);
  if (e.gateway !== undefined) record['portico.gateway'] = e.gateway;
  if (e.route !== undefined) record['portico.route'] = e.route;
  if (e.rule !== undefined) record['portico.rule'] = e.rule;
  if (e.backend !== undefined) record['portico.backend'] = e.backend;
  if (e.upstreamAddress !== undefined) record['portico.upstream.address'] = e.upstreamAddress;
  if (e.upstreamMs !== undefined) record['portico.upstream.duration_ms'] = ms(e.upstreamMs);
  return record;
}
