// Real external authorizers for tests, started on loopback port 0:
//   - an HTTP authorizer (node:http), and
//   - an Envoy ext_authz v3 gRPC server (@grpc/grpc-js), with a protobuf codec of its own, written apart from the
//     data plane's (dataplane/auth/ext-authz-codec.ts) so that the two check each other.
// Both follow one policy, so a suite can run the same cases against either:
//   Authorization "Bearer good"            → allow, adding `x-auth-user: <who>` (and `x-auth-extra: extra`)
//   Authorization "Bearer evil" (gRPC)     → allow, with a header value carrying CR LF (an invalid answer)
//   path containing "/slow"                → answer after 3 s (longer than any timeout a test sets)
//   anything else                          → deny: 401 (HTTP) / 451 (gRPC), `x-deny-reason: <who>`, a body
// Every request they receive is recorded (method, path, headers, body). Also a gRPC backend (`startGrpcBackend`) that
// answers with the `x-auth-user` metadata it received.

import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';

export interface SeenCheck {
  method: string;
  path: string;
  host: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Authorizer {
  port: number;
  seen: SeenCheck[];
  close(): Promise<void>;
}

const SLOW_MS = 3000;

/** The HTTP authorizer. */
export async function startHttpAuthorizer(who = 'http-user', host = '127.0.0.1'): Promise<Authorizer> {
  const seen: SeenCheck[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      seen.push({
        method: req.method ?? '',
        path,
        host: req.headers.host ?? '',
        headers: req.headers as IncomingHttpHeaders,
        body: Buffer.concat(chunks).toString(),
      });
      const reply = () => {
        if (req.headers.authorization === 'Bearer good') {
          res.writeHead(200, { 'x-auth-user': who, 'x-auth-extra': 'extra', 'content-type': 'text/plain' }).end('ok');
          return;
        }
        res
          .writeHead(401, {
            'www-authenticate': 'Bearer realm="portico-test"',
            'x-deny-reason': who,
            'content-type': 'text/plain',
          })
          .end(`denied by ${who}\n`);
      };
      if (path.includes('/slow')) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          reply();
        }, SLOW_MS);
        timers.add(timer);
      } else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- the gRPC server's own protobuf codec ---

type Value = number | Buffer;

/** Every field of a message as number → values, in order (varints as numbers, length-delimited as bytes). */
function parse(buffer: Buffer): Map<number, Value[]> {
  const fields = new Map<number, Value[]>();
  let i = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 1;
    for (;;) {
      const b = buffer[i++];
      value += (b & 0x7f) * shift;
      shift *= 128;
      if (b < 0x80) return value;
    }
  };
  while (i < buffer.length) {
    const tag = varint();
    const kind = tag & 7;
    let value: Value;
    if (kind === 0) value = varint();
    else if (kind === 2) {
      const n = varint();
      value = buffer.subarray(i, i + n);
      i += n;
    } else throw new Error(`test codec: wire type ${kind}`);
    const list = fields.get(tag >>> 3) ?? [];
    list.push(value);
    fields.set(tag >>> 3, list);
  }
  return fields;
}

const one = (m: Map<number, Value[]>, n: number): Buffer => (m.get(n)?.[0] as Buffer | undefined) ?? Buffer.alloc(0);
const str = (m: Map<number, Value[]>, n: number): string => one(m, n).toString();

function tag(n: number, kind: number): number[] {
  const out: number[] = [];
  let v = (n << 3) | kind;
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function msg(n: number, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(tag(n, 2)), Buffer.from(varintBytes(b.length)), b]);
}

function num(n: number, v: number): Buffer {
  return Buffer.from([...tag(n, 0), ...varintBytes(v)]);
}

/** HeaderValueOption { header: HeaderValue { key, value } }. */
function headerOption(key: string, value: string): Buffer {
  return Buffer.concat([msg(1, Buffer.concat([msg(1, key), msg(2, value)]))]);
}

/** The gRPC ext_authz server (plaintext h2c, or TLS with `credentials`). */
export async function startGrpcAuthorizer(
  who = 'grpc-user',
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<Authorizer> {
  const seen: SeenCheck[] = [];
  const server = new grpc.Server();
  const timers = new Set<NodeJS.Timeout>();
  const identity = (b: Buffer) => b;
  server.register<Buffer, Buffer>(
    '/envoy.service.auth.v3.Authorization/Check',
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const attributes = parse(one(parse(call.request), 1));
      const http = parse(one(parse(one(attributes, 4)), 2));
      const headers: Record<string, string> = {};
      for (const entry of (http.get(3) ?? []) as Buffer[]) {
        const kv = parse(entry);
        headers[str(kv, 1)] = str(kv, 2);
      }
      const path = str(http, 4);
      seen.push({ method: str(http, 2), path, host: str(http, 5), headers, body: one(http, 12).toString() });
      const reply = () => {
        if (headers.authorization === 'Bearer evil') {
          // An allowing answer whose header value carries CR LF: a header injection the gateway must refuse.
          const ok = msg(2, headerOption('x-auth-user', `${who}\r\nx-injected: yes`));
          return callback(null, Buffer.concat([msg(1, Buffer.alloc(0)), msg(3, ok)]));
        }
        if (headers.authorization === 'Bearer good') {
          // status OK (code 0 is the default: an empty Status), ok_response with two headers.
          const ok = Buffer.concat([
            msg(2, headerOption('x-auth-user', who)),
            msg(2, headerOption('x-auth-extra', 'extra')),
          ]);
          return callback(null, Buffer.concat([msg(1, Buffer.alloc(0)), msg(3, ok)]));
        }
        const denied = Buffer.concat([
          msg(1, num(1, 451)),
          msg(2, headerOption('x-deny-reason', who)),
          msg(3, `denied by ${who}\n`),
        ]);
        callback(null, Buffer.concat([msg(1, num(1, 7)), msg(2, denied)]));
      };
      if (path.includes('/slow')) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          reply();
        }, SLOW_MS);
        timers.add(timer);
      } else reply();
    },
    identity,
    identity,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, p) => (error ? reject(error) : resolve(p))),
  );
  return {
    port,
    seen,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.forceShutdown();
    },
  };
}

/** A loopback port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A gRPC backend whose one method answers with the `x-auth-user` metadata it received. */
export async function startGrpcBackend(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const identity = (b: Buffer) => b;
  server.register<Buffer, Buffer>(
    '/echo.v1.Echo/Who',
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.from(String(call.metadata.get('x-auth-user')[0] ?? 'nobody'))),
    identity,
    identity,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { server, port };
}
