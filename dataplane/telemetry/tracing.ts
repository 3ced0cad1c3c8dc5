// The data plane's tracing, as the routing core calls it: one ShardTracing per shard (worker thread), made from the
// frozen tracing config, with its own bounded queue and exporter. The calls, in request order, are in README.md.
// Span names and attributes follow the OpenTelemetry HTTP conventions and the dictionary (shared/telemetry/
// attributes.ts): server span `{method} {http.route}` (or `{method}` without a route), client span `{method}`.
// Must not: cost an unsampled request more than sampled() (one header check, no allocation); do I/O on the request
// path (export runs from the batcher's timer); know about sockets, Fastify or the engine (it takes plain values).

import { SpanBatcher } from '../../shared/telemetry/batcher.ts';
import { otlpHttpSender } from '../../shared/telemetry/otlp-http.ts';
import type { SamplerConfig } from '../../shared/telemetry/sampler.ts';
import { SPAN_KIND, Tracer } from '../../shared/telemetry/span.ts';
import type { AttributeValue, Span, SpanSink } from '../../shared/telemetry/span.ts';

/**
 * prom-client's MetricObjectWithValues, as the shard's metrics (shard/metrics.ts) hand them to the supervisor's
 * aggregator. Declared here rather than imported so that this module does not depend on the shard's files.
 */
export interface MetricJson {
  name: string;
  help: string;
  type: 'counter';
  aggregator: 'sum';
  values: Array<{ labels: Record<string, string>; value: number }>;
}

export interface TracingConfig {
  /** OTLP/HTTP collector URL (e.g. http://jaeger-collector:4318). */
  endpoint: string;
  headers?: Record<string, string>;
  /** Resource `service.name`. Default `portico-gateway` (XTelemetryPolicy's serviceName overrides it). */
  serviceName?: string;
  sampler: SamplerConfig;
  /** Attributes on every span (XTelemetryPolicy's Literal attributes). */
  attributes?: Record<string, string>;
  /** XTelemetryPolicy's spanName: the server span's name, in place of `{method} {http.route}`. */
  spanName?: string;
  /** XTelemetryPolicy's Header attributes: [attribute name, lower-case header name], on the server span. */
  headerAttributes?: ReadonlyArray<readonly [string, string]>;
  /** XTelemetryPolicy's Attribute sources: [attribute name, dictionary key], copied on the server span at its end. */
  copiedAttributes?: ReadonlyArray<readonly [string, string]>;
  maxQueue?: number;
  maxBatch?: number;
  intervalMs?: number;
}

/** What the front end knows when the request head has been read. Only built for sampled requests. */
export interface ServerRequestInfo {
  method: string;
  scheme: 'http' | 'https';
  /** Host header without the port. */
  host: string;
  /** The listener's port. */
  port: number;
  path: string;
  /** Without `?`; '' when none. */
  query: string;
  /** `1.1`, `2`… */
  protocolVersion: string;
  clientAddress: string;
  clientPort: number;
  listener: string;
  userAgent?: string;
  requestId?: string;
  tlsVersion?: string;
  sni?: string;
  /** The request headers, read only when the listener's policy has Header attributes. */
  headers?: Readonly<Record<string, string | string[] | undefined>>;
}

/** What routing decided (set on the server span once a rule matched). */
export interface RouteInfo {
  gateway: string;
  route: string;
  rule: string;
  /** The rule's path match as a template (`/api/*`), for `http.route` and the span name. */
  httpRoute?: string;
}

/** One attempt to a backend endpoint (a retry is another attempt; a mirror is an attempt with mirror: true). */
export interface UpstreamAttemptInfo {
  method: string;
  scheme: 'http' | 'https';
  backend: string;
  /** The endpoint's address and port. */
  address: string;
  port: number;
  path: string;
  attempt: number;
  mirror?: boolean;
}

