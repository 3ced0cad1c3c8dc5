// `npm run bench`: Portico's data plane (2 shards) against nginx (2 workers), HAProxy (2 threads) and a bare
// llhttp-on-sockets proxy (bench/ceiling-proxy.ts, 2 threads: the ceiling of what Node allows), all in front of the
// same nginx backend; and Portico's TCPRoute against nginx `stream` (2 workers). Measured with wrk in the same run on
// the same machine, in alternating rounds (the order of the proxies rotates each round). Prints a table of medians,
// ratios against nginx and the goals of issue 9; `-- --record` appends it, dated, to bench/RESULTS.md.
// Method: ../shared/research/perf-anchors.md.
//
// Scenarios:
//   1. HTTP keep-alive, small body, 64 connections: requests/s, and requests per proxy core-second (each proxy
//      process's CPU time, all its threads and worker processes);
//   2. HTTP, a new connection per request (64 at a time);
//   3. HTTP, one connection: p50 and p99 (÷ nginx's p99 in the same run);
//   4. TCP keep-alive (64 connections) and a new connection per request, Portico TCPRoute ÷ nginx stream;
//   5. resident memory after the load, one route;
//   6. 10k routes over 1000 hostnames hit uniformly, against the same load on one catch-all route (not with --quick);
//   7. tracing: keep-alive with tracing off, and with an XTelemetryPolicy record at 0 % and 1 % sampling exporting to
//      an OTLP sink that discards (lib/tracing-rows.ts).
//
// Flags: --seconds N (per measurement, default 8), --rounds N (default 3), --quick (1 round × 2 s, no 10k routes),
// --record, --note "text" (a line under the recorded heading: what ran alongside, which commit is the "before"),
// --only tracing (the backend, Portico and scenario 7 alone; --record then appends only its table).

import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { manyRoutes, singleRoute, startPortico } from './lib/portico.ts';
import { cpuSeconds, residentMiB, start, waitForPort } from './lib/processes.ts';
import type { Running } from './lib/processes.ts';
import {
  BACKEND_PORT,
  haproxyConf,
  nginxBackendConf,
  nginxProxyConf,
  nginxStreamConf,
  uniformRoutesScript,
} from './lib/references.ts';
import { binary, ensureTools } from './lib/tools.ts';
import { tracingRows } from './lib/tracing-rows.ts';
import { wrk } from './lib/wrk.ts';
import type { WrkResult } from './lib/wrk.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    note: { type: 'string' },
    only: { type: 'string' },
  },
});
if (flags.only !== undefined && flags.only !== 'tracing')
  throw new Error(`--only ${flags.only}: only "tracing" is known`);
const SECONDS = flags.quick ? 2 : Number(flags.seconds);
const ROUNDS = flags.quick ? 1 : Number(flags.rounds);
const PORTS = {
  nginx: 19001,
  haproxy: 19002,
  portico: 19003,
  ceiling: 19004,
  nginx10k: 19005,
  nginxStream: 19006,
  porticoTcp: 19007,
};
const HOSTS = 1000;
const PATHS = 10;
const WORKERS = 2;

interface Sample extends WrkResult {
  cpu: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rotate = <T>(xs: T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]);

async function measure(target: Running, url: string, o: Parameters<typeof wrk>[1]): Promise<Sample> {
  const before = cpuSeconds(target.pids());
  const result = await wrk(url, o);
  const cpu = (cpuSeconds(target.pids()) - before) / o.seconds;
  if (result.errors > 0 || result.non2xx > 0)
    console.warn(
      `  ${target.name} (${url}, ${o.connections} connections${o.close ? ', a new one per request' : ''}): ${result.errors} socket errors, ${result.non2xx} non-2xx`,
    );
  return { ...result, cpu };
}

function summarize(samples: Sample[]) {
  return {
    rps: median(samples.map((s) => s.rps)),
    p50: median(samples.map((s) => s.p50ms)),
    p99: median(samples.map((s) => s.p99ms)),
    cpu: median(samples.map((s) => s.cpu)),
    perCore: median(samples.map((s) => (s.cpu > 0 ? s.rps / s.cpu : 0))),
    errors: samples.reduce((a, s) => a + s.errors + s.non2xx, 0),
  };
}
type Summary = ReturnType<typeof summarize>;

