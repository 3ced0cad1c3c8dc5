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
    listeners: table.listenerList.map((l) => ({ key: l.key, listener: l.listener, vhosts: hosts(l.vhosts, vhost), stream: l.stream && hosts(l.stream, (c) => c.routeKey) })),
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
      const keys = (kind: 'httpRoutes' | 'streamRoutes' | 'listeners') => [...delta.remove[kind], ...delta.upsert[kind].map((r) => r.key)];
      let tables: HttpTables;
      if (full) {
        for (const kind of ['listeners', 'httpRoutes', 'streamRoutes', 'backends', 'certificates'] as const) (index[kind] as Map<string, unknown>).clear();
        applyDeltaInPlace(index, delta);
        tables = compiler.load(index);
      } else {
        applyDeltaInPlace(index, delta);
        tables = compiler.apply(index, { httpRoutes: keys('httpRoutes'), streamRoutes: keys('streamRoutes'), listeners: keys('listeners') });
      }
      expect(describe_(tables), `step ${step}`).to.deep.equal(describe_(compileHttpTables(index)));
      applied++;
    }
    expect(applied).to.be.greaterThan(200);
  });
});
