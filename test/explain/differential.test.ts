// `portico explain` (shared/explain, a scan over the IR written to be read) against the data plane's own routing
// tables (dataplane/http, indexed for speed): over the IR of every golden translator case and thousands of requests
// generated from it, both must pick the same listener and the same route, rule and match, or both none. The seed is
// printed; PORTICO_EXPLAIN_SEED replays a run.

import { expect } from 'chai';
import { compileHttpTables } from '../../dataplane/http/tables.ts';
import { matchRequest } from '../../dataplane/http/matcher.ts';
import { normalizeHost } from '../../dataplane/http/hostnames.ts';
import { DataPlaneExplainer } from '../../dataplane/supervisor/explain.ts';
import { explain } from '../../shared/explain/explain.ts';
import { indexSnapshot } from '../../shared/ir/delta.ts';
import type { ReadonlyRecordIndex } from '../../shared/ir/delta.ts';
import type { Listener } from '../../shared/ir/listener.ts';
import type { HttpMatch, HttpRoute } from '../../shared/ir/route.ts';
import { emptyRecords } from '../../shared/ir/snapshot.ts';
import { seeded } from '../../shared/testing/random-ir.ts';
import { loadCases, runCase } from '../translate/golden.ts';

const REQUESTS_PER_CASE = 120;

/** Values a generated request draws from: what the case's routes and listeners name, and near misses. */
interface Pools {
  /** Every route match with a host it is attached under: requests aimed at one, so that rules compete. */
  targets: Array<{ host: string; match: HttpMatch }>;
  hosts: string[];
  paths: string[];
  methods: string[];
  headers: Array<[string, string]>;
  queries: string[];
}

function concreteHost(pattern: string): string[] {
  if (pattern === '' || pattern === '*') return ['anything.test'];
  if (pattern.startsWith('*.')) return [`a.${pattern.slice(2)}`, `a.b.${pattern.slice(2)}`, pattern.slice(2)];
  return [pattern, `x${pattern}`];
}

function pathsOf(match: HttpMatch): string[] {
  const v = match.path.value;
  switch (match.path.type) {
    case 'Exact':
      return [v, `${v}/`, `${v}x`];
    case 'PathPrefix':
      return [v, `${v.replace(/\/$/, '')}/sub`, `${v.replace(/\/$/, '')}x`, `${v.replace(/\/$/, '')}/`];
    default:
      // RE2 patterns: the literal parts of the pattern often form a matching path; the rest are near misses.
      return [v.replace(/[\\^$.*+?()[\]{}|]/g, ''), v.replace(/\.\*|\.\+|\[[^\]]*\]\+?|\\d\+?/g, '1')];
  }
}

function poolsOf(index: ReadonlyRecordIndex): Pools {
  const pools: Pools = {
    targets: [],
    hosts: ['', 'unknown.example'],
    paths: ['/', '/x', '//'],
    methods: ['GET', 'POST'],
    headers: [],
    queries: [''],
  };
  for (const listener of index.listeners.values()) pools.hosts.push(...concreteHost(listener.hostname ?? ''));
  for (const route of index.httpRoutes.values()) {
    const routeHosts = route.parents
      .flatMap((p) => (p.hostnames.length === 0 ? [''] : p.hostnames))
      .flatMap(concreteHost);
    pools.hosts.push(...routeHosts);
    for (const rule of route.rules) {
      for (const match of rule.matches) {
        for (const host of routeHosts) pools.targets.push({ host, match });
        pools.paths.push(...pathsOf(match));
        if (match.method !== undefined) pools.methods.push(match.method);
        for (const h of match.headers)
          pools.headers.push([h.name.toLowerCase(), h.value], [h.name.toLowerCase(), `${h.value}-no`]);
        for (const q of match.queryParams)
          pools.queries.push(`${encodeURIComponent(q.name)}=${encodeURIComponent(q.value)}`);
      }
    }
  }
  // Request targets in origin form always start with '/'.
  pools.paths = pools.paths.filter((path) => path.startsWith('/'));
  return pools;
}

