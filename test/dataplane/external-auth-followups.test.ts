// External authorization, the follow-ups of issue 11 item 3, over real sockets through a real data plane, on both
// front ends (the HTTP/1.1 engine and HTTP/2 on Fastify):
//   - `timeouts.request` covers the authorizer: a slow authorizer past the rule's request timeout answers 504 and the
//     authorizer's call is cancelled (its connection closed before it answered); an authorizer's time is taken from
//     what the backend gets;
//   - the authorizer's own metrics (`portico_ext_authz_requests_total`, `portico_ext_authz_duration_seconds`) on the
//     data plane's /metrics, summed over the shards;
//   - HTTP and gRPC authorizers over TLS (BackendTLSPolicy on their backend): allowed, denied, and refused when the
//     certificate does not prove the policy's name or CA (fail closed);
//   - forwardBody with a RequestMirror: the mirror gets the body the authorizer read.
// The HTTP authorizers are the test's own (node:http, node:https), the gRPC ones test/support's (grpc-js, plaintext and
// TLS), all started here on port 0.

import * as grpc from '@grpc/grpc-js';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { ExternalAuth } from '../../shared/ir/auth.ts';
import type { HttpFilter } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startGrpcAuthorizer } from '../support/authorizers.ts';
import type { Authorizer } from '../support/authorizers.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';

const GOOD = { authorization: 'Bearer good' };

