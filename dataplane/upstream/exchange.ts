// One upstream request/response, driven by undici's dispatch handler API instead of `pool.request()`: a response
// whose body is small and of known length (most API responses) is collected into a buffer and handed over whole,
// so the shard answers it with one write and creates no stream for it; other bodies stream with backpressure.
// Measured on the 2-core box: streams and their listeners were the largest JavaScript cost per request.

import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { armDeadline, backendTimeoutError, clearDeadline } from '../core/retry.ts';
import { DOWNSTREAM_RESET } from '../errors.ts';
import type { EndpointPool } from './registry.ts';

/** Bodies up to this size with a Content-Length are buffered (nginx's default proxy buffers are 8 × 4–8 KiB). */
export const BUFFER_LIMIT = 64 * 1024;

/** A complete response body. Has the two methods @fastify/reply-from may call on a body (`resume`, `destroy`). */
export class BufferedBody {
  readonly chunks: Buffer[];
  readonly length: number;
  /** Trailers the upstream sent after the body (gRPC's grpc-status), or null. */
  readonly trailers: Record<string, string | string[] | undefined> | null;
  constructor(chunks: Buffer[], length: number, trailers: BufferedBody['trailers']) {
    this.chunks = chunks;
    this.length = length;
    this.trailers = trailers;
  }
  buffer(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
  }
  resume(): void {}
  destroy(): void {}
}

export class StreamedBody extends Readable {
  controller: Dispatcher.DispatchController | null = null;
  ended = false;
  /** Set before the stream ends when the upstream sent trailers. */
  trailers: Record<string, string | string[] | undefined> | null = null;
  override _read(): void {
    this.controller?.resume();
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.ended) this.controller?.abort(error ?? new Error('response body abandoned'));
    callback(error);
  }
}

export interface ExchangeResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: BufferedBody | StreamedBody;
}

export type ExchangeCallback = (error: Error | null, response?: ExchangeResponse) => void;

function expire(exchange: Exchange): void {
  exchange.expire();
}

export class Exchange implements Dispatcher.DispatchHandler {
  readonly #callback: ExchangeCallback;
  readonly #head: boolean;
  /**
   * HTTP/2 upstreams: hold the response headers until the first body byte or the end, so that a response without a
   * body (gRPC's "trailers-only" error responses) is passed on as headers-only, which gRPC clients require.
   */
  readonly #holdHeaders: boolean;
  #controller: Dispatcher.DispatchController | null = null;
  #statusCode = 0;
  #headers: ExchangeResponse['headers'] = {};
  #chunks: Buffer[] | null = null;
  #length = 0;
  #stream: StreamedBody | null = null;
  #answered = false;
  #timeoutMs: number;
  #timer: NodeJS.Timeout | null = null;
  #expired = false;
  /** The response ended or failed: an abort now has nothing to stop (and must not touch a reused connection). */
  #settled = false;
  #aborted: Error | null = null;

  /**
   * `timeoutMs` (0: none) bounds the whole attempt, from dispatch to the last byte of the response, as Gateway API's
   * `timeouts.backendRequest` asks. It is a native timer: undici's own headers and body timeouts run on a coarse clock
   * (about half a second), which let a 300 ms timeout pass a 1 s response.
   */
  constructor(method: string, holdHeaders: boolean, callback: ExchangeCallback, timeoutMs = 0) {
    this.#head = method === 'HEAD';
    this.#holdHeaders = holdHeaders;
    this.#callback = callback;
    this.#timeoutMs = timeoutMs;
    this.#timer = armDeadline(timeoutMs, expire, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#expired) controller.abort(backendTimeoutError(this.#timeoutMs));
    else if (this.#aborted !== null) controller.abort(this.#aborted);
  }

  /** The attempt's time is up: abort it (now, or as soon as undici hands over its controller). */
  expire(): void {
    this.#timer = null;
    this.#expired = true;
    this.#controller?.abort(backendTimeoutError(this.#timeoutMs));
  }

  #clearTimer(): void {
    this.#timer = clearDeadline(this.#timer);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: informational, the final response follows
    this.#statusCode = statusCode;
    this.#headers = headers;
    const length = headers['content-length'];
    const small = typeof length === 'string' && Number(length) <= BUFFER_LIMIT;
    if (this.#head || statusCode === 204 || statusCode === 304 || small) {
      this.#chunks = [];
      return;
    }
    const stream = new StreamedBody();
    stream.controller = controller;
    this.#stream = stream;
    if (!this.#holdHeaders) this.#answer(null, { statusCode, headers, body: stream });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#stream !== null && !this.#answered)
      this.#answer(null, { statusCode: this.#statusCode, headers: this.#headers, body: this.#stream });
    if (this.#chunks !== null) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    } else if (this.#stream !== null && !this.#stream.push(chunk)) controller.pause();
  }

  onResponseEnd(
    _controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    this.#settled = true;
    this.#clearTimer();
    const sent = trailers !== undefined && trailers !== null && Object.keys(trailers).length > 0 ? trailers : null;
    if (this.#chunks !== null) {
      this.#answer(null, {
        statusCode: this.#statusCode,
        headers: this.#headers,
        body: new BufferedBody(this.#chunks, this.#length, sent),
      });
    } else if (this.#stream !== null && !this.#answered) {
      // Held headers and no body came: answer as a complete, empty response (headers-only on HTTP/2).
      this.#stream.ended = true;
      this.#answer(null, { statusCode: this.#statusCode, headers: this.#headers, body: new BufferedBody([], 0, sent) });
    } else if (this.#stream !== null) {
      this.#stream.trailers = sent;
      this.#stream.ended = true;
      this.#stream.push(null);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#settled = true;
    this.#clearTimer();
    if (!this.#answered) this.#answer(error);
    else this.#stream?.destroy(error);
  }

  /**
   * Aborts the exchange (the client went away, or the request timed out): undici resets the HTTP/2 stream, or closes
   * the HTTP/1.1 connection it was on (it cannot be reused mid-response). Before undici has handed over its
   * controller, the abort is kept and applied when it does; after the response is over, it does nothing.
   */
  abort(reason: Error): void {
    if (this.#settled) return;
    this.#clearTimer();
    if (this.#controller !== null) this.#controller.abort(reason);
    else this.#aborted = reason;
  }

  #answer(error: Error | null, response?: ExchangeResponse): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#callback(error, response);
  }
}

/**
 * The request an HTTP/2 front-end attempt belongs to, as the gateway dispatcher finds it: reply-from copies the
 * request's header object for every attempt (own symbol keys included; undici reads string keys only), so the
 * dispatcher can tell the request which exchange is in flight, and the request can cancel it when its client resets
 * the stream or its own deadline passes.
 */
export const kAttemptOwner: unique symbol = Symbol('portico.attemptOwner');

export interface AttemptOwner {
  /** The exchange in flight, or null. */
  upstream: Exchange | null;
  /** Set once the client is gone or the request is over: no attempt starts after it. */
  cancelled: boolean;
  /** The endpoint every attempt goes to (session persistence, GEP-1619); null or absent: the dispatcher picks. */
  pinned?: EndpointPool | null;
}

/** The error an attempt is aborted with when its client went away (never retried, never answered). */
export function downstreamResetError(): Error & { code: string } {
  return Object.assign(new Error('the client reset the request'), { code: DOWNSTREAM_RESET });
}
