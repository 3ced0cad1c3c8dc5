// Every filter of the IR over real sockets: header modifiers on requests and responses (rule and backend level),
// redirects, URL rewrites, request mirrors, CORS.

import { expect } from 'chai';
import type { HttpFilter, HttpRule } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';

const headerMod = (
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier',
  set: Record<string, string>,
  add: Record<string, string>,
  remove: string[],
): HttpFilter => ({
  type,
  set: Object.entries(set).map(([name, value]) => ({ name, value })),
  add: Object.entries(add).map(([name, value]) => ({ name, value })),
  remove,
});

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const [run, protocol] of CLIENT_PROTOCOLS.entries()) {
  const get = getWith(protocol);
  describe(`data plane: filters over real sockets (${protocol})`, () => {
    const address = testAddress();
    const port = 18082 + 100 * run;
    const base = `http://${address}:${port}`;
    let h: Harness;
    let main: EchoServer;
    let mirrorA: EchoServer;
    let mirrorB: EchoServer;

    before(async () => {
      h = await startHarness();
      main = await startEchoServer('main');
      mirrorA = await startEchoServer('mirror-a');
      mirrorB = await startEchoServer('mirror-b');
      const l = httpListener('ns/gw/http', port, { address });
      const backends = [main, mirrorA, mirrorB].map((e) => backend(`ns/${e.name}:80`, [['127.0.0.1', e.port]]));
      const r = (path: string, filters: HttpFilter[], extra: Partial<HttpRule> = {}) =>
        rule([prefix(path)], ['ns/main:80'], { filters, ...extra });
      const redirect = (path: string, f: Omit<Extract<HttpFilter, { type: 'RequestRedirect' }>, 'type'>) =>
        rule([prefix(path)], [], { filters: [{ type: 'RequestRedirect', ...f }] });
      const routes = [
        httpRoute(
          'httproute/ns/filters',
          [l.key],
          [
            r('/reqhdr', [
              headerMod('RequestHeaderModifier', { 'X-Set': 'set-value' }, { 'X-Add': 'added' }, ['x-remove']),
            ]),
            r('/resphdr', [
              headerMod('ResponseHeaderModifier', { 'X-Resp-Set': 'one' }, { 'X-Resp-Add': 'two' }, ['x-resp-remove']),
            ]),
            redirect('/redir/scheme', { scheme: 'https', statusCode: 301 }),
            redirect('/redir/host', { hostname: 'elsewhere.example.com', statusCode: 302 }),
            redirect('/redir/port', { port: 8443, statusCode: 303 }),
            redirect('/redir/full', { path: { type: 'ReplaceFullPath', value: '/new' }, statusCode: 307 }),
            redirect('/redir/prefix', { path: { type: 'ReplacePrefixMatch', value: '/moved' }, statusCode: 308 }),
            r('/rewrite/host', [{ type: 'URLRewrite', hostname: 'internal.example.com' }]),
            r('/rewrite/full', [{ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/replaced' } }]),
            r('/rewrite/prefix', [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/v2' } }]),
            r('/mirror', [
              { type: 'RequestMirror', backendKey: 'ns/mirror-a:80', percent: 100 },
              { type: 'RequestMirror', backendKey: 'ns/mirror-b:80', percent: 100 },
            ]),
            r('/halfmirror', [{ type: 'RequestMirror', backendKey: 'ns/mirror-a:80', percent: 50 }]),
            r('/cors', [
              {
                type: 'CORS',
                allowOrigins: ['https://app.example.com', 'https://*.trusted.org'],
                allowMethods: ['GET', 'POST'],
                allowHeaders: ['x-token'],
                exposeHeaders: ['x-trace'],
                maxAgeSeconds: 600,
                allowCredentials: true,
              },
            ]),
            r('/wildcors', [
              {
                type: 'CORS',
                allowOrigins: ['*'],
                allowMethods: ['*'],
                allowHeaders: ['*'],
                exposeHeaders: [],
                allowCredentials: true,
              },
            ]),
            // URLRewrite on a backendRef (HTTPRouteBackendURLRewrite) wins over the rule's for that backend.
            rule([prefix('/backendrewrite')], [], {
              filters: [{ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/from-rule' } }],
              backends: [
                {
                  backendKey: 'ns/main:80',
                  weight: 1,
                  filters: [
                    {
                      type: 'URLRewrite',
                      hostname: 'backend.example.com',
                      path: { type: 'ReplacePrefixMatch', value: '/from-backend' },
                    },
                  ],
                },
              ],
            }),
            rule([prefix('/backendfilter')], [], {
              backends: [
                {
                  backendKey: 'ns/main:80',
                  weight: 1,
                  filters: [headerMod('RequestHeaderModifier', { 'X-Backend': 'main' }, {}, [])],
                },
              ],
            }),
          ],
        ),
      ];
      expect((await h.publish({ listeners: [l], backends, httpRoutes: routes })).outcome).to.equal('ack');
    });
    after(async () => {
      await h?.stop();
      await Promise.all([main, mirrorA, mirrorB].map((e) => e?.close()));
    });

    it('modifies request headers: remove, set (overwriting), add (appending)', async () => {
      const reply = await get(`${base}/reqhdr`, {
        headers: { host: 'a.test', 'x-remove': 'bye', 'x-set': 'client', 'x-add': 'first' },
      });
      expect(reply.echo?.headers['x-remove']).to.equal(undefined);
      expect(reply.echo?.headers['x-set']).to.equal('set-value');
      expect(reply.echo?.headers['x-add']).to.equal('first,added');
    });

    it('modifies response headers', async () => {
      const reply = await get(`${base}/resphdr`, {
        headers: { host: 'a.test', 'x-echo-set-header': 'x-resp-remove:gone,x-resp-add:from-backend' },
      });
      expect(reply.headers['x-resp-set']).to.equal('one');
      expect(reply.headers['x-resp-add']).to.equal('from-backend,two');
      expect(reply.headers['x-resp-remove']).to.equal(undefined);
    });

    it('applies backend-level filters', async () => {
      expect((await get(`${base}/backendfilter`, { headers: { host: 'a.test' } })).echo?.headers['x-backend']).to.equal(
        'main',
      );
    });

    it('applies a backend-level URLRewrite instead of the rule’s', async () => {
      const reply = await get(`${base}/backendrewrite/items/7?q=1`, { headers: { host: 'a.test' } });
      expect(reply.echo).to.include({ host: 'backend.example.com', path: '/from-backend/items/7', query: 'q=1' });
    });

    it('sets X-Forwarded-For (appending), X-Forwarded-Proto and X-Forwarded-Host, and keeps Host', async () => {
      const reply = await get(`${base}/reqhdr`, {
        headers: { host: 'shop.test', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' },
      });
      expect(reply.echo?.headers['x-forwarded-for']).to.equal('203.0.113.9, 127.0.0.1');
      expect(reply.echo?.headers['x-forwarded-proto']).to.equal('http');
      expect(reply.echo?.headers['x-forwarded-host']).to.equal('shop.test');
      expect(reply.echo?.host).to.equal('shop.test');
    });

    const redirects: Array<[string, number, string]> = [
      ['/redir/scheme/x?q=1', 301, 'https://a.test/redir/scheme/x?q=1'],
      ['/redir/host', 302, `http://elsewhere.example.com:${port}/redir/host`],
      ['/redir/port', 303, 'http://a.test:8443/redir/port'],
      ['/redir/full/deep', 307, `http://a.test:${port}/new`],
      ['/redir/prefix/deep/er', 308, `http://a.test:${port}/moved/deep/er`],
    ];
    for (const [path, status, location] of redirects) {
      it(`redirects ${path} with ${status}`, async () => {
        const reply = await get(base + path, { headers: { host: 'a.test' } });
        expect(reply.status).to.equal(status);
        expect(reply.headers.location).to.equal(location);
      });
    }

    it('rewrites the Host header, the full path, and a path prefix', async () => {
      const host = await get(`${base}/rewrite/host/x`, { headers: { host: 'a.test' } });
      expect(host.echo?.host).to.equal('internal.example.com');
      expect(host.echo?.path).to.equal('/rewrite/host/x');
      expect((await get(`${base}/rewrite/full/x?y=1`, { headers: { host: 'a.test' } })).echo).to.include({
        path: '/replaced',
        query: 'y=1',
      });
      expect((await get(`${base}/rewrite/prefix/items/7`, { headers: { host: 'a.test' } })).echo?.path).to.equal(
        '/v2/items/7',
      );
      expect((await get(`${base}/rewrite/prefix`, { headers: { host: 'a.test' } })).echo?.path).to.equal('/v2');
    });

    it('mirrors to several backends while the main response comes from the main backend', async () => {
      const before = [mirrorA.received.length, mirrorB.received.length];
      const reply = await get(`${base}/mirror/m1`, { headers: { host: 'a.test' } });
      expect(reply.echo?.backend).to.equal('main');
      await until(() => mirrorA.received.length > before[0] && mirrorB.received.length > before[1]);
      expect(mirrorA.received.at(-1)?.path).to.equal('/mirror/m1');
      expect(mirrorB.received.at(-1)?.path).to.equal('/mirror/m1');
    });

    it('mirrors a request body to every mirror, the main backend getting it whole too', async () => {
      const payload = 'x'.repeat(200_000);
      const before = [mirrorA.received.length, mirrorB.received.length];
      const reply = await get(`${base}/mirror/upload`, {
        method: 'POST',
        headers: { host: 'a.test', 'content-type': 'text/plain' },
        body: payload,
      });
      expect(reply.echo?.backend).to.equal('main');
      expect(reply.echo?.body.length).to.equal(payload.length);
      await until(() => mirrorA.received.length > before[0] && mirrorB.received.length > before[1]);
      for (const mirror of [mirrorA, mirrorB]) {
        const seen = mirror.received.at(-1)!;
        expect(seen.method).to.equal('POST');
        expect(seen.body).to.equal(payload);
      }
    });

    it('mirrors a percentage of requests (50% of 400, within a wide tolerance)', async () => {
      const before = mirrorA.received.length;
      for (let i = 0; i < 400; i++) await get(`${base}/halfmirror`, { headers: { host: 'a.test' } });
      await new Promise((r) => setTimeout(r, 300));
      const mirrored = mirrorA.received.length - before;
      expect(mirrored).to.be.within(140, 260);
    });

    it('answers a CORS preflight for an allowed origin at the gateway', async () => {
      const reply = await get(`${base}/cors`, {
        method: 'OPTIONS',
        headers: {
          host: 'a.test',
          origin: 'https://x.trusted.org',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-token',
        },
      });
      expect(reply.status).to.equal(204);
      expect(reply.headers).to.include({
        'access-control-allow-origin': 'https://x.trusted.org',
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'x-token',
        'access-control-expose-headers': 'x-trace',
        'access-control-max-age': '600',
        'access-control-allow-credentials': 'true',
      });
      expect(main.received.some((r) => r.method === 'OPTIONS')).to.equal(false);
    });

    it('answers wildcard methods and headers with what the preflight asked for, echoing the origin with credentials', async () => {
      const reply = await get(`${base}/wildcors`, {
        method: 'OPTIONS',
        headers: {
          host: 'a.test',
          origin: 'https://any.example',
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'x-a, x-b',
        },
      });
      expect(reply.status).to.equal(204);
      expect(reply.headers).to.include({
        'access-control-allow-origin': 'https://any.example',
        'access-control-allow-methods': 'PUT',
        'access-control-allow-headers': 'x-a, x-b',
        'access-control-allow-credentials': 'true',
      });
    });

    it('answers a preflight from a refused origin itself, without CORS headers', async () => {
      const before = main.received.length;
      const reply = await get(`${base}/cors`, {
        method: 'OPTIONS',
        headers: { host: 'a.test', origin: 'https://evil.example.net', 'access-control-request-method': 'GET' },
      });
      expect(reply.status).to.equal(204);
      expect(reply.headers['access-control-allow-origin']).to.equal(undefined);
      expect(main.received.length).to.equal(before);
    });

    it('adds CORS headers to actual responses for allowed origins only', async () => {
      const allowed = await get(`${base}/cors`, { headers: { host: 'a.test', origin: 'https://app.example.com' } });
      expect(allowed.headers['access-control-allow-origin']).to.equal('https://app.example.com');
      expect(allowed.headers['access-control-expose-headers']).to.equal('x-trace');
      const refused = await get(`${base}/cors`, { headers: { host: 'a.test', origin: 'https://evil.example.net' } });
      expect(refused.headers['access-control-allow-origin']).to.equal(undefined);
    });
  });
}