/** A batcher exporting to `config.endpoint` as `config.serviceName` (resource attributes are per batch request). */
export function newExporter(config: TracingConfig, shard: number): SpanBatcher {
  return new SpanBatcher({
    resource: {
      attributes: { 'service.name': config.serviceName ?? 'portico-gateway', 'portico.shard': shard },
      scope: { name: 'portico', version: '0.1.0' },
    },
    send: otlpHttpSender({ endpoint: config.endpoint, headers: config.headers }),
    maxQueue: config.maxQueue,
    maxBatch: config.maxBatch,
    intervalMs: config.intervalMs,
  });
}

/** An address as a URL host: IPv6 in brackets. */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Sets `name` to the value of the span's attribute `key` (the last one set), when it has one. */
function copyAttribute(span: Span, key: string, name: string): void {
  const pairs = span.attributes;
  for (let i = pairs.length - 2; i >= 0; i -= 2) {
    if (pairs[i] === key) {
      span.set(name, pairs[i + 1] as AttributeValue);
      return;
    }
  }
}

const STANDARD_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

function setMethod(span: Span, method: string): void {
  if (STANDARD_METHODS.has(method)) span.set('http.request.method', method);
  else span.set('http.request.method', '_OTHER').set('http.request.method_original', method);
}

export class ShardTracing {
  readonly tracer: Tracer;
  readonly batcher: SpanBatcher;
  readonly #attributes: Array<[string, AttributeValue]>;
  readonly #spanName: string | undefined;
  readonly #headerAttributes: ReadonlyArray<readonly [string, string]>;
  readonly #copiedAttributes: ReadonlyArray<readonly [string, string]>;

  /**
   * `sink`: where ended spans go instead of the exporter (tests). `exporter`: a batcher shared with other listeners
   * that export to the same collector as the same service (table.ts); absent: one of its own, from `config`.
   */
  constructor(config: TracingConfig, shard: number, sink?: SpanSink, exporter?: SpanBatcher) {
    this.batcher = exporter ?? newExporter(config, shard);
    this.tracer = new Tracer({ sampler: config.sampler }, sink ?? this.batcher);
    this.#attributes = Object.entries(config.attributes ?? {});
    this.#spanName = config.spanName;
    this.#headerAttributes = config.headerAttributes ?? [];
    this.#copiedAttributes = config.copiedAttributes ?? [];
  }

  start(): this {
    this.batcher.start();
    return this;
  }

  /** Step 1, every request: the decision. No allocation; false means forward trace headers unchanged. */
  sampled(traceparent: string | undefined): boolean {
    return this.tracer.sampled(traceparent);
  }

