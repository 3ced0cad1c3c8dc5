// What both front ends record about one request besides metrics: its request id (generated when missing, forwarded
// upstream), its trace (dataplane/telemetry/tracing.ts, only for sampled requests) and the fields of its access-log
// line (shared/telemetry/access-record.ts, only with `--access-log`). One `Observation` per request, a fixed shape;
// the front end fills it as the request goes and hands it to `finishObservation` once.
// Must not: cost an unsampled request more than `sampled()` and the request id when the access log is off.

import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { ResponseFlag } from '../../shared/telemetry/attributes.ts';
import { newRequestId } from '../../shared/telemetry/ids.ts';
import type { Span } from '../../shared/telemetry/span.ts';
import { EXT_AUTHZ_DENIED, NO_ENDPOINTS, PROXY_ERRORS, proxyErrorForUpstream } from '../errors.ts';
import { replaceAttribute } from '../telemetry/attempts.ts';
import type { TracingTable } from '../telemetry/table.ts';
import type { ShardTracing } from '../telemetry/tracing.ts';
import { writeAccessLine } from './access-log.ts';
import type { Routed } from './route.ts';

/** The shard's tracing and access log, shared by its front ends. */
export interface Telemetry {
  /** Per listener (XTelemetryPolicy, else the command line): `tracing.of(listenerKey)` once the listener is known. */
  tracing: TracingTable | null;
  /** A pino logger with `base: null, timestamp: false` (the record carries `time`); null: no access log. */
  accessLog: Logger | null;
}

/** Reads `x-request-id`, or generates one and puts it in `headers` (so it goes upstream). */
export function requestIdOf(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): string {
  const id = headers['x-request-id'];
  if (typeof id === 'string' && id !== '') return id;
  if (Array.isArray(id) && id.length > 0 && id[0] !== '') return id[0];
  const fresh = newRequestId();
  headers['x-request-id'] = fresh;
  return fresh;
}

/** The dictionary's response flag of an upstream error code (dataplane/errors.ts) or a gateway answer's code. */
export function flagOf(code: string): ResponseFlag | null {
  switch (code) {
    case 'REQUEST_TIMEOUT':
      return 'request_timeout';
    case 'NO_ROUTE':
    case 'NO_LISTENER':
      return 'no_route';
    case 'NO_BACKEND':
      return 'invalid_backend';
    case 'NO_ENDPOINT':
    case NO_ENDPOINTS:
      return 'no_healthy_endpoint';
    case EXT_AUTHZ_DENIED:
      return 'ext_authz_denied';
    case 'EXT_AUTHZ_ERROR':
    case 'EXT_AUTHZ_INVALID':
    case 'EXT_AUTHZ_BODY_TOO_LARGE':
      return 'ext_authz_error';
  }
  if (code in PROXY_ERRORS) return null; // the client's own request (400, 414…): no flag
  switch (proxyErrorForUpstream(code)) {
    case 'UPSTREAM_UNAVAILABLE':
      return 'upstream_connect_failure';
    case 'UPSTREAM_TIMEOUT':
      return 'upstream_timeout';
    default:
      return 'upstream_reset';
  }
}

export class Observation {
  requestId: string;
  /** The gateway's server span; null when not sampled. */
  server: Span | null = null;
  /** The tracing of the request's listener when sampled (its spans all go through it); null otherwise. */
  tracing: ShardTracing | null = null;
  tracestate: string | undefined = undefined;
  /** performance.now() of the request head. */
  readonly started: number;
  bytesIn = 0;
  bytesOut = 0;
  retries = 0;
  upstreamAddress: string | undefined = undefined;
  /** performance.now() when the last attempt started (0: none). */
  upstreamStart = 0;
  upstreamMs: number | undefined = undefined;
  flags: ResponseFlag[] = [];
  errorType: string | undefined = undefined;
  finished = false;

  constructor(requestId: string, started: number) {
    this.requestId = requestId;
    this.started = started;
  }

  /** Records why the response is not simply the upstream's: its flag and `error.type` (the flag, or the code). */
  flag(code: string): void {
    const flag = flagOf(code);
    if (flag !== null && !this.flags.includes(flag)) this.flags.push(flag);
    this.errorType ??= flag ?? code;
  }

  /** An attempt starts (first try or retry) to `address:port`: its time and endpoint for the log line. */
  attemptStarted(address: string, port: number): void {
    this.upstreamStart = performance.now();
    this.upstreamAddress = `${address}:${port}`;
  }

