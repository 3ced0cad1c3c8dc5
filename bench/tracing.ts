// `npm run bench:tracing`: the cost of tracing for a request that is not sampled — read `traceparent`, decide,
// nothing else — against doing nothing, per request, in nanoseconds. Prints a table; it asserts nothing (numbers
// on a shared 2-core machine move with its load). The request path's full cost with tracing on is in `npm run bench`
// (its tracing rows). A last table adds the per-listener lookup the front ends make first (dataplane/telemetry/
// table.ts `of`, 100 listeners with XTelemetryPolicy records).
// Cases: no header (a new trace, 0 % / 1 % ratio), a valid unsampled parent (flag 00, parent-based), a valid sampled
// parent with parent-based sampling off and a 0 % ratio (decided on the trace id), and a malformed header.
// The heap column is the heap's growth across the 8 million decisions of a case: one 32-byte object per decision
// would show about 250 MB; the few hundred KiB seen are the JIT's and the GC's timing, not the decisions.

import { loadavg } from 'node:os';
import { TracingTable } from '../dataplane/telemetry/table.ts';
import { httpListener } from '../shared/testing/ir-builders.ts';
import { Tracer } from '../shared/telemetry/span.ts';
import type { SamplerConfig } from '../shared/telemetry/sampler.ts';

const N = 2_000_000;
const noSink = { push: () => true };

const headers: Array<[string, string | undefined]> = [
  ['no traceparent', undefined],
  ['unsampled parent (flag 00)', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'],
  ['sampled parent (flag 01)', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
  ['malformed', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7'],
];

const samplers: Array<[string, SamplerConfig]> = [
  ['0 %, parent-based', { ratio: 0, parentBased: true, parentRatio: 1 }],
  ['1 %, parent-based', { ratio: 0.01, parentBased: true, parentRatio: 1 }],
  ['0 %, not parent-based', { ratio: 0, parentBased: false, parentRatio: 1 }],
];

/**
 * CPU time of this thread (user + system) rather than wall time: on a machine shared with other work the wall clock
 * counts the time the thread waited for a core; the CPU time does not (cache effects of the neighbours remain).
 * Best of 3 runs after a warm-up that lets the JIT optimise the loop.
 */
function time(run: () => number): { ns: number; sink: number } {
  run();
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let i = 0; i < 3; i++) {
    const start = process.cpuUsage();
    sink = run();
    const used = process.cpuUsage(start);
    best = Math.min(best, ((used.user + used.system) * 1000) / N);
  }
  return { ns: best, sink };
}

const baseline = time(() => {
  let n = 0;
  for (let i = 0; i < N; i++) if (headers[i & 3][1] !== undefined) n++;
  return n;
});
console.log(
  `node ${process.version}, ${N.toLocaleString()} decisions per case, CPU time (best of 3), load ${loadavg()[0].toFixed(2)}`,
);
console.log(`baseline loop (read the header, no tracing): ${baseline.ns.toFixed(1)} ns/request\n`);
console.log('| header \\ sampler | sampled share | ns/request (minus baseline) | heap growth over all runs |');
console.log('|---|---|---|---|');
for (const [samplerName, config] of samplers) {
  const tracer = new Tracer({ sampler: config }, noSink);
  for (const [headerName, header] of headers) {
    const heapBefore = process.memoryUsage().heapUsed;
    const { ns, sink } = time(() => {
      let sampled = 0;
      for (let i = 0; i < N; i++) if (tracer.sampled(header)) sampled++;
      return sampled;
    });
    const heap = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `| ${headerName} / ${samplerName} | ${((sink / N) * 100).toFixed(2)} % | ${ns.toFixed(1)} (${(ns - baseline.ns).toFixed(1)}) | ${(heap / 1024).toFixed(0)} KiB |`,
    );
  }
}

// The lookup before the decision: 100 listeners, each with its own record (one collector), looked up by key.
const table = new TracingTable(undefined, 0, noSink);
const keys = Array.from({ length: 100 }, (_, i) => `ns/gw-${i}/http`);
table.configure(
  keys.map((key, i) =>
    httpListener(key, 10_000 + i, {
      tracing: {
        source: { kind: 'XTelemetryPolicy', namespace: 'ns', name: `p-${i}` },
        mode: 'Enabled',
        endpoint: 'http://127.0.0.1:4318',
        ratio: 0,
        attributes: [],
      },
    }),
  ),
);
console.log(
  '\n| per listener (100 with a policy, 0 %, parent-based): lookup + decision | ns/request (minus baseline) |',
);
console.log('|---|---|');
for (const [headerName, header] of headers.slice(0, 2)) {
  const { ns } = time(() => {
    let sampled = 0;
    for (let i = 0; i < N; i++) if (table.of(keys[i % 100])?.sampled(header)) sampled++;
    return sampled;
  });
  console.log(`| ${headerName} | ${ns.toFixed(1)} (${(ns - baseline.ns).toFixed(1)}) |`);
}
const { ns: none } = time(() => {
  let n = 0;
  const empty = new TracingTable(undefined, 0, noSink);
  for (let i = 0; i < N; i++) if (empty.of(keys[i % 100]) !== null) n++;
  return n;
});
console.log(
  `| no policy, no flag (tracing off): lookup only | ${none.toFixed(1)} (${(none - baseline.ns).toFixed(1)}) |`,
);
await table.shutdown(10);
