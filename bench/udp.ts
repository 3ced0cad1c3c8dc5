// `node bench/udp.ts`: Portico's UDPRoute against nginx `stream` (UDP, 2 workers) in front of the same UDP echo
// backend. A load process keeps a window of datagrams in flight over several client sockets (each one a session) and
// counts the echoes; alternating rounds, medians of datagrams/s and of each proxy's CPU time per datagram.
//
//   node bench/udp.ts [--seconds 4] [--rounds 3]
//   node bench/udp.ts --echo PORT | --load PORT SECONDS   (the helper processes it starts)

import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPortico } from './lib/portico.ts';
import { cpuSeconds, start } from './lib/processes.ts';
import type { Running } from './lib/processes.ts';
import { binary, ensureTools } from './lib/tools.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    echo: { type: 'string' },
    load: { type: 'string' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
});
const ECHO_PORT = 19200;
const PORTS = { nginx: 19201, portico: 19202 };
const CLIENTS = 8;
const WINDOW = 16;

function echo(port: number): void {
  const s = createSocket({ type: 'udp4', reusePort: true });
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(port, '127.0.0.1');
}

/** Keeps WINDOW datagrams in flight per client socket; a lost one is replaced after 50 ms. Prints the echo count. */
async function load(port: number, seconds: number): Promise<void> {
  const payload = Buffer.alloc(64, 0x61);
  let echoes = 0;
  const sockets = Array.from({ length: CLIENTS }, () => createSocket('udp4'));
  for (const s of sockets) {
    let lastEcho = Date.now();
    s.on('message', () => {
      echoes++;
      lastEcho = Date.now();
      s.send(payload, port, '127.0.0.1');
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    for (let i = 0; i < WINDOW; i++) s.send(payload, port, '127.0.0.1');
    const refill = setInterval(() => {
      if (Date.now() - lastEcho > 50) for (let i = 0; i < WINDOW; i++) s.send(payload, port, '127.0.0.1');
    }, 50);
    refill.unref();
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  process.stdout.write(`${echoes}\n`);
  process.exit(0);
}

async function run(command: string, args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) =>
    execFile(command, args, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(tmpdir(), 'portico-udp-'));
  const running: Running[] = [];
  let publisher: { close(): void } | undefined;
  try {
    running.push(start('echo', process.execPath, [import.meta.filename, '--echo', String(ECHO_PORT)]));
    const conf = join(dir, 'udp.conf');
    writeFileSync(
      conf,
      `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 2;
pid ${dir}/udp.pid;
error_log ${dir}/udp-error.log warn;
events { worker_connections 8192; }
stream { server { listen 127.0.0.1:${PORTS.nginx} udp reuseport; proxy_pass 127.0.0.1:${ECHO_PORT}; proxy_timeout 10s; } }
`,
    );
    const nginx = start('nginx-stream-udp', binary('nginx'), ['-p', dir, '-c', conf, '-g', 'daemon off;']);
    running.push(nginx);
    const portico = await startPortico(dir, 2);
    publisher = portico.publisher;
    running.push(portico.process);
    const l = {
      key: 'bench/gw/udp',
      source: { kind: 'Gateway', namespace: 'bench', name: 'gw' },
      address: '127.0.0.1',
      port: PORTS.portico,
      protocol: 'UDP' as const,
    };
    const b = {
      key: 'bench/echo:1/udp',
      source: { kind: 'Service', namespace: 'bench', name: 'echo', port: 1 },
      protocol: 'udp' as const,
      endpoints: [{ address: '127.0.0.1', port: ECHO_PORT }],
    };
    await portico.configure({
      listeners: [l],
      backends: [b],
      httpRoutes: [],
      certificates: [],
      streamRoutes: [
        {
          key: 'udproute/bench/u',
          source: { kind: 'UDPRoute', namespace: 'bench', name: 'u' },
          rank: 0,
          parents: [{ listenerKey: l.key, hostnames: [] }],
          backends: [{ backendKey: b.key, weight: 1, filters: [] }],
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 1000));
    const targets = [
      { name: 'nginx stream', proc: nginx, port: PORTS.nginx },
      { name: 'Portico UDPRoute', proc: portico.process, port: PORTS.portico },
    ];
    const seconds = Number(values.seconds);
    const results = new Map<string, Array<{ pps: number; cpuUs: number }>>();
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
        const before = cpuSeconds(t.proc.pids());
        const echoes = Number(
          await run(process.execPath, [import.meta.filename, '--load', String(t.port), String(seconds)]),
        );
        const cpu = cpuSeconds(t.proc.pids()) - before;
        // Each echo crossed the proxy twice (there and back).
        results.set(t.name, [
          ...(results.get(t.name) ?? []),
          { pps: echoes / seconds, cpuUs: echoes > 0 ? (cpu / (2 * echoes)) * 1e6 : NaN },
        ]);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log('| proxy | echoes/s (64 B, 8 sessions × 16 in flight) | proxy CPU µs per datagram |\n|---|---|---|');
    for (const [name, xs] of results)
      console.log(
        `| ${name} | ${median(xs.map((x) => x.pps)).toFixed(0)} | ${median(xs.map((x) => x.cpuUs)).toFixed(1)} |`,
      );
  } finally {
    publisher?.close();
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.echo !== undefined) echo(Number(values.echo));
else if (values.load !== undefined) await load(Number(values.load), Number(positionals[0]));
else {
  await main();
  process.exit(0);
}
