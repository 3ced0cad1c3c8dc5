// `npm run bench:soak` (not part of `npm test`): Portico standalone (operator and data plane, two processes) under
// load for 30 minutes: wrk with 64 keep-alive connections on routes that exist throughout, one route changed every
// second (a file rewritten: 20 churn routes created, then their paths changed in turn), and every 10 s the resident
// memory, V8 heap and open descriptors of both processes sampled. Passes when the last third of the run (the last
// 10 minutes of 30) is flat — resident memory within 10 % (max ÷ min); heaps and descriptors, which saw between
// collections and follow the connections, within 10 % from the peak of the window's first minute to the peak of its
// last — and no request failed.
// Flags: --minutes 30, --routes 1000, --connections 64, --dist (the JavaScript build), --record (samples to
// bench/soak/<date>.csv and the summary to bench/RESULTS.md), --note "text".

import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { PATHS_PER_HOST, startStandaloneBench } from './lib/standalone.ts';
import { uniformRoutesScript } from './lib/references.ts';
import { ensureTools } from './lib/tools.ts';
import { wrk } from './lib/wrk.ts';

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    routes: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '64' },
    dist: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    note: { type: 'string' },
  },
});
const MINUTES = Number(flags.minutes);
const SAMPLE_MS = 10_000;
const CHANGE_MS = 1000;
const CHURN_ROUTES = 20;
/** wrk runs in chunks (a chunk's counts are exact; connections are made anew between chunks). */
const CHUNK_S = 60;
const MiB = 1024 * 1024;
/**
 * wrk's request timeout: a request unanswered this long counts as failed. Longer than wrk's 2 s, which on a machine
 * shared with other work measures the machine's queue more than the gateway (the p99 is reported beside it).
 */
const TIMEOUT_S = 10;

interface Sample {
  t: number;
  dataPlaneRss: number;
  operatorRss: number;
  dataPlaneHeap: number;
  operatorHeap: number;
  dataPlaneFds: number;
  operatorFds: number;
}

ensureTools();
const bench = await startStandaloneBench({ routes: Number(flags.routes), address: '127.10.209.1', dist: flags.dist });
const samples: Sample[] = [];
const started = performance.now();
const endAt = started + MINUTES * 60_000;
let changes = 0;
let changeErrors = 0;
let requests = 0;
let failed = 0;
const failures = { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 };
// Stopped early (Ctrl-C, SIGTERM): the processes it started go too.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void bench.stop().finally(() => process.exit(130)));
try {
  console.log(
    `soak: ${bench.routes} routes served after ${(bench.firstServeMs / 1000).toFixed(1)} s; ${MINUTES} min, ${flags.connections} connections, a route change every second`,
  );
  const sample = async () => {
    const memory = await bench.dataPlaneMemory();
    const heap = await bench.operatorHeap();
    const f = bench.footprint();
    const isolates = [memory.main, ...memory.shards];
    const s: Sample = {
      t: (performance.now() - started) / 1000,
      dataPlaneRss: f.dataPlaneMiB,
      operatorRss: f.operatorMiB,
      dataPlaneHeap: isolates.reduce((a, m) => a + (m?.heapUsed ?? 0), 0) / MiB,
      operatorHeap: heap.used / MiB,
      dataPlaneFds: f.dataPlaneFds,
      operatorFds: f.operatorFds,
    };
    samples.push(s);
    if (samples.length % 6 === 1)
      console.log(
        `  ${(s.t / 60).toFixed(1)} min: data plane ${s.dataPlaneRss.toFixed(0)} MiB (heap ${s.dataPlaneHeap.toFixed(0)}), operator ${s.operatorRss.toFixed(0)} MiB (heap ${s.operatorHeap.toFixed(0)}), fds ${s.dataPlaneFds} / ${s.operatorFds}, ${changes} changes, ${requests} requests, ${failed} failed`,
      );
  };
  await sample();
  const sampler = setInterval(
    () => void sample().catch((e: Error) => console.warn(`  sample failed: ${e.message}`)),
    SAMPLE_MS,
  );
  const changer = setInterval(() => {
    try {
      // Creates churn-0 … churn-19, then moves each one's path in turn: one route changes per second.
      const i = changes++;
      bench.writeRoute(
        `churn-${i % CHURN_ROUTES}`,
        `churn${i % CHURN_ROUTES}.bench.test`,
        `/v${Math.floor(i / CHURN_ROUTES)}`,
      );
    } catch {
      changeErrors++;
    }
  }, CHANGE_MS);
  const script = uniformRoutesScript(bench.dir, Math.max(1, bench.hosts), PATHS_PER_HOST);
  while (performance.now() < endAt) {
    const seconds = Math.max(1, Math.min(CHUNK_S, Math.round((endAt - performance.now()) / 1000)));
    const r = await wrk(`${bench.url}/`, {
      threads: 2,
      connections: Number(flags.connections),
      seconds,
      script,
      timeoutS: TIMEOUT_S,
    });
    requests += r.requests;
    failed += r.errors + r.non2xx;
    for (const kind of ['connect', 'read', 'write', 'timeout'] as const) failures[kind] += r.socketErrors[kind];
    failures.non2xx += r.non2xx;
    if (r.errors + r.non2xx > 0)
      console.log(
        `  ${((performance.now() - started) / 60_000).toFixed(1)} min: ${JSON.stringify({ ...r.socketErrors, non2xx: r.non2xx })} in this ${seconds}-s chunk, p99 ${r.p99ms} ms`,
      );
  }
  clearInterval(changer);
  clearInterval(sampler);
  await sample();
} finally {
  await bench.stop();
}

