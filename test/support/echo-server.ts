// A real HTTP backend for tests and the demo: it answers with a JSON description of the request it received
// (backend name, method, path, query, headers), so a test can see exactly what the gateway forwarded.
// Behaviour can be asked for per request:
//   /status/<code>          answer with that status
//   ?delay=<ms>             wait before answering
//   x-echo-set-header: a:b  add response header a: b
// WebSocket upgrades on any path are accepted and echo each text frame back (see websocket.ts).

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { acceptWebSocket } from './websocket.ts';

export interface EchoServer {
  name: string;
  address: string;
  port: number;
  /** Requests received, in order (for mirror and retry assertions). */
  received: Array<{
    method: string;
    path: string;
    headers: IncomingMessage['headers'];
    body?: string;
    /** Trailer fields after a chunked body (lower-case names). */
    trailers?: IncomingMessage['trailers'];
  }>;
  server: Server;
  close(): Promise<void>;
}

export interface EchoReply {
  backend: string;
  method: string;
  path: string;
  query: string;
  host: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

function answer(name: string, req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const params = new URLSearchParams(query);
  const status = /^\/status\/(\d{3})$/.exec(path);
  const reply: EchoReply = {
    backend: name,
    method: req.method ?? '',
    path,
    query,
    host: req.headers.host,
    headers: req.headers,
    body,
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const set = req.headers['x-echo-set-header'];
  if (typeof set === 'string') {
    for (const pair of set.split(',')) {
      const colon = pair.indexOf(':');
      if (colon > 0) headers[pair.slice(0, colon).trim().toLowerCase()] = pair.slice(colon + 1).trim();
    }
  }
  const send = () => {
    if (res.destroyed) return;
    res.writeHead(status ? Number(status[1]) : 200, headers).end(JSON.stringify(reply));
  };
  const delay = Number(params.get('delay') ?? 0);
  if (delay > 0) setTimeout(send, delay);
  else send();
}

export async function startEchoServer(name: string, address = '127.0.0.1', port = 0): Promise<EchoServer> {
  const received: EchoServer['received'] = [];
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const seen: EchoServer['received'][number] = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.body = Buffer.concat(chunks).toString('utf8');
      seen.trailers = req.trailers;
      received.push(seen);
      answer(name, req, res, seen.body);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    acceptWebSocket(name, req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    name,
    address,
    port: bound.port,
    received,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
