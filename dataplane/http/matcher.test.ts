import { expect } from 'chai';
import { indexSnapshot } from '../../shared/ir/delta.ts';
import type { HttpMatch } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule, snapshot } from '../../shared/testing/ir-builders.ts';
import { matchRequest } from './matcher.ts';
import type { RequestView } from './matcher.ts';
import { compileHttpTables } from './tables.ts';
import type { CompiledListener } from './tables.ts';

const L = httpListener('ns/gw/http', 8080);
const be = backend('b', [['10.0.0.1', 80]]);

function exact(value: string, extra: Partial<HttpMatch> = {}): HttpMatch {
  return { path: { type: 'Exact', value }, headers: [], queryParams: [], ...extra };
}

function compile(...routes: ReturnType<typeof httpRoute>[]): CompiledListener {
  const tables = compileHttpTables(indexSnapshot(snapshot(1, { listeners: [L], backends: [be], httpRoutes: routes })));
  return [...tables.sockets.values()][0].listenerList[0];
}

function req(path: string, extra: Partial<RequestView> = {}): RequestView {
  return { host: 'example.com', method: 'GET', path, query: '', headers: {}, ...extra };
}

function winner(listener: CompiledListener, r: RequestView): string | null {
  const hit = matchRequest(listener, r);
  return hit === null ? null : `${hit.rule.routeKey}#${hit.rule.ruleIndex}`;
}

describe('request matching', () => {
  it('prefers Exact over the longest PathPrefix over a shorter one, matching whole path elements', () => {
    const l = compile(
      httpRoute(
        'a',
        [L.key],
        [rule([prefix('/')], ['b']), rule([prefix('/foo/')], ['b']), rule([exact('/foo/bar')], ['b'])],
      ),
    );
    expect(winner(l, req('/foo/bar'))).to.equal('a#2');
    expect(winner(l, req('/foo/bar/'))).to.equal('a#1');
    expect(winner(l, req('/foo'))).to.equal('a#1');
    expect(winner(l, req('/foobar'))).to.equal('a#0');
  });

  it('breaks ties by method, then header count, then query count, then the older route', () => {
    const header = { type: 'Exact' as const, name: 'X-Env', value: 'canary' };
    const l = compile(
      httpRoute('old', [L.key], [rule([prefix('/p')], ['b'])], { rank: 0 }),
      httpRoute(
        'new',
        [L.key],
        [rule([prefix('/p', { headers: [header] })], ['b']), rule([prefix('/p', { method: 'POST' })], ['b'])],
        { rank: 1 },
      ),
      httpRoute(
        'q',
        [L.key],
        [rule([prefix('/p', { queryParams: [{ type: 'Exact', name: 'v', value: '2' }] })], ['b'])],
        { rank: 2 },
      ),
    );
    expect(winner(l, req('/p/x'))).to.equal('old#0');
    expect(winner(l, req('/p/x', { headers: { 'x-env': 'canary' } }))).to.equal('new#0');
    expect(winner(l, req('/p/x', { method: 'POST', headers: { 'x-env': 'canary' } }))).to.equal('new#1');
    expect(winner(l, req('/p', { query: 'v=2&v=3' }))).to.equal('q#0');
    expect(winner(l, req('/p', { query: 'v=3&v=2' }))).to.equal('old#0');
  });

  it('tries the most specific route hostname first and falls through when its rules do not match', () => {
    const l = compile(
      httpRoute('exact', [], [rule([prefix('/only')], ['b'])], {
        parents: [{ listenerKey: L.key, hostnames: ['a.example.com'] }],
      }),
      httpRoute('wild', [], [rule([prefix('/')], ['b'])], {
        parents: [{ listenerKey: L.key, hostnames: ['*.example.com'] }],
      }),
    );
    expect(winner(l, req('/only', { host: 'a.example.com' }))).to.equal('exact#0');
    expect(winner(l, req('/other', { host: 'a.example.com' }))).to.equal('wild#0');
    expect(winner(l, req('/other', { host: 'x.y.example.com' }))).to.equal('wild#0');
    expect(winner(l, req('/other', { host: 'example.com' }))).to.equal(null);
  });

  it('matches RegularExpression paths and headers with RE2 semantics over the whole value', () => {
    const l = compile(
      httpRoute(
        're',
        [L.key],
        [
          rule([{ path: { type: 'RegularExpression', value: '/v[0-9]+/.*' }, headers: [], queryParams: [] }], ['b']),
          rule(
            [
              {
                path: { type: 'RegularExpression', value: '/h' },
                headers: [{ type: 'RegularExpression', name: 'x', value: 'a+' }],
                queryParams: [],
              },
            ],
            ['b'],
          ),
        ],
      ),
    );
    expect(winner(l, req('/v2/users'))).to.equal('re#0');
    expect(winner(l, req('/x/v2/users'))).to.equal(null);
    expect(winner(l, req('/h', { headers: { x: 'aaa' } }))).to.equal('re#1');
    expect(winner(l, req('/h', { headers: { x: 'aab' } }))).to.equal(null);
  });
});
