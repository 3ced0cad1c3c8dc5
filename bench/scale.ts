// `npm run bench:scale`: Portico in standalone mode (operator and data plane as two processes, started through
// bin/portico.ts as a user starts them) at 1, 10,000 and 100,000 HTTPRoutes over a tenth as many hostnames. Per size:
//   - time to first serve: the operator's start → the last generated route answers 200 (reading the YAML, the
//     translation, the publish, the data plane's validation and apply);
//   - resident memory of both processes idle and after load (VmRSS from /proc), and each data-plane isolate's heap
//     (the admin's /memory);
//   - requests/s: wrk, 2 threads × 64 keep-alive connections, each request to a random hostname and path rule of the
//     generated set (with 1 route, the catch-all takes them all: the same requests against a trivial table);
//   - propagation of one route change: a file with a new route written, until the first 200 on it (p50/p99), and the
//     longest event-loop delay of each data-plane isolate over the changes (perf_hooks.monitorEventLoopDelay): a shard
//     delayed that long served nothing meanwhile.
// Flags: --routes 1,10000,100000, --seconds 10 (load), --probes 30, --breakdown (each isolate's heap), --dist (run
// the JavaScript build, dist/bin/portico.js from `npm run build`, as the container image does), --record
// (append to bench/RESULTS.md), --note "text". Throughput on a shared machine is noisy: the load average is recorded.

import { appendFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { PATHS_PER_HOST, startStandaloneBench } from './lib/standalone.ts';
import type { DataPlaneMemory, Footprint } from './lib/standalone.ts';
import { uniformRoutesScript } from './lib/references.ts';
import { ensureTools } from './lib/tools.ts';
import { wrk } from './lib/wrk.ts';

const { values: flags } = parseArgs({
  options: {
    routes: { type: 'string', default: '1,10000,100000' },
    seconds: { type: 'string', default: '10' },
    probes: { type: 'string', default: '30' },
    breakdown: { type: 'boolean', default: false },
    dist: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    note: { type: 'string' },
  },
});

const MiB = 1024 * 1024;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

interface Row {
  routes: number;
  firstServeMs: number;
  idle: Footprint;
  loaded: Footprint;
  rps: number;
  failed: number;
  propagation: number[];
  loopMaxMs: number;
  memory: DataPlaneMemory;
}

function isolates(memory: DataPlaneMemory): string {
  const one = (name: string, m: DataPlaneMemory['main'] | null) =>
    m === null
      ? `${name}: no answer`
      : `${name}: heap ${(m.heapUsed / MiB).toFixed(1)} used / ${(m.heapTotal / MiB).toFixed(1)} reserved (new ${((m.spaces.new_space ?? 0) / MiB).toFixed(1)}, old ${((m.spaces.old_space ?? 0) / MiB).toFixed(1)}, code ${((m.spaces.code_space ?? 0) / MiB).toFixed(1)}), external ${(m.external / MiB).toFixed(1)}, malloced ${(m.malloced / MiB).toFixed(1)}`;
  return [
    `RSS ${(memory.rss / MiB).toFixed(1)} MiB (peak ${(memory.maxRss / MiB).toFixed(1)})`,
    one('main', memory.main),
    ...memory.shards.map((s, i) => one(`shard ${i}`, s)),
  ].join('\n    ');
}

async function measure(routes: number, index: number): Promise<Row> {
  console.log(`${routes} routes: generating, starting, loading…`);
  const bench = await startStandaloneBench({ routes, address: `127.10.${201 + index}.1`, dist: flags.dist });
  try {
    console.log(`  first serve after ${(bench.firstServeMs / 1000).toFixed(1)} s`);
    await bench.dataPlaneMemory(); // starts each isolate's event-loop monitor
    const idle = bench.footprint();
    const script = uniformRoutesScript(bench.dir, Math.max(1, bench.hosts), PATHS_PER_HOST);
    const load = await wrk(`${bench.url}/`, { threads: 2, connections: 64, seconds: Number(flags.seconds), script });
    const loaded = bench.footprint();
    const memory = await bench.dataPlaneMemory();
    if (flags.breakdown) console.log(`  after load: ${isolates(memory)}`);
    const propagation: number[] = [];
    for (let i = 0; i < Number(flags.probes); i++) {
      const host = `probe${i}.bench.test`;
      const started = performance.now();
      bench.writeRoute(`probe-${i}`, host);
      while ((await bench.status(host, '/')) !== 200) {
        if (performance.now() - started > 60_000) throw new Error(`route ${host} not served after 60 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      propagation.push(performance.now() - started);
    }
    const afterChanges = await bench.dataPlaneMemory();
    const loops = [afterChanges.main, ...afterChanges.shards].map((m) => m?.loopDelayMaxMs ?? Number.NaN);
    console.log(
      `  ${load.rps.toFixed(0)} requests/s, propagation p50 ${pct(propagation, 50).toFixed(1)} ms p99 ${pct(propagation, 99).toFixed(1)} ms, loop delay max (main, shards) ${loops.map((l) => l.toFixed(1)).join(', ')} ms`,
    );
    return {
      routes,
      firstServeMs: bench.firstServeMs,
      idle,
      loaded,
      rps: load.rps,
      failed: load.errors + load.non2xx,
      propagation,
      loopMaxMs: Math.max(...loops.slice(1)),
      memory,
    };
  } finally {
    await bench.stop();
  }
}

ensureTools();
const rows: Row[] = [];
const sizes = String(flags.routes).split(',').map(Number);
for (const [i, size] of sizes.entries()) rows.push(await measure(size, i));
const base = rows.find((r) => r.routes === 1);
const f0 = (n: number) => n.toFixed(0);
const lines = [
  `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — scale (standalone, two processes via ${flags.dist ? 'dist/bin/portico.js' : 'bin/portico.ts'}, 2 shards), ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${process.version}; load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
  ...(flags.note ? ['', flags.note] : []),
  '',
  '| routes (hostnames) | first serve | data plane idle / after load | operator idle / after load | requests/s (÷ 1 route) | failed | propagation p50 / p99 | shard loop delay max over the changes | fds dp / op |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.routes} (${r.routes === 1 ? 'any' : r.routes / PATHS_PER_HOST}) | ${(r.firstServeMs / 1000).toFixed(1)} s | ${f0(r.idle.dataPlaneMiB)} / ${f0(r.loaded.dataPlaneMiB)} MiB | ${f0(r.idle.operatorMiB)} / ${f0(r.loaded.operatorMiB)} MiB | ${f0(r.rps)}${base ? ` (${(r.rps / base.rps).toFixed(2)})` : ''} | ${r.failed} | ${pct(r.propagation, 50).toFixed(1)} / ${pct(r.propagation, 99).toFixed(1)} ms | ${r.loopMaxMs.toFixed(1)} ms | ${r.loaded.dataPlaneFds} / ${r.loaded.operatorFds} |`,
  ),
  '',
  "Per isolate after load (the data plane's /memory):",
  '',
  ...rows.map((r) => `- ${r.routes} routes: ${isolates(r.memory).replaceAll('\n    ', '; ')}`),
  '',
];
console.log(`\n${lines.join('\n')}`);
if (flags.record) appendFileSync(new URL('./RESULTS.md', import.meta.url), `${lines.join('\n')}\n`);
process.exit(0);