describe('portico explain agrees with the data plane over the golden cases', function () {
  this.timeout(120_000);
  const seed = Number(process.env.PORTICO_EXPLAIN_SEED ?? Date.now() % 1_000_000);

  it(`picks the same listener and route match for every generated request (seed ${seed})`, () => {
    const random = seeded(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    let compared = 0;
    let routed = 0;
    const dataPlane = new DataPlaneExplainer();
    let generation = 0;
    for (const testCase of loadCases()) {
      const result = runCase(testCase);
      if (result.ir.httpRoutes.length === 0) continue;
      const index = indexSnapshot(result.ir);
      const tables = compileHttpTables(index);
      const pools = poolsOf(index);
      for (const socket of tables.sockets.values()) {
        if (socket.kind !== 'HTTP' && socket.kind !== 'HTTPS') continue;
        const http = socket.listenerList.filter(
          (l) => l.listener.protocol === 'HTTP' || l.listener.protocol === 'HTTPS',
        );
        if (http.length === 0) continue;
        const sample = http[0].listener;
        for (let n = 0; n < REQUESTS_PER_CASE; n++) {
          const headers: Record<string, string> = {};
          const headerCount = Math.floor(random() * 3);
          for (let h = 0; h < headerCount && pools.headers.length > 0; h++) {
            const [name, value] = pick(pools.headers);
            headers[name] = value;
          }
          let host = pick(pools.hosts);
          let path = pick(pools.paths);
          let method = pick(pools.methods);
          let query = random() < 0.5 ? pick(pools.queries) : '';
          // Half the requests are aimed at one match (its host, path, method, headers, query), so that the rules
          // that also match it compete on precedence.
          if (random() < 0.5 && pools.targets.length > 0) {
            const target = pick(pools.targets);
            host = target.host;
            path = pick(
              pathsOf(target.match)
                .filter((p) => p.startsWith('/'))
                .concat(path),
            );
            method = target.match.method ?? method;
            for (const h of target.match.headers) headers[h.name.toLowerCase()] = h.value;
            const params = target.match.queryParams.map(
              (q) => `${encodeURIComponent(q.name)}=${encodeURIComponent(q.value)}`,
            );
            if (params.length > 0) query = params.join('&');
          }
          const context = `${testCase.area}/${testCase.name} (seed ${seed}): ${method} ${host}${path}?${query} ${JSON.stringify(headers)}`;

          const dpListener = socket.listeners.lookup(normalizeHost(host));
          const dpEntry =
            dpListener === undefined
              ? null
              : matchRequest(dpListener, { host: normalizeHost(host), method, path, query, headers });
          const answer = explain(index, {
            address: sample.address,
            port: sample.port,
            scheme: sample.protocol === 'HTTPS' ? 'https' : 'http',
            host,
            path,
            method,
            query,
            headers,
          });
          expect(answer.listener, `listener for ${context}`).to.equal(dpListener?.key ?? null);
          const dpWinner =
            dpEntry === null ? null : `${dpEntry.rule.routeKey} rule ${dpEntry.ruleIndex} match ${dpEntry.matchIndex}`;
          const explained =
            answer.winner === null
              ? null
              : `${answer.winner.route} rule ${answer.winner.rule} match ${answer.winner.match}`;
          expect(explained, `winner for ${context}`).to.equal(dpWinner);
          // And through the data plane's admin answer (`portico explain --dataplane`), which must say the same.
          const request = { address: sample.address, port: sample.port, host, path, method, query, headers };
          const viaAdmin = dataPlane.decide(index, n === 0 ? ++generation : generation, {
            ...request,
            scheme: sample.protocol === 'HTTPS' ? 'https' : 'http',
          });
          expect(viaAdmin.listener, `data plane admin listener for ${context}`).to.equal(answer.listener);
          expect(viaAdmin.winner, `data plane admin winner for ${context}`).to.equal(explained);
          compared++;
          if (dpWinner !== null) routed++;
        }
      }
    }
    // The generator must reach the interesting part: most requests are routed somewhere, many are not.
    expect(compared).to.be.greaterThan(5000);
    expect(routed).to.be.greaterThan(compared / 4);
    expect(compared - routed).to.be.greaterThan(compared / 20);
  });

  it(`picks the same winner among generated routes that compete on every precedence step (seed ${seed})`, () => {
    const random = seeded(seed + 1);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const subset = <T>(list: readonly T[]): T[] => list.filter(() => random() < 0.4);
    let routed = 0;
    for (let round = 0; round < 300; round++) {
      const records = emptyRecords();
      const listener: Listener = {
        key: 'ns/gw/http',
        source: { kind: 'Gateway', namespace: 'ns', name: 'gw', section: 'http' },
        address: '127.0.0.1',
        port: 80,
        protocol: 'HTTP',
        ...(random() < 0.5 ? { hostname: '*.example.com' } : {}),
      };
      records.listeners.push(listener);
      const routeCount = 2 + Math.floor(random() * 4);
      for (let r = 0; r < routeCount; r++) {
        const route: HttpRoute = {
          key: `httproute/ns/r${r}`,
          source: { kind: 'HTTPRoute', namespace: 'ns', name: `r${r}` },
          rank: pick([r, routeCount - r]) * 2 + r,
          parents: [
            { listenerKey: listener.key, hostnames: subset(['a.example.com', '*.example.com', 'b.a.example.com']) },
          ],
          rules: Array.from({ length: 1 + Math.floor(random() * 3) }, (_, index) => ({
            index,
            matches: Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({
              path: pick<HttpMatch['path']>([
                { type: 'Exact', value: '/a' },
                { type: 'PathPrefix', value: '/a' },
                { type: 'PathPrefix', value: '/' },
                { type: 'PathPrefix', value: '/a/b/' },
                { type: 'RegularExpression', value: '/a.*' },
              ]),
              ...(random() < 0.4 ? { method: pick(['GET', 'POST']) } : {}),
              headers: subset([
                { type: 'Exact' as const, name: 'X-One', value: '1' },
                { type: 'RegularExpression' as const, name: 'x-two', value: '[0-9]+' },
              ]),
              queryParams: subset([{ type: 'Exact' as const, name: 'q', value: '1' }]),
            })),
            filters: [],
            backends: [],
            directResponse: { status: 500 },
          })),
        };
        records.httpRoutes.push(route);
      }
      const index = indexSnapshot(records);
      const tables = compileHttpTables(index);
      const socket = [...tables.sockets.values()][0];
      for (let n = 0; n < 40; n++) {
        const host = pick(['a.example.com', 'b.a.example.com', 'c.example.com', 'example.com']);
        const path = pick(['/', '/a', '/a/', '/a/b', '/a/b/c', '/ab']);
        const method = pick(['GET', 'POST']);
        const headers: Record<string, string> = {};
        if (random() < 0.6) headers['x-one'] = pick(['1', '2']);
        if (random() < 0.6) headers['x-two'] = pick(['42', 'x']);
        const query = pick(['', 'q=1', 'q=2', 'a=b&q=1']);
        const context = `round ${round} (seed ${seed}): ${method} ${host}${path}?${query} ${JSON.stringify(headers)}`;
        const dpListener = socket.listeners.lookup(host);
        const dpEntry =
          dpListener === undefined ? null : matchRequest(dpListener, { host, method, path, query, headers });
        const answer = explain(index, {
          address: '127.0.0.1',
          port: 80,
          scheme: 'http',
          host,
          path,
          method,
          query,
          headers,
        });
        const dpWinner =
          dpEntry === null ? null : `${dpEntry.rule.routeKey} rule ${dpEntry.ruleIndex} match ${dpEntry.matchIndex}`;
        const explained =
          answer.winner === null
            ? null
            : `${answer.winner.route} rule ${answer.winner.rule} match ${answer.winner.match}`;
        expect(explained, context).to.equal(dpWinner);
        if (dpWinner !== null) routed++;
      }
    }
    expect(routed).to.be.greaterThan(3000);
  });
});
