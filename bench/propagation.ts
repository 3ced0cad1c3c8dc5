// `npm run bench:propagation`: how long a route change takes to serve. For 100, 1k and 10k routes in a folder,
// write a file with one new route and time the first 200 on it, split into the operator's translate phase, the
// publish round trip over the Unix socket (which includes the data plane's validate and apply) and the data plane's
// apply alone, as the ack reports it. The data plane runs as its own process; the operator in this one, in file mode.
// Before the first probe, the data plane's request paths are warmed with 200 requests (half to a route already
// there, half to an unknown host, as the probe's polling makes them): a fresh data plane's first requests (first
// upstream connection, code not yet optimised) are not propagation, and they compete with the first applies; with 30
// probes that alone made the p99.
// `-- --record` appends the table to bench/RESULTS.md.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { appendFileSync } from 'node:fs';
import pino from 'pino';
import { startStandalone } from '../operator/standalone.ts';
import { start } from './lib/processes.ts';
import { baseYaml, routeDoc, status } from './lib/standalone.ts';
import type { PassReport } from '../operator/runtime/reconciler.ts';

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    probes: { type: 'string', default: '30' },
    record: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
  },
});
const ROOT = new URL('../', import.meta.url).pathname;
const ADDRESS = '127.10.200.1';
const PORT = 18280;

function folder(dir: string, routes: number, backendPort: number): void {
  writeFileSync(join(dir, 'base.yaml'), baseYaml(ADDRESS, PORT, backendPort));
  const docs: string[] = [];
  for (let i = 0; i < routes; i++) docs.push(routeDoc(`r${i}`, `h${i % 1000}.bench.test`, `/p${i}`, 'backend'));
  writeFileSync(join(dir, 'routes.yaml'), docs.join('---\n'));
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

interface Row {
  routes: number;
  total: number[];
  translate: number[];
  publish: number[];
  apply: number[];
}

async function measure(routes: number, probes: number, backendPort: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-prop-'));
  const socketPath = join(dir, 'dp.sock');
  const dataPlane = start('dataplane', process.execPath, [
    join(ROOT, 'dataplane/main.ts'),
    '--socket',
    socketPath,
    '--shards',
    '2',
    '--admin',
    '127.0.0.1:0',
    '--log-level',
    'warn',
  ]);
  const log = pino({ level: 'warn' });
  folder(dir, routes, backendPort);
  const operator = await startStandalone(
    Object.freeze({
      mode: 'file' as const,
      dir,
      socketPath,
      controllerName: 'portico.dev/gateway-controller',
      addressPool: '127.10.0.0/16',
      adminAddress: '127.0.0.1',
      adminPort: 0,
      translatorThreads: Number(flags.threads),
      instance: 'bench',
      logLevel: 'warn',
    }),
    log,
  );
  const row: Row = { routes, total: [], translate: [], publish: [], apply: [] };
  try {
    await operator.reconciler.whenPublished(operator.store.revision);
    const warm = performance.now();
    while ((await status(`http://${ADDRESS}:${PORT}`, 'h0.bench.test', '/p0')) !== 200) {
      if (performance.now() - warm > 30_000) throw new Error('the existing routes are not served after 30 s');
      await new Promise((r) => setTimeout(r, 1));
    }
    for (let i = 0; i < 200; i++)
      await status(`http://${ADDRESS}:${PORT}`, i % 2 === 0 ? 'h0.bench.test' : 'unknown.bench.test', '/p0');
    for (let i = 0; i < probes; i++) {
      const host = `probe${i}.bench.test`;
      const started = performance.now();
      let report: PassReport | null = null;
      const reported = new Promise<void>((resolve) => {
        const waitFor = () => {
          const revision = operator.store.revision;
          operator.reconciler.whenPublished(revision).then((r) => {
            report = r;
            resolve();
          });
        };
        const unsubscribe = operator.store.onChange(() => {
          unsubscribe();
          waitFor();
        });
      });
      writeFileSync(join(dir, `probe-${i}.yaml`), routeDoc(`probe${i}`, host, '/', 'backend'));
      while ((await status(`http://${ADDRESS}:${PORT}`, host, '/')) !== 200) {
        if (performance.now() - started > 30_000) throw new Error(`route ${host} not served after 30 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      row.total.push(performance.now() - started);
      await reported;
      const r = report as PassReport | null;
      if (r) {
        row.translate.push(r.translateMs);
        row.publish.push(r.publishMs);
        row.apply.push(r.applyMs);
      }
    }
  } finally {
    await operator.stop();
    await dataPlane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return row;
}

const { createServer } = await import('node:http');
const backend = createServer((_req, res) => res.end('ok'));
await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
const backendPort = (backend.address() as { port: number }).port;
const rows: Row[] = [];
for (const size of String(flags.sizes).split(',').map(Number)) {
  console.log(`${size} routes: ${flags.probes} probes…`);
  rows.push(await measure(size, Number(flags.probes), backendPort));
}
backend.close();

const f = (n: number) => n.toFixed(1);
const lines = [
  `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — route propagation (file change → first 200), ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${process.version}, translator threads ${flags.threads}, ${flags.probes} probes per size, ms; load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
  '',
  '| routes | total p50 | total p99 | translate p50 / p99 | publish round trip p50 / p99 | data-plane apply p50 / p99 | goal |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.routes} | ${f(pct(r.total, 50))} | ${f(pct(r.total, 99))} | ${f(pct(r.translate, 50))} / ${f(pct(r.translate, 99))} | ${f(pct(r.publish, 50))} / ${f(pct(r.publish, 99))} | ${f(pct(r.apply, 50))} / ${f(pct(r.apply, 99))} | p99 ≤ 50 |`,
  ),
  '',
  'Total includes the file watcher settling (the folder quiet for 10 ms, at most 100 ms after the first change) and the probe poll interval (≈1 ms). The publish round trip contains the data plane apply. 200 requests (an existing route, an unknown host) warm the data plane before the probes.',
  '',
];
console.log(`\n${lines.join('\n')}`);
if (flags.record) appendFileSync(new URL('./RESULTS.md', import.meta.url), `${lines.join('\n')}\n`);
process.exit(0);
