// `npm run bench`: Portico's data plane (2 shards) against nginx (2 workers) and HAProxy (2 threads), all in front of
// the same nginx backend, measured with wrk in the same run on the same machine. Prints a table of medians and
// ratios; `-- --record` appends it, dated, to bench/RESULTS.md. Method: ../shared/research/perf-anchors.md.
//
// Scenarios:
//   1. keep-alive, small body, 64 connections (throughput, and requests per proxy core-second);
//   2. one connection (added latency: p50, p99);
//   3. 10k routes over 1000 hostnames hit uniformly, against the same load on one catch-all route.

import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, residentMiB, start, waitForPort } from './lib/processes.ts';
import type { Running } from './lib/processes.ts';
import { BACKEND_PORT, haproxyConf, nginxBackendConf, nginxProxyConf, uniformRoutesScript } from './lib/references.ts';
import { manyRoutes, singleRoute, startPortico } from './lib/portico.ts';
import { binary, ensureTools } from './lib/tools.ts';
import { wrk } from './lib/wrk.ts';
import type { WrkResult } from './lib/wrk.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    record: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const PORTS = { nginx: 19001, haproxy: 19002, portico: 19003, nginx10k: 19005 };
const HOSTS = 1000;
const PATHS = 10;

interface Sample extends WrkResult {
  cpu: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(target: Running, url: string, o: Parameters<typeof wrk>[1]): Promise<Sample> {
  const before = cpuSeconds(target.pids());
  const result = await wrk(url, o);
  const cpu = (cpuSeconds(target.pids()) - before) / o.seconds;
  if (result.errors > 0 || result.non2xx > 0)
    console.warn(`  ${target.name}: ${result.errors} socket errors, ${result.non2xx} non-2xx`);
  return { ...result, cpu };
}

function summarize(samples: Sample[]) {
  return {
    rps: median(samples.map((s) => s.rps)),
    p50: median(samples.map((s) => s.p50ms)),
    p99: median(samples.map((s) => s.p99ms)),
    cpu: median(samples.map((s) => s.cpu)),
    errors: samples.reduce((a, s) => a + s.errors + s.non2xx, 0),
  };
}

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-'));
  const running: Running[] = [];
  try {
    const nginx = binary('nginx');
    const backend = start('backend', nginx, ['-p', dir, '-c', nginxBackendConf(dir), '-g', 'daemon off;']);
    running.push(backend);
    const nginxProxy = start('nginx', nginx, [
      '-p',
      dir,
      '-c',
      nginxProxyConf(dir, PORTS.nginx, 2),
      '-g',
      'daemon off;',
    ]);
    const haproxy = start('haproxy', binary('haproxy'), ['-f', haproxyConf(dir, PORTS.haproxy, 2), '-db']);
    const nginx10k = start('nginx-10k', nginx, [
      '-p',
      dir,
      '-c',
      nginxProxyConf(dir, PORTS.nginx10k, 2, { hosts: HOSTS, pathsPerHost: PATHS }),
      '-g',
      'daemon off;',
    ]);
    const portico = await startPortico(dir, 2);
    running.push(nginxProxy, haproxy, nginx10k, portico.process);
    await portico.configure(singleRoute(PORTS.portico));
    for (const port of [BACKEND_PORT, PORTS.nginx, PORTS.haproxy, PORTS.nginx10k, PORTS.portico])
      await waitForPort('127.0.0.1', port);

    const targets = [
      { name: 'nginx', proc: nginxProxy, url: `http://127.0.0.1:${PORTS.nginx}/` },
      { name: 'haproxy', proc: haproxy, url: `http://127.0.0.1:${PORTS.haproxy}/` },
      { name: 'portico', proc: portico.process, url: `http://127.0.0.1:${PORTS.portico}/` },
    ];
    console.log(`warming up (${targets.length} targets)…`);
    for (const t of targets) await wrk(t.url, { threads: 2, connections: 64, seconds: 2 });

    const throughput = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    const latency = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}/${ROUNDS}: 64 connections, then 1 connection`);
      for (const t of targets)
        throughput.get(t.name)!.push(await measure(t.proc, t.url, { threads: 2, connections: 64, seconds: SECONDS }));
      for (const t of targets)
        latency.get(t.name)!.push(await measure(t.proc, t.url, { threads: 1, connections: 1, seconds: SECONDS }));
    }

    // Resident memory after the load, with one route (Portico: its one process, all shards included).
    const memoryOneRoute = Object.fromEntries(targets.map((x) => [x.name, residentMiB(x.proc.pids())]));

    console.log(`10k routes: ${HOSTS} hostnames × ${PATHS} paths, uniform`);
    const script = uniformRoutesScript(dir, HOSTS, PATHS);
    const oneRoute: Sample[] = [];
    const tenK: Sample[] = [];
    const nginxTenK: Sample[] = [];
    const routes = manyRoutes(PORTS.portico, HOSTS, PATHS);
    for (let round = 1; round <= ROUNDS; round++) {
      await portico.configure(singleRoute(PORTS.portico));
      oneRoute.push(
        await measure(portico.process, `http://127.0.0.1:${PORTS.portico}`, {
          threads: 2,
          connections: 64,
          seconds: SECONDS,
          script,
        }),
      );
      await portico.configure(routes);
      tenK.push(
        await measure(portico.process, `http://127.0.0.1:${PORTS.portico}`, {
          threads: 2,
          connections: 64,
          seconds: SECONDS,
          script,
        }),
      );
      nginxTenK.push(
        await measure(nginx10k, `http://127.0.0.1:${PORTS.nginx10k}`, {
          threads: 2,
          connections: 64,
          seconds: SECONDS,
          script,
        }),
      );
    }
    const memoryTenK = { nginx: residentMiB(nginx10k.pids()), portico: residentMiB(portico.process.pids()) };

    const t = Object.fromEntries(targets.map((x) => [x.name, summarize(throughput.get(x.name)!)]));
    const l = Object.fromEntries(targets.map((x) => [x.name, summarize(latency.get(x.name)!)]));
    const best = Math.max(t.nginx.rps, t.haproxy.rps);
    const perCore = (s: ReturnType<typeof summarize>) => (s.cpu > 0 ? s.rps / s.cpu : 0);
    const one = summarize(oneRoute);
    const ten = summarize(tenK);
    const ng10 = summarize(nginxTenK);
    const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
    const lines = [
      `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${process.version}, ${ROUNDS} rounds × ${SECONDS} s, medians; load average at the end ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
      '',
      '| scenario | nginx (2 workers) | HAProxy (2 threads) | Portico (2 shards) | Portico ÷ nginx | Portico ÷ best | goal |',
      '|---|---|---|---|---|---|---|',
      `| keep-alive, 64 conns: requests/s | ${f(t.nginx.rps)} | ${f(t.haproxy.rps)} | ${f(t.portico.rps)} | ${f(t.portico.rps / t.nginx.rps, 2)} | ${f(t.portico.rps / best, 2)} | ≥ 0.6 × nginx |`,
      `| … requests per proxy core-second | ${f(perCore(t.nginx))} | ${f(perCore(t.haproxy))} | ${f(perCore(t.portico))} | ${f(perCore(t.portico) / perCore(t.nginx), 2)} | | |`,
      `| … proxy CPU (cores busy) | ${f(t.nginx.cpu, 2)} | ${f(t.haproxy.cpu, 2)} | ${f(t.portico.cpu, 2)} | | | |`,
      `| 1 conn: p50 ms | ${f(l.nginx.p50, 3)} | ${f(l.haproxy.p50, 3)} | ${f(l.portico.p50, 3)} | ${f(l.portico.p50 / l.nginx.p50, 2)} | | |`,
      `| 1 conn: p99 ms | ${f(l.nginx.p99, 3)} | ${f(l.haproxy.p99, 3)} | ${f(l.portico.p99, 3)} | ${f(l.portico.p99 / l.nginx.p99, 2)} | | ≤ 1 ms |`,
      `| ${HOSTS * PATHS} routes / ${HOSTS} hosts, uniform: requests/s | ${f(ng10.rps)} | — | ${f(ten.rps)} | ${f(ten.rps / ng10.rps, 2)} | | |`,
      `| Portico 10k routes ÷ Portico 1 route (same load) | | | ${f(ten.rps)} ÷ ${f(one.rps)} = ${f(ten.rps / one.rps, 2)} | | | ≥ 0.9 |`,
      `| resident memory after the load, 1 route: MiB | ${f(memoryOneRoute.nginx, 1)} | ${f(memoryOneRoute.haproxy, 1)} | ${f(memoryOneRoute.portico, 1)} | ${f(memoryOneRoute.portico / memoryOneRoute.nginx, 1)} | | |`,
      `| resident memory after the load, ${HOSTS * PATHS} routes: MiB | ${f(memoryTenK.nginx, 1)} | — | ${f(memoryTenK.portico, 1)} | ${f(memoryTenK.portico / memoryTenK.nginx, 1)} | | |`,
      '',
      `Errors or non-2xx across all runs: nginx ${t.nginx.errors + l.nginx.errors}, HAProxy ${t.haproxy.errors + l.haproxy.errors}, Portico ${t.portico.errors + l.portico.errors + one.errors + ten.errors}. wrk, the backend and the proxy share the machine's cores.`,
      '',
    ];
    console.log(`\n${lines.join('\n')}`);
    if (flags.record) {
      appendFileSync(new URL('./RESULTS.md', import.meta.url), `${lines.join('\n')}\n`);
      console.log('appended to bench/RESULTS.md');
    }
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