  /**
   * Starts an upstream attempt on `endpoint`: its time and address for the log line, and for a sampled request its
   * client span, returned (the caller sends its `traceparent` upstream); null otherwise.
   */
  attemptOn(
    method: string,
    routed: Routed,
    endpoint: { host: string; port: number; origin: string },
    attempt: number,
  ): Span | null {
    this.attemptStarted(endpoint.host, endpoint.port);
    const tracing = this.tracing;
    if (this.server === null || tracing === null) return null;
    return tracing.upstreamSpan(this.server, {
      method,
      scheme: endpoint.origin.startsWith('https:') ? 'https' : 'http',
      backend: (routed.backend as NonNullable<Routed['backend']>).key,
      address: endpoint.host,
      port: endpoint.port,
      path: routed.path,
      attempt,
    });
  }

  /** An upstream attempt's outcome: its time for the log line, its span (if any) ended. */
  attemptEnded(tracing: ShardTracing | null, span: Span | null, status: number, errorCode?: string): void {
    if (this.upstreamStart > 0) this.upstreamMs = performance.now() - this.upstreamStart;
    if (tracing !== null && span !== null) tracing.endUpstream(span, status, errorCode);
  }
}

/** The route on the server span, once a rule matched. */
export function traceRouted(tracing: ShardTracing, server: Span, routed: Routed): void {
  // The server span was started with the socket's key: the listener is known once the Host chose it.
  if (routed.listener !== null) replaceAttribute(server, 'portico.listener', routed.listenerKey);
  const rule = routed.rule;
  if (rule === null) return;
  tracing.routed(server, {
    gateway: gatewayOf(routed.listenerKey),
    route: rule.routeName,
    rule: String(rule.ruleIndex),
    httpRoute: routed.pathTemplate,
  });
}

/** `namespace/gateway` of a listener key `namespace/gateway/listener`. */
export function gatewayOf(listenerKey: string): string {
  const last = listenerKey.lastIndexOf('/');
  return last === -1 ? listenerKey : listenerKey.slice(0, last);
}

export interface FinishedRequest {
  method: string;
  host: string;
  port: number;
  scheme: 'http' | 'https';
  path: string;
  query: string;
  protocolVersion: string;
  userAgent: string | undefined;
  clientAddress: string;
  clientPort: number;
  status: number;
  completed: boolean;
  routed: Routed | null;
  tlsVersion: string | undefined;
  sni: string | undefined;
}

/** `TLSv1.3` → `1.3`. */
export function tlsVersionOf(protocol: string | null | undefined): string | undefined {
  if (protocol === null || protocol === undefined) return undefined;
  return protocol.startsWith('TLSv') ? protocol.slice(4) : protocol;
}

/** Ends the server span and writes the access line, once per request. */
export function finishObservation(telemetry: Telemetry, obs: Observation, req: FinishedRequest): void {
  if (obs.finished) return;
  obs.finished = true;
  if (!req.completed && !obs.flags.includes('downstream_reset')) obs.flags.push('downstream_reset');
  if (obs.retries > 0 && !obs.flags.includes('retried')) obs.flags.push('retried');
  const server = obs.server;
  if (server !== null && obs.tracing !== null)
    obs.tracing.endServer(server, req.status, obs.retries, req.completed ? undefined : obs.errorType);
  const log = telemetry.accessLog;
  if (log === null) return;
  const routed = req.routed;
  const rule = routed?.rule ?? null;
  const backend = routed?.backend ?? null;
  writeAccessLine(log, {
    endMs: Date.now(),
    durationMs: performance.now() - obs.started,
    requestId: obs.requestId,
    traceId: server?.traceId,
    spanId: server?.spanId,
    clientAddress: req.clientAddress,
    clientPort: req.clientPort,
    method: req.method,
    host: req.host,
    port: req.port,
    scheme: req.scheme,
    path: req.path,
    query: req.query,
    protocolVersion: req.protocolVersion,
    userAgent: req.userAgent,
    status: req.status,
    bytesIn: obs.bytesIn,
    bytesOut: obs.bytesOut,
    listener: routed?.listenerKey ?? '',
    gateway: routed !== null && routed.listener !== null ? gatewayOf(routed.listenerKey) : undefined,
    route: rule?.routeName,
    rule: rule === null ? undefined : String(rule.ruleIndex),
    httpRoute: rule === null ? undefined : routed?.pathTemplate,
    backend: backend?.key,
    upstreamAddress: obs.upstreamAddress,
    upstreamMs: obs.upstreamMs,
    retries: obs.retries,
    flags: obs.flags,
    errorType: obs.errorType ?? (req.status >= 500 ? String(req.status) : undefined),
    tlsVersion: req.tlsVersion,
    sni: req.sni,
  });
}
