// Span records and the tracer that makes them. A span is a plain object of fixed shape (ids as hex strings, times as
// epoch milliseconds with a fraction, attributes as a flat key/value list); the OTLP encoder turns them into bytes
// off the request path. The tracer is what the request path calls; see dataplane/telemetry/README.md for the calls.
// Must not: allocate anything for an unsampled request, keep spans after end() (they go to the sink), do I/O.

import { newSpanId, newTraceId } from './ids.ts';
import { Sampler } from './sampler.ts';
import type { SamplerConfig } from './sampler.ts';
import {
  NO_PARENT,
  formatTraceparent,
  parentIdOf,
  traceIdOf,
  traceparentFlags,
  validTracestate,
} from './trace-context.ts';

/** OTLP SpanKind values. */
export const SPAN_KIND = Object.freeze({ internal: 1, server: 2, client: 3 });
export type SpanKind = (typeof SPAN_KIND)[keyof typeof SPAN_KIND];

/** OTLP Status.code values. */
export const STATUS_CODE = Object.freeze({ unset: 0, ok: 1, error: 2 });

export type AttributeValue = string | number | boolean | readonly string[];

export class Span {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly kind: SpanKind;
  name: string;
  readonly startMs: number;
  endMs = 0;
  /** Flat pairs: key, value, key, value… (one array, no object per attribute). */
  readonly attributes: Array<string | AttributeValue> = [];
  statusCode: number = STATUS_CODE.unset;
  statusMessage = '';

  constructor(
    traceId: string,
    spanId: string,
    parentSpanId: string,
    traceState: string,
    kind: SpanKind,
    name: string,
    startMs: number,
  ) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.traceState = traceState;
    this.kind = kind;
    this.name = name;
    this.startMs = startMs;
  }

  /** Numbers that are safe integers are exported as OTLP ints, others as doubles (the dictionary's int vs double). */
  set(key: string, value: AttributeValue): this {
    this.attributes.push(key, value);
    return this;
  }

  /** Marks the span failed (OTLP status ERROR) and records `error.type`, as the HTTP conventions ask. */
  fail(errorType: string, message = ''): this {
    this.statusCode = STATUS_CODE.error;
    this.statusMessage = message;
    return this.set('error.type', errorType);
  }

  /** The `traceparent` to send to the next hop: this span as the parent, sampled. */
  traceparent(): string {
    return formatTraceparent(this.traceId, this.spanId, true);
  }
}

export interface SpanSink {
  /** Takes an ended span; returns false when it had to drop it (a full queue). */
  push(span: Span): boolean;
}

export interface TracerOptions {
  sampler: SamplerConfig;
  /** Epoch milliseconds with sub-millisecond precision. Default performance.timeOrigin + performance.now(). */
  now?: () => number;
  random?: () => number;
}

function hrNow(): number {
  return performance.timeOrigin + performance.now();
}

export class Tracer {
  readonly #sampler: Sampler;
  readonly #sink: SpanSink;
  readonly now: () => number;

  constructor(options: TracerOptions, sink: SpanSink) {
    this.#sampler = new Sampler(options.sampler, options.random);
    this.#sink = sink;
    this.now = options.now ?? hrNow;
  }

  /** True when no request can be sampled: the request path may skip tracing entirely. */
  get off(): boolean {
    return this.#sampler.off;
  }

  /**
   * The sampling decision for a request: reads `traceparent` in place, allocates nothing. `true` means: call
   * startServer() with the same header. `false`: forward the request's trace headers unchanged and trace nothing.
   */
  sampled(traceparent: string | undefined): boolean {
    return this.#sampler.decideHeader(traceparent);
  }

  /**
   * The gateway's server span for a sampled request, continuing the caller's trace when `traceparent` is valid
   * (keeping its `tracestate`), else starting one. Call only after sampled() said true.
   */
  startServer(traceparent: string | undefined, tracestate: string | undefined, name: string, startMs?: number): Span {
    const start = startMs ?? this.now();
    if (traceparent !== undefined && traceparentFlags(traceparent) !== NO_PARENT)
      return new Span(
        traceIdOf(traceparent),
        newSpanId(),
        parentIdOf(traceparent),
        validTracestate(tracestate),
        SPAN_KIND.server,
        name,
        start,
      );
    return new Span(newTraceId(), newSpanId(), '', '', SPAN_KIND.server, name, start);
  }

  /** A child span (an upstream attempt, a mirror: CLIENT; an operator phase: INTERNAL) of `parent`. */
  startChild(parent: Span, name: string, kind: SpanKind = SPAN_KIND.client, startMs?: number): Span {
    return new Span(parent.traceId, newSpanId(), parent.spanId, parent.traceState, kind, name, startMs ?? this.now());
  }

  /** A root span of the process's own work (the operator's reconcile pass), always recorded when not off. */
  startRoot(name: string, kind: SpanKind = SPAN_KIND.internal, startMs?: number): Span {
    return new Span(newTraceId(), newSpanId(), '', '', kind, name, startMs ?? this.now());
  }

  /** Ends `span` and hands it to the sink (the bounded queue). Returns false when the queue dropped it. */
  end(span: Span, endMs?: number): boolean {
    span.endMs = endMs ?? this.now();
    return this.#sink.push(span);
  }
}