// The judgement over the last third of the run.
const windowStart = samples[samples.length - 1].t * (2 / 3);
const window = samples.filter((s) => s.t >= windowStart);
const range = (key: keyof Sample) => {
  const xs = window.map((s) => s[key]);
  return Math.max(...xs) / Math.min(...xs);
};
/** The largest value of the window's last minute ÷ the largest of its first (heaps saw, descriptors follow load). */
const trend = (key: keyof Sample) => {
  const first = window.filter((s) => s.t < window[0].t + 60).map((s) => s[key]);
  const last = window.filter((s) => s.t > window[window.length - 1].t - 60).map((s) => s[key]);
  return Math.max(...last) / Math.max(...first);
};
const checks = [
  { name: 'data plane RSS max ÷ min', value: range('dataPlaneRss'), ok: range('dataPlaneRss') <= 1.1 },
  { name: 'operator RSS max ÷ min', value: range('operatorRss'), ok: range('operatorRss') <= 1.1 },
  { name: 'data plane fds, last ÷ first minute', value: trend('dataPlaneFds'), ok: trend('dataPlaneFds') <= 1.1 },
  { name: 'operator fds, last ÷ first minute', value: trend('operatorFds'), ok: trend('operatorFds') <= 1.1 },
  { name: 'data plane heap, last ÷ first minute', value: trend('dataPlaneHeap'), ok: trend('dataPlaneHeap') <= 1.1 },
  { name: 'operator heap, last ÷ first minute', value: trend('operatorHeap'), ok: trend('operatorHeap') <= 1.1 },
];
const flat = checks.every((c) => c.ok);
const at = (s: Sample) =>
  `${s.dataPlaneRss.toFixed(0)} / ${s.operatorRss.toFixed(0)} MiB, heap ${s.dataPlaneHeap.toFixed(0)} / ${s.operatorHeap.toFixed(0)} MiB, fds ${s.dataPlaneFds} / ${s.operatorFds}`;
const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
const lines = [
  `### ${stamp} UTC — soak, ${MINUTES} min (standalone via ${flags.dist ? 'dist/bin/portico.js' : 'bin/portico.ts'}, 2 shards, ${bench.routes} routes, ${flags.connections} connections, a route change every second), ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${process.version}; load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
  ...(flags.note ? ['', flags.note] : []),
  '',
  `- ${requests} requests, ${failed} failed on routes that exist throughout (${JSON.stringify(failures)}; timeout: no answer within ${TIMEOUT_S} s); ${changes} route changes written (${changeErrors} write errors); ${samples.length} samples`,
  `- data plane / operator at the start ${at(samples[0])}; at ${(windowStart / 60).toFixed(1)} min ${at(window[0])}; at the end ${at(samples[samples.length - 1])}`,
  `- over the last third: ${checks.map((c) => `${c.name} ${c.value.toFixed(3)}${c.ok ? '' : ' (over 1.10)'}`).join('; ')}`,
  `- verdict: ${flat && failed === 0 ? 'flat, no failed request' : `${flat ? 'flat' : 'NOT flat'}, ${failed} failed requests`}`,
  '',
];
console.log(`\n${lines.join('\n')}`);
if (flags.record) {
  mkdirSync(new URL('./soak/', import.meta.url), { recursive: true });
  const csv = new URL(`./soak/${stamp.replace(' ', 'T').replace(':', '')}.csv`, import.meta.url);
  writeFileSync(
    csv,
    `${Object.keys(samples[0]).join(',')}\n${samples
      .map((s) =>
        Object.values(s)
          .map((v) => (Number.isInteger(v) ? v : v.toFixed(2)))
          .join(','),
      )
      .join('\n')}\n`,
  );
  appendFileSync(
    new URL('./RESULTS.md', import.meta.url),
    `${lines.join('\n')}Samples: bench/soak/${csv.pathname.split('/').pop()}.\n\n`,
  );
}
process.exit(flat && failed === 0 ? 0 : 1);