interface Target {
  name: string;
  proc: Running;
  url: string;
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  ensureTools();
  const loadAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-'));
  const running: Running[] = [];
  let publisher: { close(): void } | undefined;
  const nginx = binary('nginx');
  const nginxProcess = (name: string, conf: string) => {
    const r = start(name, nginx, ['-p', dir, '-c', conf, '-g', 'daemon off;']);
    running.push(r);
    return r;
  };
  try {
    nginxProcess('backend', nginxBackendConf(dir));
    if (flags.only === 'tracing') return await onlyTracing(dir, running, loadAtStart);
    const nginxProxy = nginxProcess('nginx', nginxProxyConf(dir, PORTS.nginx, WORKERS));
    const nginxStream = nginxProcess('nginx-stream', nginxStreamConf(dir, PORTS.nginxStream, WORKERS));
    const haproxy = start('haproxy', binary('haproxy'), ['-f', haproxyConf(dir, PORTS.haproxy, WORKERS), '-db']);
    running.push(haproxy);
    const ceiling = start('ceiling', process.execPath, [
      new URL('./ceiling-proxy.ts', import.meta.url).pathname,
      '--port',
      String(PORTS.ceiling),
      '--threads',
      String(WORKERS),
      '--upstream',
      `127.0.0.1:${BACKEND_PORT}`,
    ]);
    running.push(ceiling);
    const nginx10k = flags.quick
      ? null
      : nginxProcess('nginx-10k', nginxProxyConf(dir, PORTS.nginx10k, WORKERS, { hosts: HOSTS, pathsPerHost: PATHS }));
    const portico = await startPortico(dir, WORKERS);
    publisher = portico.publisher;
    running.push(portico.process);
    const oneRouteConfig = singleRoute(PORTS.portico, PORTS.porticoTcp);
    await portico.configure(oneRouteConfig);
    for (const port of Object.entries(PORTS)
      .filter(([name]) => name !== 'nginx10k' || nginx10k !== null)
      .map(([, p]) => p))
      await waitForPort('127.0.0.1', port);
    await waitForPort('127.0.0.1', BACKEND_PORT);

    const http: Target[] = [
      { name: 'nginx', proc: nginxProxy, url: `http://127.0.0.1:${PORTS.nginx}/` },
      { name: 'haproxy', proc: haproxy, url: `http://127.0.0.1:${PORTS.haproxy}/` },
      { name: 'ceiling', proc: ceiling, url: `http://127.0.0.1:${PORTS.ceiling}/` },
      { name: 'portico', proc: portico.process, url: `http://127.0.0.1:${PORTS.portico}/` },
    ];
    const tcp: Target[] = [
      { name: 'nginx-stream', proc: nginxStream, url: `http://127.0.0.1:${PORTS.nginxStream}/` },
      { name: 'portico-tcp', proc: portico.process, url: `http://127.0.0.1:${PORTS.porticoTcp}/` },
    ];
    console.log(`warming up (${http.length + tcp.length} targets)…`);
    for (const t of [...http, ...tcp]) await wrk(t.url, { threads: 2, connections: 64, seconds: 2 });

    const scenarios = {
      keepAlive: { threads: 2, connections: 64, seconds: SECONDS },
      newConnection: { threads: 2, connections: 64, seconds: SECONDS, close: true },
      one: { threads: 1, connections: 1, seconds: SECONDS },
    };
    const samples = new Map<string, Sample[]>();
    const add = (key: string, s: Sample) => samples.set(key, [...(samples.get(key) ?? []), s]);
    for (let round = 0; round < ROUNDS; round++) {
      console.log(
        `round ${round + 1}/${ROUNDS} (load average ${loadavg()[0].toFixed(1)}): HTTP keep-alive, new connections, 1 connection; TCP keep-alive, new connections`,
      );
      for (const t of rotate(http, round)) add(`ka/${t.name}`, await measure(t.proc, t.url, scenarios.keepAlive));
      for (const t of rotate(http, round)) add(`new/${t.name}`, await measure(t.proc, t.url, scenarios.newConnection));
      for (const t of rotate(http, round)) add(`one/${t.name}`, await measure(t.proc, t.url, scenarios.one));
      for (const t of rotate(tcp, round)) add(`ka/${t.name}`, await measure(t.proc, t.url, scenarios.keepAlive));
      for (const t of rotate(tcp, round)) add(`new/${t.name}`, await measure(t.proc, t.url, scenarios.newConnection));
    }
    // Resident memory after the load, with one route (Portico: its one process, all shards and listeners included).
    const memory = Object.fromEntries([...http, ...tcp].map((x) => [x.name, residentMiB(x.proc.pids())]));

    let routes: { one: Summary; ten: Summary; nginx: Summary; memory: { nginx: number; portico: number } } | null =
      null;
    if (nginx10k !== null) {
      console.log(`10k routes: ${HOSTS} hostnames × ${PATHS} paths, uniform`);
      const script = uniformRoutesScript(dir, HOSTS, PATHS);
      const oneRoute: Sample[] = [];
      const tenK: Sample[] = [];
      const nginxTenK: Sample[] = [];
      const many = manyRoutes(PORTS.portico, HOSTS, PATHS);
      const load = { threads: 2, connections: 64, seconds: SECONDS, script };
      for (let round = 1; round <= ROUNDS; round++) {
        await portico.configure(oneRouteConfig);
        oneRoute.push(await measure(portico.process, `http://127.0.0.1:${PORTS.portico}`, load));
        await portico.configure(many);
        tenK.push(await measure(portico.process, `http://127.0.0.1:${PORTS.portico}`, load));
        nginxTenK.push(await measure(nginx10k, `http://127.0.0.1:${PORTS.nginx10k}`, load));
      }
      routes = {
        one: summarize(oneRoute),
        ten: summarize(tenK),
        nginx: summarize(nginxTenK),
        memory: { nginx: residentMiB(nginx10k.pids()), portico: residentMiB(portico.process.pids()) },
      };
    }

    console.log('tracing: off, 0 % and 1 % sampling');
    const tracing = await tracingRows(
      portico,
      oneRouteConfig,
      (o) => measure(portico.process, `http://127.0.0.1:${PORTS.portico}/`, o),
      ROUNDS,
      SECONDS,
    );

    const s = (key: string) => summarize(samples.get(key) ?? []);
    const ka = Object.fromEntries(http.map((x) => [x.name, s(`ka/${x.name}`)]));
    const nc = Object.fromEntries(http.map((x) => [x.name, s(`new/${x.name}`)]));
    const one = Object.fromEntries(http.map((x) => [x.name, s(`one/${x.name}`)]));
    const tka = Object.fromEntries(tcp.map((x) => [x.name, s(`ka/${x.name}`)]));
    const tnc = Object.fromEntries(tcp.map((x) => [x.name, s(`new/${x.name}`)]));

    const f = (n: number, d = 0) =>
      Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—';
    const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
    const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
    const r = {
      ka: ka.portico.rps / ka.nginx.rps,
      perCore: ka.portico.perCore / ka.nginx.perCore,
      nc: nc.portico.rps / nc.nginx.rps,
      p99: one.portico.p99 / one.nginx.p99,
      tka: tka['portico-tcp'].rps / tka['nginx-stream'].rps,
      tnc: tnc['portico-tcp'].rps / tnc['nginx-stream'].rps,
    };
    const row = (label: string, m: Record<string, Summary>, pick: (x: Summary) => number, d: number) =>
      `| ${label} | ${f(pick(m.nginx), d)} | ${f(pick(m.haproxy), d)} | ${f(pick(m.ceiling), d)} | ${f(pick(m.portico), d)} | ${f(pick(m.ceiling) / pick(m.nginx), 2)} | ${f(pick(m.portico) / pick(m.nginx), 2)} |`;
    const errorsOf = (name: string, groups: Array<Record<string, Summary>>) =>
      groups.reduce((a, g) => a + (g[name]?.errors ?? 0), 0);
    const lines = [
      `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${commit()}, ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${process.version}, ${ROUNDS} rounds × ${SECONDS} s, medians; load average at the start ${load(loadAtStart)}, at the end ${load(loadavg())}`,
      '',
      ...(flags.note ? [flags.note, ''] : []),
      `| HTTP | nginx (${WORKERS} workers) | HAProxy (${WORKERS} threads) | llhttp ceiling (${WORKERS} threads) | Portico (${WORKERS} shards) | ceiling ÷ nginx | Portico ÷ nginx |`,
      '|---|---|---|---|---|---|---|',
      row('keep-alive, 64 conns: requests/s', ka, (x) => x.rps, 0),
      row('… requests per proxy core-second', ka, (x) => x.perCore, 0),
      row('… proxy CPU (cores busy)', ka, (x) => x.cpu, 2),
      row('new connection per request, 64 at a time: requests/s', nc, (x) => x.rps, 0),
      row('1 conn: p50 ms', one, (x) => x.p50, 3),
      row('1 conn: p99 ms', one, (x) => x.p99, 3),
      `| resident memory after the load, 1 route: MiB | ${f(memory.nginx, 1)} | ${f(memory.haproxy, 1)} | ${f(memory.ceiling, 1)} | ${f(memory.portico, 1)} | | |`,
      '',
      `| TCP | nginx stream (${WORKERS} workers) | Portico TCPRoute (${WORKERS} shards) | Portico ÷ nginx stream |`,
      '|---|---|---|---|',
      `| keep-alive, 64 conns: requests/s | ${f(tka['nginx-stream'].rps)} | ${f(tka['portico-tcp'].rps)} | ${f(r.tka, 2)} |`,
      `| … requests per proxy core-second | ${f(tka['nginx-stream'].perCore)} | ${f(tka['portico-tcp'].perCore)} | ${f(tka['portico-tcp'].perCore / tka['nginx-stream'].perCore, 2)} |`,
      `| new connection per request, 64 at a time: requests/s | ${f(tnc['nginx-stream'].rps)} | ${f(tnc['portico-tcp'].rps)} | ${f(r.tnc, 2)} |`,
      '',
      '| goal (issue 9) | Portico | |',
      '|---|---|---|',
      `| HTTP keep-alive requests/s ≥ 0.6 × nginx | ${f(r.ka, 2)} | ${verdict(r.ka >= 0.6)} |`,
      `| HTTP requests per proxy core-second ≥ 0.5 × nginx | ${f(r.perCore, 2)} | ${verdict(r.perCore >= 0.5)} |`,
      `| HTTP new connection per request ≥ 0.6 × nginx | ${f(r.nc, 2)} | ${verdict(r.nc >= 0.6)} |`,
      `| p99 at 1 connection ≤ 1.5 × nginx's | ${f(r.p99, 2)} | ${verdict(r.p99 <= 1.5)} |`,
      `| TCP keep-alive ≥ 0.9 × nginx stream | ${f(r.tka, 2)} | ${verdict(r.tka >= 0.9)} |`,
      `| TCP new connection per request ≥ 0.8 × nginx stream | ${f(r.tnc, 2)} | ${verdict(r.tnc >= 0.8)} |`,
      `| resident memory after the load, 1 route ≤ 150 MiB | ${f(memory.portico, 1)} MiB | ${verdict(memory.portico <= 150)} |`,
      ...(routes === null
        ? []
        : [
            `| ${HOSTS * PATHS} routes ÷ 1 route, same load ≥ 0.9 | ${f(routes.ten.rps)} ÷ ${f(routes.one.rps)} = ${f(routes.ten.rps / routes.one.rps, 2)} | ${verdict(routes.ten.rps / routes.one.rps >= 0.9)} |`,
            '',
            `${HOSTS * PATHS} routes over ${HOSTS} hostnames, uniform: nginx ${f(routes.nginx.rps)} requests/s, Portico ${f(routes.ten.rps)} (${f(routes.ten.rps / routes.nginx.rps, 2)} × nginx); resident memory after it nginx ${f(routes.memory.nginx, 1)} MiB, Portico ${f(routes.memory.portico, 1)} MiB.`,
          ]),
      '',
      ...tracing,
      '',
      `Errors or non-2xx across all runs: nginx ${errorsOf('nginx', [ka, nc, one])}, HAProxy ${errorsOf('haproxy', [ka, nc, one])}, ceiling ${errorsOf('ceiling', [ka, nc, one])}, Portico ${errorsOf('portico', [ka, nc, one]) + (routes ? routes.one.errors + routes.ten.errors : 0)}, nginx stream ${errorsOf('nginx-stream', [tka, tnc])}, Portico TCP ${errorsOf('portico-tcp', [tka, tnc])}. wrk, the backend and the proxy share the machine's cores; the ratios compare proxies measured in the same rounds.`,
      '',
    ];
    console.log(`\n${lines.join('\n')}`);
    if (flags.record) {
      appendFileSync(new URL('./RESULTS.md', import.meta.url), `\n${lines.join('\n')}`);
      console.log('appended to bench/RESULTS.md');
    }
  } finally {
    publisher?.close();
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--only tracing`: Portico and the backend alone, the tracing rows, recorded alone with --record. */
async function onlyTracing(dir: string, running: Running[], loadAtStart: number[]): Promise<void> {
  const portico = await startPortico(dir, WORKERS);
  running.push(portico.process);
  try {
    const base = singleRoute(PORTS.portico);
    await portico.configure(base);
    await waitForPort('127.0.0.1', PORTS.portico);
    await waitForPort('127.0.0.1', BACKEND_PORT);
    const url = `http://127.0.0.1:${PORTS.portico}/`;
    await wrk(url, { threads: 2, connections: 64, seconds: 2 });
    const rows = await tracingRows(portico, base, (o) => measure(portico.process, url, o), ROUNDS, SECONDS);
    const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
    const lines = [
      `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — tracing rows only (--only tracing), ${commit()}, ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${process.version}, ${ROUNDS} rounds × ${SECONDS} s, medians; load average at the start ${load(loadAtStart)}, at the end ${load(loadavg())}`,
      '',
      ...(flags.note ? [flags.note, ''] : []),
      ...rows,
      '',
    ];
    console.log(`\n${lines.join('\n')}`);
    if (flags.record) {
      appendFileSync(new URL('./RESULTS.md', import.meta.url), `\n${lines.join('\n')}`);
      console.log('appended to bench/RESULTS.md');
    }
  } finally {
    portico.publisher.close();
  }
}

await main();
process.exit(0);
