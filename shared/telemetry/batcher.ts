// The span queue and the batch exporter of one process or shard. Ended spans go into a bounded ring; when it is full
// the span is dropped and counted, never queued without bound (a slow or absent collector must not grow the heap of
// a data plane). A timer, or a full batch, takes up to `maxBatch` spans, encodes them (otlp.ts) and hands the bytes
// to `send` — one request in flight at a time; a failed batch is counted and dropped (no retry: the next batch is
// newer and the queue is what absorbs short outages).
// Must not: do I/O itself (`send` is given), keep a timer that holds the process open (it is unref'd).

import { encodeExportRequest } from './otlp.ts';
import type { ResourceInfo } from './otlp.ts';
import type { Span, SpanSink } from './span.ts';

export interface BatcherOptions {
  resource: ResourceInfo;
  /** Sends one encoded ExportTraceServiceRequest; rejects on failure. */
  send: (body: Uint8Array) => Promise<void>;
  /** Ring size; spans beyond it are dropped. Default 2048 (OpenTelemetry SDK's BatchSpanProcessor default). */
  maxQueue?: number;
  /** Spans per export request. Default 512. */
  maxBatch?: number;
  /** Export every so often even when the batch is not full. Default 1000 ms. */
  intervalMs?: number;
}

export interface BatcherStats {
  /** Spans accepted into the queue. */
  queued: number;
  /** Spans dropped because the queue was full. */
  dropped: number;
  /** Spans sent in batches the collector accepted. */
  exported: number;
  /** Spans in batches that failed to send. */
  failed: number;
  /** Export requests sent (accepted or not). */
  requests: number;
}

export class SpanBatcher implements SpanSink {
  readonly stats: BatcherStats = { queued: 0, dropped: 0, exported: 0, failed: 0, requests: 0 };
  readonly #options: Required<BatcherOptions>;
  readonly #ring: Array<Span | undefined>;
  #head = 0;
  #size = 0;
  #inFlight: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #lastError = '';

  constructor(options: BatcherOptions) {
    // `??` rather than a spread of defaults: an option passed as undefined (a config without it) keeps the default.
    this.#options = {
      ...options,
      maxQueue: options.maxQueue ?? 2048,
      maxBatch: options.maxBatch ?? 512,
      intervalMs: options.intervalMs ?? 1000,
    };
    this.#ring = new Array(this.#options.maxQueue).fill(undefined);
  }

  /** Spans waiting. */
  get depth(): number {
    return this.#size;
  }

  /** The last send error's message ('' after a success). */
  get lastError(): string {
    return this.#lastError;
  }

  start(): this {
    this.#timer ??= setInterval(() => void this.flush(), this.#options.intervalMs);
    this.#timer.unref();
    return this;
  }

  push(span: Span): boolean {
    const capacity = this.#ring.length;
    if (this.#size === capacity) {
      this.stats.dropped++;
      return false;
    }
    this.#ring[(this.#head + this.#size) % capacity] = span;
    this.#size++;
    this.stats.queued++;
    if (this.#size >= this.#options.maxBatch && this.#inFlight === null) void this.flush();
    return true;
  }

  /** Sends one batch if none is in flight; resolves when that batch is done (never rejects). */
  flush(): Promise<void> {
    if (this.#inFlight !== null) return this.#inFlight;
    if (this.#size === 0) return Promise.resolve();
    const batch = this.#take(this.#options.maxBatch);
    this.stats.requests++;
    this.#inFlight = this.#options
      .send(encodeExportRequest(this.#options.resource, batch))
      .then(
        () => {
          this.stats.exported += batch.length;
          this.#lastError = '';
        },
        (error: Error) => {
          this.stats.failed += batch.length;
          this.#lastError = error.message;
        },
      )
      .finally(() => {
        this.#inFlight = null;
      });
    return this.#inFlight;
  }

  /** Stops the timer and sends everything queued, batch after batch, for up to `timeoutMs`. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const deadline = Date.now() + timeoutMs;
    await this.#inFlight;
    while (this.#size > 0 && Date.now() < deadline) await this.flush();
  }

  #take(max: number): Span[] {
    const n = Math.min(max, this.#size);
    const batch = new Array<Span>(n);
    const capacity = this.#ring.length;
    for (let i = 0; i < n; i++) {
      const at = (this.#head + i) % capacity;
      batch[i] = this.#ring[at] as Span;
      this.#ring[at] = undefined;
    }
    this.#head = (this.#head + n) % capacity;
    this.#size -= n;
    return batch;
  }
}