  /** Step 2, sampled requests: the server span, continuing the caller's trace. `startMs`: when the head arrived. */
  serverSpan(
    traceparent: string | undefined,
    tracestate: string | undefined,
    req: ServerRequestInfo,
    startMs?: number,
  ): Span {
    const span = this.tracer.startServer(traceparent, tracestate, req.method, startMs);
    setMethod(span, req.method);
    span
      .set('url.scheme', req.scheme)
      .set('url.path', req.path)
      .set('server.address', req.host)
      .set('server.port', req.port)
      .set('network.protocol.version', req.protocolVersion)
      .set('client.address', req.clientAddress)
      .set('client.port', req.clientPort)
      // GEP-5253's connection attributes: the peer is the client (Portico reads no proxy headers), over TCP.
      .set('network.peer.address', req.clientAddress)
      .set('network.peer.port', req.clientPort)
      .set('network.protocol.name', 'http')
      .set('network.transport', 'tcp')
      .set('network.type', req.clientAddress.includes(':') ? 'ipv6' : 'ipv4')
      .set('portico.listener', req.listener);
    if (req.query !== '') span.set('url.query', req.query);
    if (req.userAgent !== undefined) span.set('user_agent.original', req.userAgent);
    if (req.requestId !== undefined) span.set('http.request.header.x-request-id', [req.requestId]);
    if (req.tlsVersion !== undefined) span.set('tls.protocol.version', req.tlsVersion);
    if (req.sni !== undefined) span.set('tls.client.server_name', req.sni);
    for (const [key, value] of this.#attributes) span.set(key, value);
    if (this.#spanName !== undefined) span.name = this.#spanName;
    for (const [name, header] of this.#headerAttributes) {
      const value = req.headers?.[header];
      if (value !== undefined) span.set(name, typeof value === 'string' ? value : value.join(','));
    }
    return span;
  }

  /** Step 3, once a rule matched: the route on the server span (and its name becomes `{method} {http.route}`). */
  routed(span: Span, route: RouteInfo): void {
    span.set('portico.gateway', route.gateway).set('portico.route', route.route).set('portico.rule', route.rule);
    if (route.httpRoute !== undefined) {
      span.set('http.route', route.httpRoute);
      if (this.#spanName === undefined) span.name = `${span.name} ${route.httpRoute}`;
    }
  }

  /**
   * Step 4, per upstream attempt (each retry, each mirror): a client span, child of the server span. Send
   * `span.traceparent()` as the upstream request's `traceparent` (and the caller's `tracestate` unchanged).
   */
  upstreamSpan(server: Span, attempt: UpstreamAttemptInfo, startMs?: number): Span {
    const span = this.tracer.startChild(server, attempt.method, SPAN_KIND.client, startMs);
    setMethod(span, attempt.method);
    span
      .set('url.scheme', attempt.scheme)
      .set('url.path', attempt.path)
      .set('server.address', attempt.address)
      .set('server.port', attempt.port)
      .set('url.full', `${attempt.scheme}://${urlHost(attempt.address)}:${attempt.port}${attempt.path}`)
      .set('network.protocol.name', 'http')
      .set('portico.backend', attempt.backend)
      .set('portico.upstream.address', `${attempt.address}:${attempt.port}`)
      .set('portico.attempt', attempt.attempt);
    if (attempt.mirror === true) span.set('portico.mirror', true);
    for (const [key, value] of this.#attributes) span.set(key, value);
    return span;
  }

  /** Step 5, per attempt: its outcome. `status` 0 with `errorCode`: no response (timeout, reset, refused). */
  endUpstream(span: Span, status: number, errorCode?: string, endMs?: number): void {
    if (status > 0) span.set('http.response.status_code', status);
    if (errorCode !== undefined) span.fail(errorCode);
    else if (status >= 400) span.fail(String(status)); // a client span is in error for 4xx too (HTTP conventions)
    this.tracer.end(span, endMs);
  }

  /** Step 6, when the response is done: status sent downstream, retries, and the server span goes to the queue. */
  endServer(span: Span, status: number, retries: number, errorCode?: string, endMs?: number): void {
    span.set('http.response.status_code', status).set('portico.retries', retries);
    if (errorCode !== undefined) span.fail(errorCode);
    else if (status >= 500) span.fail(String(status)); // a server span is in error for 5xx only
    for (const [name, key] of this.#copiedAttributes) copyAttribute(span, key, name);
    this.tracer.end(span, endMs);
  }

  /** The exporter's counters for the shard's /metrics (merged by the supervisor like the shard's other metrics). */
  metricsJson(): MetricJson[] {
    const s = this.batcher.stats;
    return [
      {
        name: 'portico_tracing_spans_total',
        help: 'Spans by outcome: exported, dropped (queue full), failed (export request failed).',
        type: 'counter',
        aggregator: 'sum',
        values: [
          { labels: { outcome: 'exported' }, value: s.exported },
          { labels: { outcome: 'dropped' }, value: s.dropped },
          { labels: { outcome: 'failed' }, value: s.failed },
        ],
      },
    ];
  }

  shutdown(timeoutMs?: number): Promise<void> {
    return this.batcher.shutdown(timeoutMs);
  }
}