function auth(protocol: 'HTTP' | 'GRPC', backendKey: string, extra: Partial<ExternalAuth> = {}): ExternalAuth {
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

/** What the test's HTTP authorizer saw of one check: its path, and whether the gateway hung up before the answer. */
interface Check {
  path: string;
  body: string;
  cancelled: boolean;
  /** The TLS server name the gateway sent (undefined over plain HTTP). */
  sni: string | undefined;
}

/**
 * An HTTP authorizer: `Bearer good` allows (`x-auth-user: <who>`), anything else is denied 401; `?wait=<ms>` in the
 * client's query delays the answer. Records whether the gateway closed the connection before it was answered.
 */
function authorizerHandler(who: string, checks: Check[], timers: Set<NodeJS.Timeout>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const servername = (req.socket as { servername?: string | false }).servername;
      const check: Check = {
        path: url,
        body: Buffer.concat(chunks).toString(),
        cancelled: false,
        sni: typeof servername === 'string' ? servername : undefined,
      };
      checks.push(check);
      res.once('close', () => {
        if (!res.writableFinished) check.cancelled = true;
      });
      const answer = () => {
        if (res.destroyed) return;
        if (req.headers.authorization === 'Bearer good') res.writeHead(200, { 'x-auth-user': who }).end();
        else res.writeHead(401, { 'x-deny-reason': who }).end(`denied by ${who}\n`);
      };
      const wait = Number(new URL(url, 'http://x').searchParams.get('wait') ?? 0);
      if (wait === 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, wait);
      timers.add(timer);
    });
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The value of one series of the data plane's /metrics text (0 when absent). */
function seriesValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    const pairs = inside.split(',');
    if (wanted.every((pair) => pairs.includes(pair))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('data plane: external authorization follow-ups (timeout, metrics, TLS, mirrors)', () => {
  const address = testAddress();
  const port = 18945;
  /** A listener whose filter (the same HTTP authorizer) runs before matching. */
  const guardedPort = 18946;
  const timers = new Set<NodeJS.Timeout>();
  const checks: Check[] = [];
  const tlsChecks: Check[] = [];
  const ca = makeCa();
  const otherCa = makeCa('Someone Else');
  const leaf = makeLeaf(ca, ['authz.internal']);
  let h: Harness;
  let main: EchoServer;
  let mirror: EchoServer;
  let plainAuthz: Server;
  let tlsAuthz: Server;
  let grpcAuthz: Authorizer;
  let grpcTlsAuthz: Authorizer;

  before(async () => {
    h = await startHarness();
    main = await startEchoServer('main');
    mirror = await startEchoServer('mirror');
    plainAuthz = createHttpServer(authorizerHandler('plain-user', checks, timers));
    tlsAuthz = createHttpsServer({ cert: leaf.cert, key: leaf.key }, authorizerHandler('tls-user', tlsChecks, timers));
    const plainPort = await listen(plainAuthz);
    const tlsPort = await listen(tlsAuthz as unknown as Server);
    grpcAuthz = await startGrpcAuthorizer('grpc-user');
    grpcTlsAuthz = await startGrpcAuthorizer(
      'grpc-tls-user',
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: Buffer.from(leaf.cert), private_key: Buffer.from(leaf.key) },
      ]),
    );
    const listener = httpListener('ns/gw/http', port, { address });
    const guarded = httpListener('ns/gw/guarded', guardedPort, {
      address,
      externalAuth: [auth('HTTP', 'ns/authz:80')],
    });
    const httpAuth = auth('HTTP', 'ns/authz:80');
    const r = (path: string, filters: HttpFilter[], extra: Parameters<typeof rule>[2] = {}) =>
      rule([prefix(path)], ['ns/main:80'], { filters, ...extra });
    const timeout = { timeouts: { requestMs: 400 } };
    await h.publish({
      listeners: [listener, guarded],
      backends: [
        backend('ns/main:80', [['127.0.0.1', main.port]]),
        backend('ns/mirror:80', [['127.0.0.1', mirror.port]]),
        backend('ns/authz:80', [['127.0.0.1', plainPort]]),
        backend('ns/authz-grpc:9001/h2c', [['127.0.0.1', grpcAuthz.port]], { protocol: 'h2c' }),
        backend('ns/authz-tls:443', [['127.0.0.1', tlsPort]], {
          tls: { hostname: 'authz.internal', caCertificates: [ca.cert] },
        }),
        backend('ns/authz-tls-wrong-ca:443', [['127.0.0.1', tlsPort]], {
          tls: { hostname: 'authz.internal', caCertificates: [otherCa.cert] },
        }),
        backend('ns/authz-grpc-tls:9443/h2c', [['127.0.0.1', grpcTlsAuthz.port]], {
          protocol: 'h2c',
          tls: { hostname: 'authz.internal', caCertificates: [ca.cert] },
        }),
        backend('ns/authz-grpc-tls-wrong-name:9443/h2c', [['127.0.0.1', grpcTlsAuthz.port]], {
          protocol: 'h2c',
          tls: { hostname: 'other.internal', caCertificates: [ca.cert] },
        }),
      ],
      httpRoutes: [
        httpRoute(
          'httproute/ns/followups',
          [listener.key],
          [
            r('/timed', [filter(httpAuth)], timeout),
            r('/timed-grpc', [filter(auth('GRPC', 'ns/authz-grpc:9001/h2c'))], timeout),
            r('/untimed', [filter(httpAuth)]),
            r('/tls', [filter(auth('HTTP', 'ns/authz-tls:443'))]),
            r('/tls-wrong-ca', [filter(auth('HTTP', 'ns/authz-tls-wrong-ca:443'))]),
            r('/tls-grpc', [filter(auth('GRPC', 'ns/authz-grpc-tls:9443/h2c'))]),
            r('/tls-grpc-wrong-name', [filter(auth('GRPC', 'ns/authz-grpc-tls-wrong-name:9443/h2c'))]),
            r('/mirrored', [
              filter(auth('HTTP', 'ns/authz:80', { forwardBodyMaxBytes: 64 })),
              { type: 'RequestMirror', backendKey: 'ns/mirror:80', percent: 100 },
            ]),
          ],
        ),
        httpRoute('httproute/ns/behind-listener', [guarded.key], [rule([prefix('/')], ['ns/main:80'], timeout)]),
      ],
    });
  });

  after(async () => {
    for (const timer of timers) clearTimeout(timer);
    await h?.stop();
    await main?.close();
    await mirror?.close();
    await close(plainAuthz);
    await close(tlsAuthz as unknown as Server);
    await grpcAuthz?.close();
    await grpcTlsAuthz?.close();
  });

  const base = `http://${address}:${port}`;
  const backendSaw = (path: string, from: number) => main.received.slice(from).filter((r) => r.path === path);

  /** Waits until `check` is true (the authorizer's close is seen a little after the client's answer). */
  async function eventually(check: () => boolean): Promise<boolean> {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    return check();
  }

  for (const protocol of CLIENT_PROTOCOLS) {
    const get = getWith(protocol);

    describe(`timeouts.request covers the authorizer (${protocol})`, () => {
      it('answers 504 when the HTTP authorizer outlasts the request timeout, and cancels its call', async () => {
        const from = main.received.length;
        const before = checks.length;
        // The authorizer's own timeout (2 s) is longer than the request's (400 ms): 403 would mean it bounded the call.
        const res = await get(`${base}/timed/slow?wait=1500`, { headers: GOOD });
        expect(res.status).to.equal(504);
        expect(res.text).to.equal('request timed out\n');
        expect(backendSaw('/timed/slow', from)).to.have.length(0);
        expect(checks.slice(before)).to.have.length(1);
        expect(await eventually(() => checks[before].cancelled), 'the authorizer call was not cancelled').to.equal(
          true,
        );
      });

      it('answers 504 when a gRPC authorizer outlasts the request timeout', async () => {
        const from = main.received.length;
        // The test's gRPC authorizer answers "/slow" paths after 3 s; its filter's own timeout is 2 s (403).
        const res = await get(`${base}/timed-grpc/slow`, { headers: GOOD });
        expect(res.status).to.equal(504);
        expect(backendSaw('/timed-grpc/slow', from)).to.have.length(0);
      });

      it("takes the authorizer's time from the backend's: each alone fits the timeout, both do not", async () => {
        // 250 ms in the authorizer, then a backend that needs 250 ms: 500 ms > 400 ms.
        const res = await get(`${base}/timed/both?wait=250&delay=250`, { headers: GOOD });
        expect(res.status).to.equal(504);
        // The same backend delay alone fits.
        const fast = await get(`${base}/timed/both?delay=250`, { headers: GOOD });
        expect(fast.status).to.equal(200);
        expect(fast.echo?.headers['x-auth-user']).to.equal('plain-user');
      });

      it("takes a listener filter's time (run before matching) from the matched rule's timeout", async () => {
        const guardedBase = `http://${address}:${guardedPort}`;
        const res = await get(`${guardedBase}/l?wait=250&delay=250`, { headers: GOOD });
        expect(res.status).to.equal(504);
        const fast = await get(`${guardedBase}/l?delay=250`, { headers: GOOD });
        expect(fast.status).to.equal(200);
        expect(fast.echo?.headers['x-auth-user']).to.equal('plain-user');
      });

      it('leaves a rule without a request timeout to the filter timeout alone', async () => {
        const res = await get(`${base}/untimed/a?wait=500`, { headers: GOOD });
        expect(res.status).to.equal(200);
      });
    });

    describe(`an HTTP authorizer over TLS (BackendTLSPolicy) (${protocol})`, () => {
      it('allows and denies through a verified TLS connection, SNI the policy hostname', async () => {
        const before = tlsChecks.length;
        const allowed = await get(`${base}/tls/a`, { headers: GOOD });
        expect(allowed.status).to.equal(200);
        expect(allowed.echo?.headers['x-auth-user']).to.equal('tls-user');
        const denied = await get(`${base}/tls/b`);
        expect(denied.status).to.equal(401);
        expect(denied.text).to.equal('denied by tls-user\n');
        expect(tlsChecks.slice(before).map((c) => c.path)).to.deep.equal(['/tls/a', '/tls/b']);
        expect(tlsChecks.slice(before).map((c) => c.sni)).to.deep.equal(['authz.internal', 'authz.internal']);
      });

      it('fails closed (403) when the authorizer cannot prove its name against the policy CA', async () => {
        const from = main.received.length;
        const before = tlsChecks.length;
        const res = await get(`${base}/tls-wrong-ca/a`, { headers: GOOD });
        expect(res.status).to.equal(403);
        expect(tlsChecks.length).to.equal(before);
        expect(backendSaw('/tls-wrong-ca/a', from)).to.have.length(0);
      });
    });

    describe(`a gRPC authorizer over TLS (BackendTLSPolicy) (${protocol})`, () => {
      it('allows and denies through a TLS channel verified against the policy CA and hostname', async () => {
        const before = grpcTlsAuthz.seen.length;
        const allowed = await get(`${base}/tls-grpc/a`, { headers: GOOD });
        expect(allowed.status).to.equal(200);
        expect(allowed.echo?.headers['x-auth-user']).to.equal('grpc-tls-user');
        const denied = await get(`${base}/tls-grpc/b`);
        expect(denied.status).to.equal(451);
        expect(denied.text).to.equal('denied by grpc-tls-user\n');
        expect(grpcTlsAuthz.seen.slice(before).map((c) => c.path)).to.deep.equal(['/tls-grpc/a', '/tls-grpc/b']);
      });

      it('fails closed (403) when the certificate does not carry the policy hostname', async () => {
        const from = main.received.length;
        const before = grpcTlsAuthz.seen.length;
        const res = await get(`${base}/tls-grpc-wrong-name/a`, { headers: GOOD });
        expect(res.status).to.equal(403);
        expect(grpcTlsAuthz.seen.length).to.equal(before);
        expect(backendSaw('/tls-grpc-wrong-name/a', from)).to.have.length(0);
      });
    });

    describe(`forwardBody with a RequestMirror (${protocol})`, () => {
      it('sends the body the authorizer read to the backend and to the mirror', async () => {
        const before = checks.length;
        const fromMirror = mirror.received.length;
        const body = `mirrored body ${protocol}`;
        const res = await get(`${base}/mirrored`, { method: 'POST', headers: GOOD, body });
        expect(res.status).to.equal(200);
        expect(checks[before].body).to.equal(body);
        expect(res.echo?.body).to.equal(body);
        expect(await eventually(() => mirror.received.length > fromMirror)).to.equal(true);
        expect(mirror.received[fromMirror].body).to.equal(body);
      });
    });
  }

  describe('authorizer metrics', () => {
    it('counts calls by outcome and records their latency, summed over the shards', async () => {
      const get = getWith('HTTP/1.1');
      const metricsText = async () => (await fetch(`${h.adminUrl}/metrics`)).text();
      const labels = { listener: 'ns/gw/http', route: 'test/httproute/ns/followups', authorizer: 'ns/authz:80' };
      const start = await metricsText();
      const count = (text: string, outcome: string) =>
        seriesValue(text, 'portico_ext_authz_requests_total', { ...labels, outcome });
      const latencyCount = (text: string) =>
        seriesValue(text, 'portico_ext_authz_duration_seconds_count', { authorizer: 'ns/authz:80' });
      for (let i = 0; i < 3; i++) expect((await get(`${base}/untimed/m`, { headers: GOOD })).status).to.equal(200);
      expect((await get(`${base}/untimed/m`)).status).to.equal(401);
      expect((await get(`${base}/timed/m?wait=1500`, { headers: GOOD })).status).to.equal(504);
      const end = await metricsText();
      expect(count(end, 'allowed') - count(start, 'allowed')).to.equal(3);
      expect(count(end, 'denied') - count(start, 'denied')).to.equal(1);
      expect(count(end, 'error') - count(start, 'error')).to.equal(1);
      expect(latencyCount(end) - latencyCount(start)).to.equal(5);
      // The timed-out call took at least the 400 ms it was given: the histogram has it above the 0.25 s bucket.
      const over = (text: string) =>
        latencyCount(text) -
        seriesValue(text, 'portico_ext_authz_duration_seconds_bucket', { authorizer: 'ns/authz:80', le: '0.25' });
      expect(over(end) - over(start)).to.be.at.least(1);
    });
  });
});
