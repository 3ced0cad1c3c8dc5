// The HTTP/1.1 engine's own upstream connections: one pool per endpoint (address, port, TLS identity) and shard,
// keep-alive connections reused last-in first-out, responses parsed by llhttp (strict, as requests are). A
// connection serves one exchange at a time (no upstream pipelining: a stalled response would block the ones behind
// it). Its events go to the `UpstreamHandler` attached to it, an object with methods rather than a closure per
// request. Waiting exchanges queue when the pool is at its connection limit.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { HTTPParser, newParser, releaseParser } from '../h1/llhttp.ts';
import type { HeadersCompleteCallback, HttpParser, ParserError, RawHeaders } from '../h1/llhttp.ts';

export interface UpstreamHandler {
  /** A response head (1xx included); return 1 to tell the parser the response has no body (HEAD). */
  onUpstreamHead(status: number, headers: RawHeaders, keepAlive: boolean): number;
  onUpstreamBody(chunk: Buffer): void;
  onUpstreamTrailers(headers: RawHeaders): void;
  onUpstreamEnd(): void;
  /** The connection failed; `code` is a socket error code, or an llhttp one (HPE_…) for a malformed response. */
  onUpstreamError(code: string): void;
  onUpstreamDrain(): void;
  /** Around each read of the upstream: what it writes to the client in between goes out in one system call. */
  onUpstreamReadStart(): void;
  onUpstreamReadEnd(): void;
}

export interface PoolClient {
  onPoolConnection(connection: UpstreamConnection): void;
}

export interface H1PoolOptions {
  host: string;
  port: number;
  /** TLS to the backend (BackendTLSPolicy, client certificate); undefined for plain TCP. */
  tls: ConnectionOptions | undefined;
  maxConnections: number;
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

export class UpstreamConnection {
  readonly socket: Socket;
  readonly pool: H1Pool;
  readonly parser: HttpParser;
  handler: UpstreamHandler | null = null;
  /** Served an exchange before: a failure before any response byte may be a stale keep-alive connection. */
  reused = false;
  /** Bytes of the current response received. */
  received = 0;
  connected = false;
  /** The backend's `Keep-Alive: timeout=N` hint, less a margin, in ms (0: none): idle longer and it may close. */
  idleHintMs = 0;
  #trailers: RawHeaders = [];
  #inMessage = false;

  constructor(pool: H1Pool, socket: Socket, maxHeaderBytes: number) {
    this.pool = pool;
    this.socket = socket;
    this.parser = newParser(HTTPParser.RESPONSE, maxHeaderBytes);
    const parser = this.parser;
    parser[HTTPParser.kOnHeaders] = (headers: RawHeaders) => {
      for (let i = 0; i < headers.length; i++) this.#trailers.push(headers[i]);
    };
    parser[HTTPParser.kOnHeadersComplete] = ((_ma, _mi, headers, _m, _u, status, _sm, _up, keepAlive) => {
      this.#inMessage = status >= 200;
      const all = headers ?? this.#trailers;
      this.#trailers = [];
      this.idleHintMs = keepAliveHint(all);
      return this.handler === null ? 0 : this.handler.onUpstreamHead(status, all, keepAlive);
    }) as HeadersCompleteCallback;
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.handler?.onUpstreamBody(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (!this.#inMessage) return; // the end of a 1xx
      this.#inMessage = false;
      if (this.#trailers.length > 0) {
        this.handler?.onUpstreamTrailers(this.#trailers);
        this.#trailers = [];
      }
      this.handler?.onUpstreamEnd();
    };
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.handler?.onUpstreamDrain());
    socket.on('error', (error: NodeJS.ErrnoException) => this.#fail(error.code ?? 'ECONNRESET'));
    socket.on('end', () => this.#onEnd());
    socket.on('close', () => {
      releaseParser(this.parser);
      this.pool.forget(this);
      this.#fail('ECONNRESET');
    });
  }

  #onData(chunk: Buffer): void {
    const handler = this.handler;
    if (handler === null) return void this.socket.destroy(); // bytes nobody asked for: not reusable
    this.received += chunk.length;
    handler.onUpstreamReadStart();
    const result = this.parser.execute(chunk);
    handler.onUpstreamReadEnd();
    if (typeof result !== 'number') this.#fail((result as ParserError).code);
  }

  #onEnd(): void {
    // A response delimited by the end of the connection completes here; any other is cut short.
    if (this.handler !== null && this.#inMessage) {
      const result = this.parser.finish();
      if (result !== undefined) return this.#fail(result.code);
    }
    this.socket.destroy();
  }

  #fail(code: string): void {
    const handler = this.handler;
    this.handler = null;
    if (!this.socket.destroyed) this.socket.destroy();
    handler?.onUpstreamError(code);
  }

