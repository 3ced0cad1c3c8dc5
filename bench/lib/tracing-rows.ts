// The cost of tracing on the request path (issue 12: "a request that is not sampled costs no more than reading its
// traceparent"): Portico's keep-alive throughput with tracing off, then with an XTelemetryPolicy record on the
// listener at 0 % and at 1 % sampling, exporting to an OTLP/HTTP sink started here that accepts and discards
// (test/observability/support/otlp-sink.ts). Tracing is switched by reconfiguring the same data plane (a policy change
// takes effect on the next generation), in alternating rounds like the rest of bench/http.ts.

import type { ListenerTracing } from '../../shared/ir/tracing.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { OtlpSink } from '../../test/observability/support/otlp-sink.ts';
import type { PorticoUnderTest } from './portico.ts';
import type { WrkResult } from './wrk.ts';

/** An unsampled parent (flags 00): with parent-based sampling the decision reads the header and says no. */
const UNSAMPLED = 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

interface Setting {
  label: string;
  tracing: Omit<ListenerTracing, 'source' | 'endpoint'> | null;
  headers: string[];
}

const SETTINGS: Setting[] = [
  { label: 'tracing off (no policy, no flag)', tracing: null, headers: [] },
  { label: 'policy, 0 % sampled, no traceparent', tracing: { mode: 'Enabled', ratio: 0, attributes: [] }, headers: [] },
  {
    label: 'policy, 0 % sampled, unsampled traceparent (read, parent says no)',
    tracing: { mode: 'Enabled', ratio: 0, parentBased: true, attributes: [] },
    headers: [UNSAMPLED],
  },
  {
    label: 'policy, 1 % sampled, no traceparent',
    tracing: { mode: 'Enabled', ratio: 0.01, attributes: [] },
    headers: [],
  },
];

function withTracing(records: SnapshotRecords, setting: Setting, endpoint: string): SnapshotRecords {
  if (setting.tracing === null) return records;
  const tracing: ListenerTracing = {
    source: { kind: 'XTelemetryPolicy', namespace: 'bench', name: 'tracing' },
    endpoint,
    ...setting.tracing,
  };
  return { ...records, listeners: records.listeners.map((l) => (l.protocol === 'HTTP' ? { ...l, tracing } : l)) };
}

type Measure = (o: {
  threads: number;
  connections: number;
  seconds: number;
  headers?: string[];
}) => Promise<WrkResult & { cpu: number }>;

/** Runs the tracing rounds on `portico` (configured with `base` afterwards); returns the table's lines. */
export async function tracingRows(
  portico: PorticoUnderTest,
  base: SnapshotRecords,
  measure: Measure,
  rounds: number,
  seconds: number,
): Promise<string[]> {
  const sink = await OtlpSink.start({ keep: false });
  const samples = new Map<string, Array<WrkResult & { cpu: number }>>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < SETTINGS.length; i++) {
        const setting = SETTINGS[(i + round) % SETTINGS.length];
        await portico.configure(withTracing(base, setting, sink.endpoint));
        const sample = await measure({ threads: 2, connections: 64, seconds, headers: setting.headers });
        samples.set(setting.label, [...(samples.get(setting.label) ?? []), sample]);
      }
    }
  } finally {
    await portico.configure(base);
    await sink.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const stats = (label: string) => {
    const xs = samples.get(label) ?? [];
    return {
      rps: median(xs.map((s) => s.rps)),
      perCore: median(xs.map((s) => (s.cpu > 0 ? s.rps / s.cpu : 0))),
      p99: median(xs.map((s) => s.p99ms)),
      errors: xs.reduce((a, s) => a + s.errors + s.non2xx, 0),
    };
  };
  const off = stats(SETTINGS[0].label);
  return [
    '| Portico tracing, keep-alive, 64 conns | requests/s | ÷ off | requests per proxy core-second | ÷ off | p99 ms | errors |',
    '|---|---|---|---|---|---|---|',
    ...SETTINGS.map((s) => {
      const x = stats(s.label);
      return `| ${s.label} | ${f(x.rps)} | ${f(x.rps / off.rps, 3)} | ${f(x.perCore)} | ${f(x.perCore / off.perCore, 3)} | ${f(x.p99, 3)} | ${x.errors} |`;
    }),
    '',
    `The OTLP sink (accepts and discards) took ${sink.requests} export requests, ${f(sink.bytes / 1024)} KiB in all.`,
  ];
}
