// Upstream behaviour over real sockets: weighted splits, endpoint spread, timeouts, retries, and the status codes of
// every failure (404 is in matching.test.ts).

import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { HttpRule } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';

/** Answers 503 to the first `failures` requests of each `?key=`, then 200. */
async function startFlaky(failures: number): Promise<{ server: Server; port: number; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const key = new URL(req.url ?? '/', 'http://x').searchParams.get('key') ?? '';
    const n = (hits.get(key) ?? 0) + 1;
    hits.set(key, n);
    res.writeHead(n <= failures ? 503 : 200, { 'content-type': 'text/plain' }).end(`attempt ${n}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

/** Holds the first request of each `?key=` for 5 s, answers the others at once with 200 `attempt <n>`. */
async function startSlowFirst(): Promise<{ server: Server; port: number; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const key = new URL(req.url ?? '/', 'http://x').searchParams.get('key') ?? '';
    const n = (hits.get(key) ?? 0) + 1;
    hits.set(key, n);
    const answer = () => {
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'text/plain' }).end(`attempt ${n}`);
    };
    if (n === 1) setTimeout(answer, 5000).unref();
    else answer();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

/** Sends its headers and a first chunk at once, then the rest of the body after 5 s. */
async function startSlowBody(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first chunk\n');
    setTimeout(() => res.destroyed || res.end('the rest\n'), 5000).unref();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Accepts connections and closes them without answering: a broken backend (502). */
async function startSlammer(): Promise<{ server: NetServer; port: number }> {
  const server = createNetServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port with nothing listening (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

for (const [run, protocol] of CLIENT_PROTOCOLS.entries()) {
  const get = getWith(protocol);
  describe(`data plane: upstreams over real sockets (${protocol})`, () => {
    const address = testAddress();
    const port = 18083 + 100 * run;
    const base = `http://${address}:${port}`;
    let h: Harness;
    let a: EchoServer;
    let b: EchoServer;
    let a2: EchoServer;
    let flaky: Awaited<ReturnType<typeof startFlaky>>;
    let slammer: Awaited<ReturnType<typeof startSlammer>>;
    let slowFirst: Awaited<ReturnType<typeof startSlowFirst>>;
    let slowBody: Awaited<ReturnType<typeof startSlowBody>>;

    before(async () => {
      h = await startHarness();
      a = await startEchoServer('a');
      a2 = await startEchoServer('a2');
      b = await startEchoServer('b');
      flaky = await startFlaky(2);
      slammer = await startSlammer();
      slowFirst = await startSlowFirst();
      slowBody = await startSlowBody();
      const dead = await deadPort();
      const l = httpListener('ns/gw/http', port, { address });
      const backends = [
        backend('ns/a:80', [
          ['127.0.0.1', a.port],
          ['127.0.0.1', a2.port],
        ]),
        backend('ns/b:80', [['127.0.0.1', b.port]]),
        backend('ns/flaky:80', [['127.0.0.1', flaky.port]]),
        backend('ns/slam:80', [['127.0.0.1', slammer.port]]),
        backend('ns/dead:80', [['127.0.0.1', dead]]),
        backend('ns/empty:80', []),
        backend('ns/slow-first:80', [['127.0.0.1', slowFirst.port]]),
        backend('ns/slow-body:80', [['127.0.0.1', slowBody.port]]),
        // One dead endpoint and one live one: a connection-error retry must move to the live one.
        backend('ns/half:80', [
          ['127.0.0.1', dead],
          ['127.0.0.1', b.port],
        ]),
      ];
      const r = (path: string, keys: string[], extra: Partial<HttpRule> = {}) => rule([prefix(path)], keys, extra);
      const routes = [
        httpRoute(
          'httproute/ns/up',
          [l.key],
          [
            r('/split', [], {
              backends: [
                { backendKey: 'ns/a:80', weight: 80, filters: [] },
                { backendKey: 'ns/b:80', weight: 20, filters: [] },
              ],
            }),
            r('/spread', ['ns/a:80']),
            r('/half-invalid', [], {
              backends: [
                { backendKey: 'ns/b:80', weight: 1, filters: [] },
                { backendKey: null, weight: 1, filters: [] },
              ],
            }),
            r('/all-invalid', [], { backends: [{ backendKey: null, weight: 1, filters: [] }] }),
            r('/direct', [], { backends: [], directResponse: { status: 500 } }),
            r('/request-timeout', ['ns/b:80'], { timeouts: { requestMs: 300 } }),
            r('/backend-timeout', ['ns/b:80'], { timeouts: { backendRequestMs: 300 } }),
            r('/retry', ['ns/flaky:80'], {
              retry: { attempts: 3, codes: [503], backoffMs: 10, onConnectionError: true, onBackendTimeout: true },
            }),
            r('/slow-body', ['ns/slow-body:80'], { timeouts: { backendRequestMs: 300 } }),
            r('/retry-timeout', ['ns/slow-first:80'], {
              timeouts: { backendRequestMs: 200 },
              retry: { attempts: 1, codes: [], backoffMs: 10, onConnectionError: false, onBackendTimeout: true },
            }),
            r('/no-retry-timeout', ['ns/slow-first:80'], {
              timeouts: { backendRequestMs: 200 },
              retry: { attempts: 1, codes: [504], backoffMs: 10, onConnectionError: true, onBackendTimeout: false },
            }),
            r('/no-retry', ['ns/flaky:80']),
            r('/retry-conn', ['ns/half:80'], {
              retry: { attempts: 2, codes: [], backoffMs: 1, onConnectionError: true, onBackendTimeout: false },
            }),
            r('/slam', ['ns/slam:80']),
            r('/dead', ['ns/dead:80']),
            r('/empty', ['ns/empty:80']),
          ],
        ),
      ];
      expect((await h.publish({ listeners: [l], backends, httpRoutes: routes })).outcome).to.equal('ack');
    });
    after(async () => {
      await h?.stop();
      await Promise.all([a, a2, b].map((e) => e?.close()));
      flaky?.server.close();
      slammer?.server.close();
      for (const slow of [slowFirst, slowBody]) {
        slow?.server.closeAllConnections();
        slow?.server.close();
      }
    });

    it('splits traffic by weight (80/20 over 1000 requests, ±6 points)', async () => {
      let toA = 0;
      for (let i = 0; i < 1000; i++) {
        const reply = await get(`${base}/split`, { headers: { host: 'x' } });
        if (reply.echo?.backend === 'a' || reply.echo?.backend === 'a2') toA++;
      }
      expect(toA / 1000).to.be.within(0.74, 0.86);
    });

    it('spreads requests over the endpoints of a backend', async () => {
      const seen = new Map<string, number>();
      for (let i = 0; i < 100; i++) {
        const backendName = (await get(`${base}/spread`, { headers: { host: 'x' } })).echo?.backend ?? '';
        seen.set(backendName, (seen.get(backendName) ?? 0) + 1);
      }
      expect(seen.get('a')).to.be.within(30, 70);
      expect(seen.get('a2')).to.be.within(30, 70);
    });

    it('answers 500 for the share of an invalid backend reference, and for a rule without a valid backend', async () => {
      const codes = new Map<number, number>();
      for (let i = 0; i < 200; i++) {
        const s = (await get(`${base}/half-invalid`, { headers: { host: 'x' } })).status;
        codes.set(s, (codes.get(s) ?? 0) + 1);
      }
      expect(codes.get(500)).to.be.within(60, 140);
      expect(codes.get(200)).to.be.within(60, 140);
      expect((await get(`${base}/all-invalid`, { headers: { host: 'x' } })).status).to.equal(500);
      expect((await get(`${base}/direct`, { headers: { host: 'x' } })).status).to.equal(500);
    });

    it('answers 504 when the request timeout or the backend timeout expires', async () => {
      expect((await get(`${base}/request-timeout?delay=1000`, { headers: { host: 'x' } })).status).to.equal(504);
      expect((await get(`${base}/backend-timeout?delay=1000`, { headers: { host: 'x' } })).status).to.equal(504);
      expect((await get(`${base}/request-timeout?delay=10`, { headers: { host: 'x' } })).status).to.equal(200);
    });

    it('cuts off a response whose body is still streaming when the backend timeout expires', async () => {
      // The timeout covers the attempt up to the last byte: the status and first chunk went out, so the client sees the
      // response end early instead of a complete one 5 s later.
      const outcome = await new Promise<{ status: number; body: string; complete: boolean }>((resolve, reject) => {
        const req = httpRequest({ host: address, port, path: '/slow-body', headers: { host: 'x' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('close', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(outcome.status).to.equal(200);
      expect(outcome.body).to.equal('first chunk\n');
      expect(outcome.complete).to.equal(false);
    });

    it('retries on the configured status codes up to the attempts', async () => {
      const reply = await get(`${base}/retry?key=r1`, { headers: { host: 'x' } });
      expect(reply.status).to.equal(200);
      expect(reply.text).to.equal('attempt 3');
      expect((await get(`${base}/no-retry?key=r2`, { headers: { host: 'x' } })).status).to.equal(503);
      expect(flaky.hits.get('r2')).to.equal(1);
    });

    it('retries an attempt that ran out its backend timeout, only when the rule says so', async () => {
      const retried = await get(`${base}/retry-timeout?key=t1`, { headers: { host: 'x' } });
      expect(retried.status).to.equal(200);
      expect(retried.text).to.equal('attempt 2');
      expect(slowFirst.hits.get('t1')).to.equal(2);
      // A 504 in `codes` is about responses: a timed-out attempt is not retried when onBackendTimeout is off.
      expect((await get(`${base}/no-retry-timeout?key=t2`, { headers: { host: 'x' } })).status).to.equal(504);
      expect(slowFirst.hits.get('t2')).to.equal(1);
    });

    it('retries a connection error on another endpoint', async () => {
      for (let i = 0; i < 10; i++) {
        const reply = await get(`${base}/retry-conn`, { headers: { host: 'x' } });
        expect(reply.status).to.equal(200);
        expect(reply.echo?.backend).to.equal('b');
      }
    });

    it('answers 502 when the backend breaks the connection, 503 when it refuses or has no endpoint', async () => {
      expect((await get(`${base}/slam`, { headers: { host: 'x' } })).status).to.equal(502);
      expect((await get(`${base}/dead`, { headers: { host: 'x' } })).status).to.equal(503);
      expect((await get(`${base}/empty`, { headers: { host: 'x' } })).status).to.equal(503);
    });
  });
}
