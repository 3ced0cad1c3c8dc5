// One parsed HTTP/1.1 request of a client connection, from its head to the end of its response: what the routing core
// and the exchange read (method, target, lower-case headers, framing), its body on its way to a sink, and the state
// the connection needs to answer in order and write the access log.

import type { Observation } from '../core/observe.ts';
import type { Routed } from '../core/route.ts';
import type { ClientConnection } from './connection.ts';
import type { RawHeaders } from './llhttp.ts';

/** Why a connection's socket is paused (a bit each): a body waiting for its sink, requests pipelined behind. */
export const PAUSE_BODY = 1;
export const PAUSE_PIPELINE = 2;

/** What a request's body and the client's socket events are handed to while it is being served. */
export interface RequestSink {
  onRequestBody(chunk: Buffer): void;
  onRequestEnd(): void;
  onClientDrain(): void;
  onClientClose(): void;
}

export class H1Request {
  readonly connection: ClientConnection;
  readonly method: string;
  readonly target: string;
  readonly headers: Record<string, string | string[]>;
  readonly versionMinor: number;
  readonly keepAlive: boolean;
  readonly upgrade: boolean;
  /** 0: no body, 1: Content-Length, 2: chunked. */
  readonly bodyKind: 0 | 1 | 2;
  readonly started = performance.now();
  sink: RequestSink | null = null;
  /** Body bytes that arrived before a sink took them. */
  buffered: Buffer[] | null = null;
  bufferedBytes = 0;
  bodyDone = false;
  /** The chunked body's trailer fields as received (llhttp's raw list), set before `onRequestEnd`; null: none. */
  trailers: RawHeaders | null = null;
  responded = false;
  status = 0;
  /** The response is being written (head sent): a failure now can only cut the connection. */
  responseStarted = false;
  listenerKey = '';
  routeName = '';
  /** Request id, trace and access-log fields (set when the request is served; null for a refused one). */
  obs: Observation | null = null;
  routed: Routed | null = null;
  /** Body bytes received and sent (the access log's sizes). */
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    connection: ClientConnection,
    method: string,
    target: string,
    headers: Record<string, string | string[]>,
    versionMinor: number,
    keepAlive: boolean,
    upgrade: boolean,
  ) {
    this.connection = connection;
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.versionMinor = versionMinor;
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    this.bodyKind = headers['transfer-encoding'] !== undefined ? 2 : headers['content-length'] !== undefined ? 1 : 0;
  }

  get hasBody(): boolean {
    return this.bodyKind === 2 || (this.bodyKind === 1 && this.headers['content-length'] !== '0');
  }

  /** Hands the body (what was buffered, then what comes) to `sink`. */
  setSink(sink: RequestSink): void {
    this.sink = sink;
    const buffered = this.buffered;
    if (buffered !== null) {
      this.buffered = null;
      this.bufferedBytes = 0;
      for (let i = 0; i < buffered.length; i++) sink.onRequestBody(buffered[i]);
      this.connection.resume(PAUSE_BODY);
    }
    if (this.bodyDone) sink.onRequestEnd();
  }
}
