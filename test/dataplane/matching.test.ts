// Every match type of the IR, over real sockets: a request is sent through the data plane to real echo backends,
// and the backend that answers tells which rule won.

import { expect } from 'chai';
import type { HttpMatch } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';

function m(path: HttpMatch['path'], extra: Partial<HttpMatch> = {}): HttpMatch {
  return { path, headers: [], queryParams: [], ...extra };
}

for (const [run, protocol] of CLIENT_PROTOCOLS.entries()) {
  const get = getWith(protocol);
  describe(`data plane: matching over real sockets (${protocol})`, () => {
    const address = testAddress();
    const port = 18081 + 100 * run;
    const base = `http://${address}:${port}`;
    let h: Harness;
    const echoes: EchoServer[] = [];
    const names = ['exact', 'prefix', 'regex', 'method', 'header', 'headerRe', 'query', 'queryRe', 'root', 'host'];

    before(async () => {
      h = await startHarness();
      for (const name of names) echoes.push(await startEchoServer(name));
      const l = httpListener('ns/gw/http', port, { address });
      const backends = echoes.map((e) => backend(`ns/${e.name}:80`, [['127.0.0.1', e.port]]));
      const to = (name: string) => [`ns/${name}:80`];
      const routes = [
        httpRoute(
          'httproute/ns/main',
          [l.key],
          [
            rule([m({ type: 'Exact', value: '/exact' })], to('exact')),
            rule([m({ type: 'PathPrefix', value: '/prefix' })], to('prefix')),
            rule([m({ type: 'RegularExpression', value: '/re/[0-9]+' })], to('regex')),
            rule([m({ type: 'PathPrefix', value: '/api' }, { method: 'DELETE' })], to('method')),
            rule(
              [
                m(
                  { type: 'PathPrefix', value: '/api' },
                  { headers: [{ type: 'Exact', name: 'X-Version', value: 'v2' }] },
                ),
              ],
              to('header'),
            ),
            rule(
              [
                m(
                  { type: 'PathPrefix', value: '/api' },
                  { headers: [{ type: 'RegularExpression', name: 'x-user', value: 'admin-[a-z]+' }] },
                ),
              ],
              to('headerRe'),
            ),
            rule(
              [
                m(
                  { type: 'PathPrefix', value: '/api' },
                  { queryParams: [{ type: 'Exact', name: 'mode', value: 'fast' }] },
                ),
              ],
              to('query'),
            ),
            rule(
              [
                m(
                  { type: 'PathPrefix', value: '/api' },
                  { queryParams: [{ type: 'RegularExpression', name: 'id', value: '[0-9]{3}' }] },
                ),
              ],
              to('queryRe'),
            ),
            rule([m({ type: 'PathPrefix', value: '/' })], to('root')),
          ],
        ),
        httpRoute('httproute/ns/host', [], [rule([m({ type: 'PathPrefix', value: '/' })], to('host'))], {
          rank: 1,
          parents: [{ listenerKey: l.key, hostnames: ['*.example.org'] }],
        }),
      ];
      expect((await h.publish({ listeners: [l], backends, httpRoutes: routes })).outcome).to.equal('ack');
    });
    after(async () => {
      await h?.stop();
      await Promise.all(echoes.map((e) => e.close()));
    });

    const cases: Array<[string, string, Record<string, string>, string, string?]> = [
      ['Exact path', '/exact', {}, 'exact'],
      ['Exact path does not match a longer path', '/exact/more', {}, 'root'],
      ['PathPrefix on element boundaries', '/prefix/a/b', {}, 'prefix'],
      ['PathPrefix does not match a longer element', '/prefixes', {}, 'root'],
      ['RegularExpression (whole path)', '/re/123', {}, 'regex'],
      ['RegularExpression does not match a partial path', '/re/123x', {}, 'root'],
      ['method', '/api/x', {}, 'method', 'DELETE'],
      ['header Exact (name case-insensitive)', '/api/x', { 'x-VERSION': 'v2' }, 'header'],
      ['header RegularExpression', '/api/x', { 'x-user': 'admin-bob' }, 'headerRe'],
      ['query Exact', '/api/x?mode=fast', {}, 'query'],
      ['query RegularExpression', '/api/x?id=123', {}, 'queryRe'],
      ['query RegularExpression not matching', '/api/x?id=1234', {}, 'root'],
      ['route hostname wildcard', '/anything', { host: 'a.b.example.org' }, 'host'],
    ];
    for (const [what, path, headers, expected, method] of cases) {
      it(`routes by ${what}`, async () => {
        const reply = await get(base + path, { headers: { host: 'example.com', ...headers }, method });
        expect(reply.status).to.equal(200);
        expect(reply.echo?.backend).to.equal(expected);
      });
    }

    it('answers 404 when no rule matches, and for a host no listener takes', async () => {
      await h.publish({
        listeners: [httpListener('ns/gw/only', port, { address, hostname: 'only.example.com' })],
        backends: [],
        httpRoutes: [],
      });
      expect((await get(`${base}/`, { headers: { host: 'other.example.com' } })).status).to.equal(404);
      expect((await get(`${base}/`, { headers: { host: 'only.example.com' } })).status).to.equal(404);
    });
  });
}
