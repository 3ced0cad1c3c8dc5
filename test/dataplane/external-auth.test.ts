// External authorization (GEP-1494 rule filters, GEP-5224 listener filters) over real sockets, through a real data
// plane, against a real HTTP authorizer (node:http) and a real Envoy ext_authz v3 gRPC server (grpc-js), for both
// front ends (the HTTP/1.1 engine and HTTP/2 on Fastify): allow with headers both ways, deny with the authorizer's
// status, headers and body, forwardBody, timeout and authorizer down (fail closed, the backend never sees the request),
// listener filters before route matching (a 404-bound request is authorized first), an unresolved listener authorizer.

import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ExternalAuth } from '../../shared/ir/auth.ts';
import type { HttpFilter } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { closedPort, startGrpcAuthorizer, startGrpcBackend, startHttpAuthorizer } from '../support/authorizers.ts';
import type { Authorizer } from '../support/authorizers.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';

const GOOD = { authorization: 'Bearer good' };

function auth(protocol: 'HTTP' | 'GRPC', backendKey: string | null, extra: Partial<ExternalAuth> = {}): ExternalAuth {
  return {
    protocol,
    backendKey,
    pathPrefix: '',
    allowedRequestHeaders: [],
    allowedResponseHeaders: [],
    forwardBodyMaxBytes: 0,
    timeoutMs: 2000,
    ...extra,
  };
}

const filter = (a: ExternalAuth): HttpFilter => ({ type: 'ExternalAuth', ...a, backendKey: a.backendKey as string });

