// One client connection of the HTTP/1.1 engine: bytes in, llhttp, requests out to the routing core, responses back
// in the order the requests came (pipelining). One request is served at a time; the ones pipelined behind it wait,
// parsed, while the socket stops reading. A parse error answers 400/414/431 after the responses already owed and
// closes. The connection's timers are the engine server's sweep (no timer per request): a head that takes longer
// than the headers timeout gets 408, an idle keep-alive connection is closed.

import type { Socket } from 'node:net';
import { PROXY_ERRORS, proxyErrorForParser } from '../errors.ts';
import type { ProxyErrorCode } from '../errors.ts';
import type { SocketBinding } from '../http/binding.ts';
import { headersOf, hostCount, localResponse } from './head.ts';
import { HTTPParser, METHODS, newParser, releaseParser } from './llhttp.ts';
import type { HeadersCompleteCallback, HttpParser, ParserError, RawHeaders } from './llhttp.ts';
import type { Engine } from './engine.ts';
import { H1Request, PAUSE_BODY, PAUSE_PIPELINE } from './request.ts';
import { classifyCleartext } from '../shard/h2-limits.ts';
export type { H1Request, RequestSink } from './request.ts';

/** Bytes of a request body buffered before its upstream is ready; beyond this the client socket stops reading. */

export interface H2cHandoff {
  emit(event: 'connection', socket: Socket): boolean;
}

const BODY_BUFFER_LIMIT = 64 * 1024;

/** `Transfer-Encoding` naming exactly one coding, chunked (any case, optional whitespace), as a request may. */
function isChunkedOnly(te: string): boolean {
  return te.length === 7 ? te.toLowerCase() === 'chunked' : te.trim().toLowerCase() === 'chunked';
}

