// The ceiling line of `npm run bench`: a bare HTTP/1.1 proxy on Node `net` sockets, both directions parsed by llhttp
// (`HTTPParser` from `node:_http_common`, the parser `node:http` uses, strict), with only the work any gateway must do
// per request: a Host lookup, request and response heads rebuilt without hop-by-hop headers, a shared keep-alive
// upstream pool, pipelined requests answered in order, backpressure both ways. No routing table, filters, metrics or
// logs: what Node itself allows, for Portico's engine to be compared with.
//
//   node bench/ceiling-proxy.ts --port 19004 --threads 2 --upstream 127.0.0.1:19000 [--route host=addr:port ...]
//
// Each thread listens on the port with SO_REUSEPORT (the kernel spreads connections), like Portico's shards.

import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { rebuild } from './ceiling-heads.ts';

interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [callback: number]: unknown;
}
interface ParserModule {
  HTTPParser: {
    new (): Parser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
  methods: string[];
}
const { HTTPParser, methods } = createRequire(import.meta.url)('node:_http_common') as ParserModule;
const MAX_HEADER_BYTES = 16 * 1024;
const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
const BAD_GATEWAY = Buffer.from('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
const NOT_FOUND = Buffer.from('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

export interface Target {
  host: string;
  port: number;
}

export interface CeilingOptions {
  port: number;
  host?: string;
  /** Hostname (lower case, no port) → upstream. */
  routes: Map<string, Target>;
  /** Upstream for any other host; none: 404. */
  fallback?: Target;
}

/** One request and its response, in the client connection's queue. */
class Exchange {
  /** Response bytes waiting for the exchanges before this one to finish. */
  held: Buffer[] = [];
  done = false;
  chunked = false;
  responded = false;
  upstream: Upstream | null = null;
  readonly client: ClientConnection;
  readonly method: string;
  readonly keepAlive: boolean;
  constructor(client: ClientConnection, method: string, keepAlive: boolean) {
    this.client = client;
    this.method = method;
    this.keepAlive = keepAlive;
  }

  send(data: Buffer | string): void {
    if (this.client.queue[0] !== this) this.held.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    else if (!this.client.socket.write(data) && this.upstream !== null) this.upstream.waitFor(this.client.socket);
  }

  finish(): void {
    this.done = true;
    this.upstream = null;
    this.client.flush();
  }
}

class Upstream {
  readonly socket: Socket;
  readonly parser = new HTTPParser();
  exchange: Exchange | null = null;
  private requestDone = false;
  private responseDone = false;
  private keepAlive = false;
  private closed = false;
  private status = 0;
  private readonly scratch = { contentLength: false, host: '' };

  readonly pool: Pool;

  constructor(pool: Pool, target: Target) {
    this.pool = pool;
    this.socket = connect({ host: target.host, port: target.port, noDelay: true });
    this.parser.initialize(HTTPParser.RESPONSE, {}, MAX_HEADER_BYTES, 0);
    let pending: string[] = [];
    this.parser[HTTPParser.kOnHeaders] = (h: string[]) => pending.push(...h);
    this.parser[HTTPParser.kOnHeadersComplete] = (
      _maj: number,
      minor: number,
      headers: string[] | undefined,
      _method: number,
      _url: string,
      status: number,
      message: string,
      _upgrade: boolean,
      keepAlive: boolean,
    ) => {
      const ex = this.exchange;
      if (ex === null) return 0;
      const all = headers ?? pending;
      pending = [];
      this.keepAlive = keepAlive;
      this.status = status;
      let head = rebuild(`HTTP/1.1 ${status} ${message}\r\n`, all, this.scratch);
      const bodiless = ex.method === 'HEAD' || status === 204 || status === 304 || status < 200;
      ex.chunked = !bodiless && !this.scratch.contentLength;
      if (ex.chunked) head += 'transfer-encoding: chunked\r\n';
      if (!ex.keepAlive && status >= 200) head += 'connection: close\r\n';
      else if (minor === 0 && status >= 200) head += 'connection: keep-alive\r\n';
      ex.responded = status >= 200;
      ex.send(`${head}\r\n`);
      return ex.method === 'HEAD' ? 1 : 0;
    };
    this.parser[HTTPParser.kOnBody] = (b: Buffer) => {
      const ex = this.exchange;
      if (ex === null) return;
      if (ex.chunked) ex.send(`${b.length.toString(16)}\r\n`);
      ex.send(b); // a view of the read chunk, which nothing reuses: no copy
      if (ex.chunked) ex.send('\r\n');
    };
    this.parser[HTTPParser.kOnMessageComplete] = () => {
      const ex = this.exchange;
      if (ex === null || this.status < 200) return;
      if (ex.chunked) ex.send(LAST_CHUNK);
      this.responseDone = true;
      ex.finish();
      this.exchange = null;
      this.release();
    };
    this.socket.on('data', (data: Buffer) => {
      const client = this.exchange?.client.socket;
      client?.cork();
      const result = this.parser.execute(data);
      client?.uncork();
      if (result instanceof Error) this.fail();
    });
    this.socket.on('end', () => {
      this.parser.finish();
      this.fail();
    });
    this.socket.on('error', () => this.fail());
    this.socket.on('close', () => this.fail());
  }

  start(ex: Exchange, head: string): void {
    this.exchange = ex;
    ex.upstream = this;
    this.requestDone = false;
    this.responseDone = false;
    this.socket.write(head, 'latin1');
  }

  requestFinished(): void {
    this.requestDone = true;
    this.release();
  }

  waitFor(client: Socket): void {
    if (this.socket.isPaused()) return;
    this.socket.pause();
    client.once('drain', () => this.socket.resume());
  }

  private release(): void {
    if (!this.requestDone || !this.responseDone || this.exchange !== null) return;
    if (this.keepAlive && !this.socket.destroyed) this.pool.idle.push(this);
    else this.socket.destroy();
  }

  private fail(): void {
    const ex = this.exchange;
    this.exchange = null;
    const i = this.pool.idle.indexOf(this);
    if (i >= 0) this.pool.idle.splice(i, 1);
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.parser.close();
    if (ex === null) return;
    if (ex.responded) ex.client.socket.destroy();
    else {
      ex.send(BAD_GATEWAY);
      ex.finish();
    }
  }
}

class Pool {
  idle: Upstream[] = [];
  readonly target: Target;
  constructor(target: Target) {
    this.target = target;
  }
  acquire(): Upstream {
    return this.idle.pop() ?? new Upstream(this, this.target);
  }
}

class ClientConnection {
  readonly parser = new HTTPParser();
  readonly queue: Exchange[] = [];
  private current: Exchange | null = null;
  private readonly scratch = { contentLength: false, host: '' };

  readonly socket: Socket;

  constructor(socket: Socket, pools: Map<string, Pool>, fallback: Pool | undefined) {
    this.socket = socket;
    this.parser.initialize(HTTPParser.REQUEST, {}, MAX_HEADER_BYTES, 0);
    let pending: string[] = [];
    let pendingUrl = '';
    this.parser[HTTPParser.kOnHeaders] = (h: string[], url: string) => {
      pending.push(...h);
      pendingUrl += url;
    };
    this.parser[HTTPParser.kOnHeadersComplete] = (
      _maj: number,
      _min: number,
      headers: string[] | undefined,
      method: number,
      url: string | undefined,
      _status: number,
      _message: string,
      _upgrade: boolean,
      keepAlive: boolean,
    ) => {
      const all = headers ?? pending;
      const target = url || pendingUrl;
      pending = [];
      pendingUrl = '';
      const name = methods[method];
      const ex = new Exchange(this, name, keepAlive);
      this.queue.push(ex);
      this.current = ex;
      let head = rebuild(`${name} ${target} HTTP/1.1\r\n`, all, this.scratch);
      let host = this.scratch.host.toLowerCase();
      const colon = host.lastIndexOf(':');
      if (colon > 0 && host[0] !== '[') host = host.slice(0, colon);
      const pool = pools.get(host) ?? fallback;
      if (pool === undefined) {
        ex.send(NOT_FOUND);
        ex.finish();
        return 0;
      }
      ex.chunked = !this.scratch.contentLength && this.chunkedRequest(all);
      if (ex.chunked) head += 'transfer-encoding: chunked\r\n';
      pool.acquire().start(ex, `${head}\r\n`);
      return 0;
    };
    this.parser[HTTPParser.kOnBody] = (b: Buffer) => {
      const upstream = this.current?.upstream;
      if (upstream === undefined || upstream === null) return;
      const chunked = this.current?.chunked;
      if (chunked) upstream.socket.write(`${b.length.toString(16)}\r\n`);
      upstream.socket.write(b);
      if (chunked) upstream.socket.write('\r\n');
      if (upstream.socket.writableNeedDrain && !this.socket.isPaused()) {
        this.socket.pause();
        upstream.socket.once('drain', () => this.socket.resume());
      }
    };
    this.parser[HTTPParser.kOnMessageComplete] = () => {
      const ex = this.current;
      this.current = null;
      if (ex === null) return;
      if (ex.chunked && ex.upstream !== null) ex.upstream.socket.write(LAST_CHUNK);
      ex.upstream?.requestFinished();
    };
    socket.on('data', (data: Buffer) => {
      const result = this.parser.execute(data);
      if (result instanceof Error) {
        socket.end(BAD_REQUEST);
        socket.removeAllListeners('data');
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      for (const ex of this.queue) ex.upstream?.socket.destroy();
      this.queue.length = 0;
      this.parser.close(); // frees llhttp's native state now rather than at a later garbage collection
    });
  }

  private chunkedRequest(headers: string[]): boolean {
    for (let i = 0; i < headers.length; i += 2)
      if (headers[i].toLowerCase() === 'transfer-encoding') return /chunked/i.test(headers[i + 1]);
    return false;
  }

  /** Writes out finished exchanges at the head of the queue, and what the next one holds. */
  flush(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      for (const b of head.held) this.socket.write(b);
      head.held.length = 0;
      if (!head.done) return;
      this.queue.shift();
      if (!head.keepAlive) {
        this.socket.end();
        return;
      }
    }
  }
}

export function startCeilingProxy(options: CeilingOptions): Promise<Server> {
  const pools = new Map<string, Pool>();
  const byTarget = new Map<string, Pool>();
  const poolFor = (t: Target) => {
    const key = `${t.host}:${t.port}`;
    let p = byTarget.get(key);
    if (p === undefined) byTarget.set(key, (p = new Pool(t)));
    return p;
  };
  for (const [host, target] of options.routes) pools.set(host.toLowerCase(), poolFor(target));
  const fallback = options.fallback === undefined ? undefined : poolFor(options.fallback);
  const server = createServer({ noDelay: true }, (socket) => new ClientConnection(socket, pools, fallback));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host ?? '127.0.0.1', reusePort: true, backlog: 4096 }, () =>
      resolve(server),
    );
  });
}

function target(spec: string): Target {
  const colon = spec.lastIndexOf(':');
  return { host: spec.slice(0, colon), port: Number(spec.slice(colon + 1)) };
}

const isScript = process.argv[1] !== undefined && import.meta.filename === process.argv[1];
if (!isMainThread && (workerData as { ceiling?: boolean })?.ceiling) {
  const { options } = workerData as { options: { port: number; upstream: string; routes: string[] } };
  await startCeilingProxy({
    port: options.port,
    fallback: target(options.upstream),
    routes: new Map(
      options.routes.map((r) => {
        const [host, t] = r.split('=');
        return [host, target(t)];
      }),
    ),
  });
} else if (isScript) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      threads: { type: 'string', default: '2' },
      upstream: { type: 'string' },
      route: { type: 'string', multiple: true, default: [] },
    },
  });
  const options = { port: Number(values.port), upstream: values.upstream ?? '', routes: values.route ?? [] };
  const workers = Array.from(
    { length: Number(values.threads) },
    () => new Worker(new URL(import.meta.url), { workerData: { ceiling: true, options } }),
  );
  for (const w of workers) w.on('error', (e) => console.error(e));
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      for (const w of workers) void w.terminate();
      process.exit(0);
    });
}