describe('data plane: external authorization over real sockets', () => {
  const address = testAddress();
  const ports = { routes: 18931, listener: 18932, unresolved: 18933 };
  let h: Harness;
  let main: EchoServer;
  let httpAuthz: Authorizer;
  let grpcAuthz: Authorizer;
  let listenerAuthz: Authorizer;
  let grpcBackend: { server: grpc.Server; port: number };

  before(async () => {
    h = await startHarness();
    main = await startEchoServer('main');
    httpAuthz = await startHttpAuthorizer('http-user');
    grpcAuthz = await startGrpcAuthorizer('grpc-user');
    listenerAuthz = await startGrpcAuthorizer('listener-user');
    grpcBackend = await startGrpcBackend();
    const dead = await closedPort();
    const backends = [
      backend('ns/main:80', [['127.0.0.1', main.port]]),
      backend('ns/authz-http:80', [['127.0.0.1', httpAuthz.port]]),
      backend('ns/authz-grpc:9001/h2c', [['127.0.0.1', grpcAuthz.port]], { protocol: 'h2c' }),
      backend('ns/authz-listener:9001/h2c', [['127.0.0.1', listenerAuthz.port]], { protocol: 'h2c' }),
      backend('ns/authz-dead:80', [['127.0.0.1', dead]]),
      backend('ns/authz-dead-grpc:9001/h2c', [['127.0.0.1', dead]], { protocol: 'h2c' }),
      backend('ns/main-ws:80', [['127.0.0.1', main.port]], { protocol: 'ws' }),
      backend('ns/grpc-echo:50051/h2c', [['127.0.0.1', grpcBackend.port]], { protocol: 'h2c' }),
    ];
    const routesListener = httpListener('ns/gw/routes', ports.routes, { address });
    const guarded = httpListener('ns/gw/guarded', ports.listener, {
      address,
      externalAuth: [auth('GRPC', 'ns/authz-listener:9001/h2c')],
    });
    const unresolved = httpListener('ns/gw/unresolved', ports.unresolved, {
      address,
      externalAuth: [auth('GRPC', null)],
    });
    const httpAuth = auth('HTTP', 'ns/authz-http:80', {
      pathPrefix: '/authz',
      allowedRequestHeaders: ['x-tenant'],
      allowedResponseHeaders: ['x-auth-user'],
    });
    const r = (path: string, filters: HttpFilter[]) => rule([prefix(path)], ['ns/main:80'], { filters });
    await h.publish({
      listeners: [routesListener, guarded, unresolved],
      backends,
      httpRoutes: [
        httpRoute(
          'httproute/ns/authz',
          [routesListener.key],
          [
            r('/http', [filter(httpAuth)]),
            r('/all-headers', [filter(auth('HTTP', 'ns/authz-http:80'))]),
            r('/grpc', [filter(auth('GRPC', 'ns/authz-grpc:9001/h2c', { allowedRequestHeaders: ['authorization'] }))]),
            r('/slow-http', [filter(auth('HTTP', 'ns/authz-http:80', { timeoutMs: 300 }))]),
            r('/slow-grpc', [filter(auth('GRPC', 'ns/authz-grpc:9001/h2c', { timeoutMs: 300 }))]),
            r('/down-http', [filter(auth('HTTP', 'ns/authz-dead:80'))]),
            r('/down-grpc', [filter(auth('GRPC', 'ns/authz-dead-grpc:9001/h2c'))]),
            r('/body-http', [filter(auth('HTTP', 'ns/authz-http:80', { forwardBodyMaxBytes: 16 }))]),
            r('/body-grpc', [filter(auth('GRPC', 'ns/authz-grpc:9001/h2c', { forwardBodyMaxBytes: 16 }))]),
            r('/open', []),
          ],
        ),
        httpRoute(
          'httproute/ns/behind-listener',
          [guarded.key, unresolved.key],
          [r('/echo', []), rule([prefix('/ws')], ['ns/main-ws:80'])],
        ),
        httpRoute(
          'grpcroute/ns/who',
          [guarded.key],
          [
            rule(
              [{ path: { type: 'Exact', value: '/echo.v1.Echo/Who' }, headers: [], queryParams: [] }],
              ['ns/grpc-echo:50051/h2c'],
            ),
          ],
        ),
      ],
    });
  });

  after(async () => {
    await h?.stop();
    await main?.close();
    await httpAuthz?.close();
    await grpcAuthz?.close();
    await listenerAuthz?.close();
    grpcBackend?.server.forceShutdown();
  });

  /** Sends a WebSocket upgrade by hand (Node's WebSocket cannot set Authorization); resolves to the status line. */
  function upgrade(port: number, headers: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, address, () => {
        const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
        socket.write(
          `GET /ws HTTP/1.1\r\nHost: ${address}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra.join('')}\r\n`,
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        const end = text.indexOf('\r\n');
        if (end === -1) return;
        socket.destroy();
        resolve(text.slice(0, end));
      });
      socket.on('error', reject);
    });
  }

  /** Requests the backend got for `path` since `from`. */
  const backendSaw = (path: string, from: number) => main.received.slice(from).filter((r) => r.path === path);

  for (const protocol of CLIENT_PROTOCOLS) {
    const get = getWith(protocol);
    const base = `http://${address}:${ports.routes}`;

    describe(`route filter, HTTP authorizer (${protocol})`, () => {
      it('allows with a good token, sending the prefixed path, the always-sent and allowed headers only', async () => {
        const before = httpAuthz.seen.length;
        const res = await get(`${base}/http/a?x=1`, {
          headers: { ...GOOD, 'x-tenant': 't1', 'x-other': 'not for the authorizer' },
        });
        expect(res.status).to.equal(200);
        const seen = httpAuthz.seen.slice(before);
        expect(seen).to.have.length(1);
        expect(seen[0].path).to.equal('/authz/http/a?x=1');
        expect(seen[0].method).to.equal('GET');
        expect(seen[0].host).to.equal(`${address}:${ports.routes}`);
        expect(seen[0].headers.authorization).to.equal('Bearer good');
        expect(seen[0].headers['x-tenant']).to.equal('t1');
        // A GET without a body goes without Content-Length (RFC 9112 §6.3: zero length); see the POST case below.
        expect(seen[0].headers['content-length']).to.equal(undefined);
        expect(seen[0].headers['x-other']).to.equal(undefined);
        // Only the allowed response header reaches the backend.
        expect(res.echo?.headers['x-auth-user']).to.equal('http-user');
        expect(res.echo?.headers['x-auth-extra']).to.equal(undefined);
      });

      it('sends no body without forwardBody (Content-Length: 0), and the backend still gets the body', async () => {
        const before = httpAuthz.seen.length;
        const res = await get(`${base}/http/post`, { method: 'POST', headers: GOOD, body: 'not for the authorizer' });
        expect(res.status).to.equal(200);
        const seen = httpAuthz.seen.slice(before)[0];
        expect(seen.method).to.equal('POST');
        expect(seen.headers['content-length']).to.equal('0');
        expect(seen.body).to.equal('');
        expect(res.echo?.body).to.equal('not for the authorizer');
      });

      it('copies every authorizer header but the incidental ones when allowedResponseHeaders is empty', async () => {
        const res = await get(`${base}/all-headers`, { headers: GOOD });
        expect(res.status).to.equal(200);
        expect(res.echo?.headers['x-auth-user']).to.equal('http-user');
        expect(res.echo?.headers['x-auth-extra']).to.equal('extra');
        // The authorizer's own Content-Type (text/plain) is not the request's.
        expect(res.echo?.headers['content-type']).to.equal(undefined);
      });

      it("denies with the authorizer's status, headers and body; the backend never sees the request", async () => {
        const from = main.received.length;
        const res = await get(`${base}/http/secret`);
        expect(res.status).to.equal(401);
        expect(res.headers['www-authenticate']).to.equal('Bearer realm="portico-test"');
        expect(res.headers['x-deny-reason']).to.equal('http-user');
        expect(res.text).to.equal('denied by http-user\n');
        expect(backendSaw('/http/secret', from)).to.have.length(0);
      });

      it('forwards the body up to forwardBody.maxSize, and the backend still gets it whole', async () => {
        const before = httpAuthz.seen.length;
        const res = await get(`${base}/body-http`, { method: 'POST', headers: GOOD, body: 'small body' });
        expect(res.status).to.equal(200);
        expect(httpAuthz.seen.slice(before)[0].body).to.equal('small body');
        expect(httpAuthz.seen.slice(before)[0].headers['content-length']).to.equal('10');
        expect(res.echo?.body).to.equal('small body');
      });

      it('refuses a body over forwardBody.maxSize with 413, without asking the authorizer', async () => {
        const before = httpAuthz.seen.length;
        const from = main.received.length;
        const res = await get(`${base}/body-http`, { method: 'POST', headers: GOOD, body: 'x'.repeat(64) });
        expect(res.status).to.equal(413);
        expect(httpAuthz.seen.length).to.equal(before);
        expect(backendSaw('/body-http', from)).to.have.length(0);
      });

      it('fails closed (403) when the authorizer does not answer in time', async () => {
        const from = main.received.length;
        const res = await get(`${base}/slow-http`, { headers: GOOD });
        expect(res.status).to.equal(403);
        expect(res.text).to.equal('external authorization failed\n');
        expect(backendSaw('/slow-http', from)).to.have.length(0);
      });

      it('fails closed (403) when the authorizer is down', async () => {
        const from = main.received.length;
        const res = await get(`${base}/down-http`, { headers: GOOD });
        expect(res.status).to.equal(403);
        expect(backendSaw('/down-http', from)).to.have.length(0);
      });
    });

    describe(`route filter, gRPC ext_authz authorizer (${protocol})`, () => {
      it('allows with a good token, applying the OkHttpResponse headers; sends only the allowed headers', async () => {
        const before = grpcAuthz.seen.length;
        const res = await get(`${base}/grpc/x?q=2`, { headers: { ...GOOD, 'x-other': 'kept from the authorizer' } });
        expect(res.status).to.equal(200);
        expect(res.echo?.headers['x-auth-user']).to.equal('grpc-user');
        expect(res.echo?.headers['x-auth-extra']).to.equal('extra');
        const seen = grpcAuthz.seen.slice(before)[0];
        expect(seen.path).to.equal('/grpc/x?q=2');
        expect(seen.method).to.equal('GET');
        expect(seen.host).to.equal(`${address}:${ports.routes}`);
        expect(seen.headers.authorization).to.equal('Bearer good');
        expect(seen.headers['x-other']).to.equal(undefined);
      });

      it("denies with the DeniedHttpResponse's status, headers and body", async () => {
        const from = main.received.length;
        const res = await get(`${base}/grpc/secret`);
        expect(res.status).to.equal(451);
        expect(res.headers['x-deny-reason']).to.equal('grpc-user');
        expect(res.text).to.equal('denied by grpc-user\n');
        expect(backendSaw('/grpc/secret', from)).to.have.length(0);
      });

      it('sends the body as raw_body', async () => {
        const before = grpcAuthz.seen.length;
        const res = await get(`${base}/body-grpc`, { method: 'PUT', headers: GOOD, body: 'grpc body' });
        expect(res.status).to.equal(200);
        expect(grpcAuthz.seen.slice(before)[0].body).to.equal('grpc body');
        expect(res.echo?.body).to.equal('grpc body');
      });

      it('fails closed on the deadline and when the authorizer is down', async () => {
        const from = main.received.length;
        expect((await get(`${base}/slow-grpc`, { headers: GOOD })).status).to.equal(403);
        expect((await get(`${base}/down-grpc`, { headers: GOOD })).status).to.equal(403);
        expect(backendSaw('/slow-grpc', from)).to.have.length(0);
        expect(backendSaw('/down-grpc', from)).to.have.length(0);
      });

      it('leaves a rule without the filter alone', async () => {
        const before = grpcAuthz.seen.length + httpAuthz.seen.length;
        expect((await get(`${base}/open`)).status).to.equal(200);
        expect(grpcAuthz.seen.length + httpAuthz.seen.length).to.equal(before);
      });
    });

    describe(`invalid authorizer answers (${protocol})`, () => {
      it('refuses (403) an allowing gRPC answer whose header value carries CR LF; nothing reaches the backend', async () => {
        const from = main.received.length;
        const res = await get(`${base}/grpc/evil`, { headers: { authorization: 'Bearer evil' } });
        expect(res.status).to.equal(403);
        expect(backendSaw('/grpc/evil', from)).to.have.length(0);
      });
    });

    describe(`listener filter, before route matching (${protocol})`, () => {
      const guarded = `http://${address}:${ports.listener}`;

      it('authorizes before matching: a request no route matches is denied, not 404, when unauthorized', async () => {
        const before = listenerAuthz.seen.length;
        const res = await get(`${guarded}/no-such-route`);
        expect(res.status).to.equal(451);
        expect(res.text).to.equal('denied by listener-user\n');
        expect(listenerAuthz.seen.slice(before).map((s) => s.path)).to.deep.equal(['/no-such-route']);
      });

      it('gives an authorized request its 404 when no route matches', async () => {
        expect((await get(`${guarded}/no-such-route`, { headers: GOOD })).status).to.equal(404);
      });

      it('serves an authorized request, with the authorizer headers at the backend', async () => {
        const res = await get(`${guarded}/echo`, { headers: GOOD });
        expect(res.status).to.equal(200);
        expect(res.echo?.headers['x-auth-user']).to.equal('listener-user');
      });

      it('answers every request 500 on a listener whose authorizer does not resolve', async () => {
        const from = main.received.length;
        const res = await get(`http://${address}:${ports.unresolved}/echo`, { headers: GOOD });
        expect(res.status).to.equal(500);
        expect(res.text).to.equal('external authorization is not configured correctly\n');
        expect(backendSaw('/echo', from)).to.have.length(0);
      });
    });
  }

  describe('listener filter on a WebSocket upgrade', () => {
    it('authorizes a WebSocket upgrade (HTTP/1.1) before it becomes a tunnel', async () => {
      const from = main.received.length;
      expect(await upgrade(ports.listener, {})).to.equal('HTTP/1.1 451 Unavailable For Legal Reasons');
      expect(backendSaw('/ws', from)).to.have.length(0);
      expect(await upgrade(ports.listener, GOOD)).to.equal('HTTP/1.1 101 Switching Protocols');
      const seen = backendSaw('/ws', from);
      expect(seen).to.have.length(1);
      expect(seen[0].headers['x-auth-user']).to.equal('listener-user');
    });
  });

  describe('forwardBody with Expect: 100-continue (HTTP/1.1)', () => {
    it('asks the client for its body itself, so the authorizer sees it and the backend gets it', async () => {
      const before = httpAuthz.seen.length;
      const body = 'continued';
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(ports.routes, address, () => {
          socket.write(
            `POST /body-http HTTP/1.1\r\nHost: ${address}\r\nAuthorization: Bearer good\r\n` +
              `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
          );
        });
        let text = '';
        let sent = false;
        socket.on('data', (chunk) => {
          text += chunk.toString('latin1');
          if (!sent && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
            sent = true;
            socket.write(body);
          }
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(reply.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ')).to.equal(true);
      expect(httpAuthz.seen.slice(before)[0].body).to.equal(body);
      const json = reply.slice(reply.indexOf('{'), reply.lastIndexOf('}') + 1);
      expect(JSON.parse(json).body, reply).to.equal(body);
    });
  });

  describe('listener filter before a GRPCRoute (gRPC client, h2c)', () => {
    function who(metadata: grpc.Metadata): Promise<string> {
      const client = new grpc.Client(`${address}:${ports.listener}`, grpc.credentials.createInsecure());
      const identity = (b: Buffer) => b;
      return new Promise<string>((resolve, reject) => {
        client.makeUnaryRequest<Buffer, Buffer>(
          '/echo.v1.Echo/Who',
          identity,
          identity,
          Buffer.alloc(0),
          metadata,
          (e, r) => {
            client.close();
            if (e) reject(e);
            else resolve(String(r));
          },
        );
      });
    }

    it('refuses a call without credentials, and carries the authorizer headers to the gRPC backend as metadata', async () => {
      const error = await who(new grpc.Metadata()).catch((e: grpc.ServiceError) => e);
      // The denial is the authorizer's HTTP answer (451), which grpc-js reports as UNKNOWN with the status in the text.
      expect((error as grpc.ServiceError).code).to.equal(grpc.status.UNKNOWN);
      expect((error as grpc.ServiceError).message).to.contain('451');
      expect(listenerAuthz.seen.at(-1)?.path).to.equal('/echo.v1.Echo/Who');
      const metadata = new grpc.Metadata();
      metadata.set('authorization', 'Bearer good');
      expect(await who(metadata)).to.equal('listener-user');
    });
  });
});