export class ClientConnection {
  readonly socket: Socket;
  readonly binding: SocketBinding;
  readonly engine: Engine;
  readonly parser: HttpParser;
  current: H1Request | null = null;
  readonly queue: H1Request[] = [];
  /** Close after the response in progress (draining, `Connection: close`, a client half-close, an error). */
  closing = false;
  /** performance.now() when the head in progress began (0: no head in progress). */
  headStart = 0;
  idleSince = 0;
  /** performance.now() when the engine ended its side of the connection (0: not ended). */
  endedAt = 0;
  /** Some bytes of the head in progress arrived (a timeout then answers 408 rather than closing silently). */
  headBytes = false;
  #paused = 0;
  #inMessage = false;
  /** The client half-closed: no request comes after the ones already received. */
  #peerEnded = false;
  #sawLineEnd = false;
  #failed: ProxyErrorCode | null = null;
  #rawHeaders: RawHeaders = [];
  #url = '';
  #parsing: H1Request | null = null;
  /** Plain listeners: where a connection that opens with the HTTP/2 preface goes (h2c with prior knowledge). */
  #h2c: H2cHandoff | null;
  #sniffed: Buffer | null = null;
  /** Set by an Upgrade request accepted as a tunnel: the rest of the bytes belong to the tunnel. */
  #upgraded: H1Request | null = null;
  /** A WebSocket upgrade waiting in the queue for its turn, and the tunnel bytes that came after its head. */
  #pendingUpgrade: H1Request | null = null;
  #tunnelBytes: Buffer[] = [];
  /** The socket listeners of the engine, removed by `detach`. */
  readonly #handlers = {
    data: (chunk: Buffer) => this.onData(chunk),
    drain: () => this.current?.sink?.onClientDrain(),
    end: () => this.#onEnd(),
    close: () => this.#onClose(),
  };

  constructor(engine: Engine, socket: Socket, binding: SocketBinding, h2c: H2cHandoff | null) {
    this.engine = engine;
    this.#h2c = h2c;
    this.socket = socket;
    this.binding = binding;
    this.headStart = performance.now();
    const parser = newParser(HTTPParser.REQUEST, engine.options.maxHeaderBytes);
    this.parser = parser;
    parser[HTTPParser.kOnHeaders] = (headers: RawHeaders, url: string) => {
      for (let i = 0; i < headers.length; i++) this.#rawHeaders.push(headers[i]);
      this.#url += url;
    };
    parser[HTTPParser.kOnHeadersComplete] = ((_ma, minor, headers, method, url, _s, _sm, upgrade, keepAlive) =>
      this.#onHead(minor, headers, method, url, upgrade, keepAlive)) as HeadersCompleteCallback;
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.#onBody(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => this.#onMessageComplete();
    socket.on('data', this.#handlers.data);
    socket.on('drain', this.#handlers.drain);
    socket.on('end', this.#handlers.end);
    socket.on('error', () => socket.destroy());
    socket.on('close', this.#handlers.close);
    engine.connections.add(this);
  }

  onData(data: Buffer): void {
    let chunk = data;
    if (this.#h2c !== null) {
      const head = this.#sniffed === null ? chunk : Buffer.concat([this.#sniffed, chunk]);
      // Decide as soon as the bytes seen complete the preface, start an HTTP/1.x request, or are neither: those are
      // closed unanswered, as an HTTP/2 server closes a connection with an invalid preface (h2spec 3.5).
      const verdict = classifyCleartext(head);
      if (verdict === 'more') {
        this.#sniffed = head;
        return;
      }
      if (verdict === 'close') return void this.socket.destroy();
      const isPreface = verdict === 'h2';
      const h2c = this.#h2c;
      this.#h2c = null;
      this.#sniffed = null;
      if (isPreface) {
        this.detach();
        this.socket.pause();
        this.socket.unshift(head);
        h2c.emit('connection', this.socket);
        return;
      }
      chunk = head;
    }
    if (this.#failed !== null) return;
    if (this.#pendingUpgrade !== null) return void this.#tunnelBytes.push(chunk);
    if (!this.#inMessage) {
      if (this.headStart === 0) this.headStart = performance.now();
      this.headBytes = true;
      if (!this.#sawLineEnd && chunk.indexOf(10) !== -1) this.#sawLineEnd = true;
    }
    let result = this.parser.execute(chunk);
    // llhttp stops after the head of any Upgrade request; one the engine does not tunnel (e.g. h2c) was served as a
    // plain request, and the bytes after it are parsed as the next request.
    while (typeof result === 'number' && result < chunk.length && this.#upgraded === null && this.#failed === null) {
      chunk = chunk.subarray(result);
      result = this.parser.execute(chunk);
    }
    if (typeof result !== 'number') return this.#fail((result as ParserError).code);
    const upgraded = this.#upgraded;
    if (upgraded !== null) {
      this.#upgraded = null;
      if (upgraded === this.#pendingUpgrade) this.#tunnelBytes.push(chunk.subarray(result));
      else this.engine.tunnel(upgraded, chunk.subarray(result));
    }
  }

  #onHead(
    minor: number,
    raw: RawHeaders | undefined,
    method: number,
    url: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    if (this.#failed !== null) return 1;
    // Heads longer than one read arrive in parts (kOnHeaders) and the last part here, as node:http reassembles them.
    const all = raw === undefined ? this.#rawHeaders : raw;
    const target = url === undefined || url === '' ? this.#url : url;
    this.#rawHeaders = [];
    this.#url = '';
    this.#inMessage = true;
    this.headStart = 0;
    this.headBytes = false;
    const headers = headersOf(all);
    // RFC 9112 §3.2: an HTTP/1.1 request without a Host, or with more than one, is refused.
    if (hostCount > 1) return this.#refuse('DUPLICATE_HOST');
    if (hostCount === 0 && minor === 1) return this.#refuse('BAD_REQUEST');
    // RFC 9112 §6.1: a transfer coding the server does not understand gets 501. The engine re-frames bodies itself and
    // decodes no coding but chunked, so any other (gzip, "chunked, chunked", …) is refused rather than relabelled.
    const te = headers['transfer-encoding'];
    if (te !== undefined && !isChunkedOnly(te as string)) return this.#refuse('TRANSFER_CODING_NOT_IMPLEMENTED');
    const request = new H1Request(this, METHODS[method], target, headers, minor, keepAlive, upgrade);
    this.#parsing = request;
    const websocket = upgrade && typeof headers.upgrade === 'string' && headers.upgrade.toLowerCase() === 'websocket';
    if (this.current === null) {
      this.current = request;
      if (websocket && request.bodyKind === 0) {
        this.#upgraded = request;
        return 0;
      }
      this.engine.serve(request);
    } else {
      this.queue.push(request);
      this.pause(PAUSE_PIPELINE);
      // A WebSocket upgrade pipelined behind other requests becomes a tunnel in its turn: the bytes after its head
      // are the tunnel's and are held, unparsed, until the responses before it are written.
      if (websocket && request.bodyKind === 0) {
        this.#upgraded = request;
        this.#pendingUpgrade = request;
      }
    }
    return 0;
  }

  /** A request refused before routing: answered in turn, then the connection closes (its framing is suspect). */
  #refuse(code: ProxyErrorCode): number {
    this.#failed = code;
    this.#parsing = null;
    this.pause(PAUSE_PIPELINE);
    if (this.current === null) this.#answerFailure();
    return 1;
  }

  #onBody(chunk: Buffer): void {
    const request = this.#parsing;
    if (request === null) return;
    request.bytesIn += chunk.length;
    if (request.sink !== null) return request.sink.onRequestBody(chunk);
    if (request.buffered === null) request.buffered = [];
    request.buffered.push(chunk);
    request.bufferedBytes += chunk.length;
    if (request.bufferedBytes > BODY_BUFFER_LIMIT) this.pause(PAUSE_BODY);
  }

  #onMessageComplete(): void {
    // Request trailers arrive through kOnHeaders too (a chunked body's last part): they go to the request, for the
    // exchange to forward after the body, and must not leak into the next head.
    const trailers = this.#rawHeaders;
    this.#rawHeaders = [];
    this.#url = '';
    this.#inMessage = false;
    this.#sawLineEnd = false;
    const request = this.#parsing;
    this.#parsing = null;
    if (request === null) return;
    if (trailers.length > 0 && request.bodyKind === 2) request.trailers = trailers;
    request.bodyDone = true;
    request.sink?.onRequestEnd();
    if (request.responded && request === this.current) this.#next();
  }

  #fail(code: string): void {
    if (this.#failed !== null) return;
    this.#failed = proxyErrorForParser(code, !this.#sawLineEnd);
    this.pause(PAUSE_PIPELINE);
    const current = this.current;
    if (current === null) return this.#answerFailure();
    if (current !== this.#parsing) {
      // A later pipelined request failed (its body, or the end of input in it): it is never served; the 400 comes
      // after the responses to the requests before it.
      const i = this.#parsing === null ? -1 : this.queue.indexOf(this.#parsing);
      if (i !== -1) this.queue.splice(i, 1);
      this.#parsing = null;
      return;
    }
    // The body of the request being served is malformed: it cannot be forwarded; answer now if nothing was sent.
    this.#parsing = null;
    current.sink?.onClientClose();
    if (current.responseStarted) return void this.socket.destroy();
    this.current = null;
    this.queue.length = 0;
    this.#answerFailure();
  }

  #answerFailure(): void {
    const error = PROXY_ERRORS[this.#failed as ProxyErrorCode];
    this.engine.countParserError(this.binding, error.status);
    if (!this.socket.destroyed) this.socket.write(localResponse(error.status, null, error.body, true, false));
    this.#end();
  }

  /** Ends our side; a client that keeps its side open (or keeps sending) is cut by the sweep after a grace time. */
  #end(): void {
    if (this.endedAt === 0) this.endedAt = performance.now();
    this.socket.end();
  }

  pause(reason: number): void {
    if (this.#paused === 0) this.socket.pause();
    this.#paused |= reason;
  }

  resume(reason: number): void {
    if (this.#paused === 0) return;
    this.#paused &= ~reason;
    if (this.#paused === 0 && this.#failed === null && !this.socket.destroyed) this.socket.resume();
  }

  /** Body bytes buffered for a request without a sink: resumes reading once the sink has drained them. */
  resumeBody(): void {
    this.resume(PAUSE_BODY);
  }

  pauseBody(): void {
    this.pause(PAUSE_BODY);
  }

  /**
   * Decides, as the response to `request` starts, whether the connection ends after it (the client asked with
   * `Connection: close` or HTTP/1.0 without keep-alive, the listener drains, or it was already decided): the
   * response then says `Connection: close`.
   */
  closesAfter(request: H1Request): boolean {
    if (!request.keepAlive || this.binding.draining) this.closing = true;
    return this.closing;
  }

  write(data: string | Buffer): boolean {
    return this.socket.write(data);
  }

  /** The response to `request` is complete on the wire. */
  finish(request: H1Request): void {
    request.responded = true;
    // `Connection: close` (or HTTP/1.0 without keep-alive): this was the last request of the connection.
    if (!request.keepAlive) this.closing = true;
    this.engine.logRequest(request, true);
    if (request !== this.current) return;
    // The next request starts once this one's body is read too (its bytes precede the next request's).
    if (request.bodyDone || this.closing || this.#failed !== null) this.#next();
  }

  #next(): void {
    this.current = null;
    // Bytes after the last request that llhttp refused (data after `Connection: close` included) get their 400
    // before the connection ends, as node:http answers them.
    if (this.closing && this.queue.length === 0 && this.#failed !== null) return this.#answerFailure();
    if (this.closing) return this.#end();
    if (this.#peerEnded && this.queue.length === 0 && this.#failed === null) return this.#end();
    const next = this.queue.shift();
    if (next !== undefined) {
      this.current = next;
      if (next === this.#pendingUpgrade) {
        // Its turn: the tunnel takes the socket and the bytes held since its head.
        this.#pendingUpgrade = null;
        const held = this.#tunnelBytes;
        this.#tunnelBytes = [];
        return this.engine.tunnel(next, held.length === 1 ? held[0] : Buffer.concat(held));
      }
      if (this.queue.length === 0) this.resume(PAUSE_PIPELINE);
      return this.engine.serve(next);
    }
    if (this.#failed !== null) return this.#answerFailure();
    this.idleSince = performance.now();
    this.resume(PAUSE_PIPELINE);
  }

  #onEnd(): void {
    // A client that half-closes gets the responses it is owed (pipelined ones included), then the connection ends;
    // a request it left unfinished is refused as node:http refuses it (llhttp's verdict on the end of input).
    this.#peerEnded = true;
    if (this.endedAt !== 0) return void this.socket.destroy();
    if (this.#sniffed !== null) {
      // The input ended inside what could have been the HTTP/2 preface: it is an HTTP/1.1 request after all.
      const bytes = this.#sniffed;
      this.#sniffed = null;
      this.#h2c = null;
      this.onData(bytes);
    }
    if (this.#failed === null) {
      const error = this.parser.finish();
      if (error !== undefined) return this.#fail(error.code);
    }
    if (this.current === null && this.queue.length === 0) this.#end();
  }

  #onClose(): void {
    this.engine.connections.delete(this);
    releaseParser(this.parser);
    const current = this.current;
    this.current = null;
    if (current !== null && !current.responded) {
      current.sink?.onClientClose();
      this.engine.logRequest(current, false);
    }
    for (const queued of this.queue.splice(0)) queued.sink?.onClientClose();
  }

  /** Takes the socket away from the engine (an upgrade became a tunnel). */
  detach(): void {
    this.engine.connections.delete(this);
    // Only the engine's own listeners: others on the socket (the shard's connection count) stay.
    this.socket.off('data', this.#handlers.data);
    this.socket.off('drain', this.#handlers.drain);
    this.socket.off('end', this.#handlers.end);
    this.socket.off('close', this.#handlers.close);
    releaseParser(this.parser);
    this.current = null;
  }

  /** Idle: between requests with nothing owed. */
  get idle(): boolean {
    return this.current === null && this.headStart === 0 && !this.#inMessage;
  }
}