  /** Binds the connection to an exchange until `release` or `destroy`. */
  attach(handler: UpstreamHandler): void {
    this.handler = handler;
    this.received = 0;
    this.#inMessage = false;
    this.#trailers = [];
  }

  /** The exchange is over; the connection returns to its pool when `reusable`. */
  release(reusable: boolean): void {
    this.handler = null;
    if (reusable && !this.socket.destroyed) this.pool.give(this);
    else this.socket.destroy();
  }

  destroy(): void {
    this.handler = null;
    this.socket.destroy();
  }
}

/**
 * A backend that says `Keep-Alive: timeout=N` closes idle connections after N seconds; reusing one at that moment
 * fails the request (only an idempotent one without a body can be retried). The pool keeps such a connection idle
 * for at most N seconds less one, as undici does.
 */
function keepAliveHint(raw: RawHeaders): number {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'keep-alive') continue;
    const m = /timeout=(\d+)/i.exec(raw[i + 1]);
    if (m !== null) return Math.max(Number(m[1]) * 1000 - 1000, 1);
  }
  return 0;
}

function onConnected(this: Socket): void {
  this.setTimeout(0);
}

/** One 'timeout' listener per socket: before the connection is made it is the connect timeout, then the idle one. */
function onTimeout(this: Socket): void {
  if (this.connecting) this.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
  else this.destroy();
}

export class H1Pool {
  readonly #options: H1PoolOptions;
  readonly #idle: UpstreamConnection[] = [];
  readonly #waiting: PoolClient[] = [];
  #open = 0;
  #closed = false;

  constructor(options: H1PoolOptions) {
    this.#options = options;
  }

  /** Gives `client` a connection now (an idle one, or a new one still connecting) or when one is released. */
  acquire(client: PoolClient, fresh = false): void {
    while (!fresh && this.#idle.length > 0) {
      const connection = this.#idle.pop() as UpstreamConnection;
      if (connection.socket.destroyed) continue;
      connection.socket.setTimeout(0);
      connection.reused = true;
      return client.onPoolConnection(connection);
    }
    if (this.#open < this.#options.maxConnections || fresh) return client.onPoolConnection(this.#connect());
    this.#waiting.push(client);
  }

  /** Forgets a waiting client (its request ended before it got a connection). */
  cancel(client: PoolClient): void {
    const i = this.#waiting.indexOf(client);
    if (i !== -1) this.#waiting.splice(i, 1);
  }

  #connect(): UpstreamConnection {
    const o = this.#options;
    this.#open++;
    const socket =
      o.tls === undefined
        ? connect({ host: o.host, port: o.port, noDelay: true })
        : tlsConnect({ ...o.tls, host: o.host, port: o.port }).setNoDelay(true);
    socket.setTimeout(o.connectTimeoutMs, onTimeout);
    socket.once(o.tls === undefined ? 'connect' : 'secureConnect', onConnected);
    return new UpstreamConnection(this, socket, o.maxHeaderBytes);
  }

  /** A connection outside the pool (a WebSocket tunnel), with the pool's address and TLS settings. */
  connectRaw(): Socket {
    const o = this.#options;
    const socket =
      o.tls === undefined
        ? connect({ host: o.host, port: o.port, noDelay: true })
        : tlsConnect({ ...o.tls, host: o.host, port: o.port }).setNoDelay(true);
    socket.setTimeout(o.connectTimeoutMs, onTimeout);
    socket.once(o.tls === undefined ? 'connect' : 'secureConnect', onConnected);
    return socket;
  }

  give(connection: UpstreamConnection): void {
    if (this.#closed) return void connection.socket.destroy();
    const next = this.#waiting.shift();
    if (next !== undefined) {
      connection.reused = true;
      return next.onPoolConnection(connection);
    }
    const hint = connection.idleHintMs;
    const idle = this.#options.keepAliveTimeoutMs;
    connection.socket.setTimeout(hint > 0 && hint < idle ? hint : idle);
    this.#idle.push(connection);
  }

  /** A connection closed: it no longer counts, and a waiting client may get a new one. */
  forget(connection: UpstreamConnection): void {
    this.#open--;
    const i = this.#idle.indexOf(connection);
    if (i !== -1) this.#idle.splice(i, 1);
    if (!this.#closed && this.#waiting.length > 0 && this.#open < this.#options.maxConnections) {
      (this.#waiting.shift() as PoolClient).onPoolConnection(this.#connect());
    }
  }

  /** Closes idle connections now and busy ones when their exchange ends. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#idle.splice(0)) connection.socket.destroy();
  }
}
