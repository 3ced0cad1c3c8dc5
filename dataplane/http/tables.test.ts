import { expect } from 'chai';
import { applyDelta, applyDeltaInPlace, emptyIndex } from '../../shared/ir/delta.ts';
import type { RecordIndex } from '../../shared/ir/delta.ts';
import { IR_VERSION } from '../../shared/ir/snapshot.ts';
import { RandomIr } from '../../shared/testing/random-ir.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import type { HostIndex } from './hostnames.ts';
import { HttpTableCompiler, compileHttpTables } from './tables.ts';
import type { HttpTables } from './tables.ts';
import type { MatchEntry, VirtualHost } from './vhost.ts';
import type { HttpMatch, HttpRoute } from '../../shared/ir/route.ts';

function hosts<T>(index: HostIndex<T>, show: (value: T) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [host, value] of index.exact) out[host] = show(value);
  for (const [suffix, value] of index.wildcard) out[`*.${suffix}`] = show(value);
  if (index.any !== undefined) out['(any)'] = show(index.any);
  return out;
}

const entry = (e: MatchEntry) => `${e.rule.routeKey}#${e.ruleIndex}.${e.matchIndex}@${e.rank}`;
const vhost = (v: VirtualHost) => ({
  exact: [...v.exact].map(([path, list]) => [path, list.map(entry)]).sort(),
  prefix: [...v.prefix].map(([path, list]) => [path, list.map(entry)]).sort(),
  regex: v.regex.map((r) => entry(r.entry)),
  needsQuery: v.needsQuery,
});

/** What a request can observe of the tables, as plain data. */
function describe_(tables: HttpTables): unknown {
  return [...tables.sockets].map(([key, table]) => ({
    key,
    address: table.address,
    port: table.port,
    listeners: table.listenerList.map((l) => ({
      key: l.key,
      listener: l.listener,
      vhosts: hosts(l.vhosts, vhost),
      stream: l.stream && hosts(l.stream, (c) => c.routeKey),
    })),
    byHost: hosts(table.listeners, (l) => l.key),
  }));
}

describe('HttpTableCompiler', () => {
  it('compiles each generation from the previous one to the same tables as from nothing, over random deltas', () => {
    const random = new RandomIr(11, 0.02);
    const compiler = new HttpTableCompiler();
    const index: RecordIndex = emptyIndex();
    let applied = 0;
    for (let step = 0; step < 1500; step++) {
      const full = step === 0 || random.chance(0.02);
      const delta = random.delta(step + 1, step, full);
      // The shard only ever gets what the supervisor validated.
      if (validateIndex(applyDelta(full ? emptyIndex() : index, delta), IR_VERSION).length > 0) continue;
      const keys = (kind: 'httpRoutes' | 'streamRoutes' | 'listeners') => [
        ...delta.remove[kind],
        ...delta.upsert[kind].map((r) => r.key),
      ];
      let tables: HttpTables;
      if (full) {
        for (const kind of ['listeners', 'httpRoutes', 'streamRoutes', 'backends', 'certificates'] as const)
          (index[kind] as Map<string, unknown>).clear();
        applyDeltaInPlace(index, delta);
        tables = compiler.load(index);
      } else {
        applyDeltaInPlace(index, delta);
        tables = compiler.apply(index, {
          httpRoutes: keys('httpRoutes'),
          streamRoutes: keys('streamRoutes'),
          listeners: keys('listeners'),
        });
      }
      expect(describe_(tables), `step ${step}`).to.deep.equal(describe_(compileHttpTables(index)));
      applied++;
    }
    expect(applied).to.be.greaterThan(200);
  });

  it('updates a host with many routes route by route (exact, prefix, regex, methods, headers, queries) as compiling it anew', () => {
    const random = new RandomIr(5);
    const compiler = new HttpTableCompiler();
    const listener = {
      key: 'ns/gw/http',
      source: { kind: 'Gateway', namespace: 'ns', name: 'gw' },
      address: '127.0.0.1',
      port: 8080,
      protocol: 'HTTP' as const,
    };
    const route = (i: number): HttpRoute => {
      const match = (): HttpMatch => {
        const type = (['Exact', 'PathPrefix', 'PathPrefix', 'RegularExpression'] as const)[random.int(4)];
        const value =
          type === 'RegularExpression'
            ? `/r${random.int(5)}/[a-z]+`
            : `/p${random.int(30)}${random.chance(0.3) ? '/x' : ''}`;
        const m: HttpMatch = { path: { type, value }, headers: [], queryParams: [] };
        if (random.chance(0.2)) m.method = 'GET';
        if (random.chance(0.2)) m.headers.push({ type: 'Exact', name: 'x-h', value: `${random.int(3)}` });
        if (random.chance(0.1)) m.queryParams.push({ type: 'Exact', name: 'q', value: '1' });
        return m;
      };
      return {
        key: `httproute/ns/r${i}`,
        source: { kind: 'HTTPRoute', namespace: 'ns', name: `r${i}` },
        // Now and then two routes of one rank: the order between them must not depend on arrival.
        rank: random.chance(0.1) ? 7 : i + random.int(100) / 100,
        parents: [{ listenerKey: listener.key, hostnames: random.chance(0.9) ? ['api.example.com'] : [] }],
        rules: [0, 1].slice(0, 1 + random.int(2)).map((index) => ({
          index,
          matches: [match(), match()].slice(0, 1 + random.int(2)),
          filters: [],
          backends: [{ backendKey: null, weight: 1, filters: [] }],
        })),
      };
    };
    const index: RecordIndex = emptyIndex();
    index.listeners.set(listener.key, listener);
    for (let i = 0; i < 200; i++) index.httpRoutes.set(`httproute/ns/r${i}`, route(i));
    compiler.load(index);
    for (let step = 0; step < 300; step++) {
      const changed: string[] = [];
      for (let n = 0, count = 1 + random.int(3); n < count; n++) {
        const i = random.int(220);
        const key = `httproute/ns/r${i}`;
        if (random.chance(0.2)) index.httpRoutes.delete(key);
        else index.httpRoutes.set(key, route(i));
        changed.push(key);
      }
      const tables = compiler.apply(index, { httpRoutes: changed, streamRoutes: [], listeners: [] });
      expect(describe_(tables), `step ${step}`).to.deep.equal(describe_(compileHttpTables(index)));
    }
  });
});
