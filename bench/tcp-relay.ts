// `node bench/tcp-relay.ts`: how a Node TCP proxy should copy bytes, measured rather than guessed. One proxy process
// per variant (one thread, no routing: only the copy loop), in front of the bench's nginx backend, driven by wrk over
// keep-alive connections, with a new connection per request, and with 1 MiB responses; alternating rounds, medians of
// the proxy's CPU time per request (less sensitive to a busy machine than requests/s) and requests/s. Variants:
// `pipe`; `relay` (`data`/`write` with explicit backpressure: what dataplane/l4/tcp-proxy.ts does); `onread` (the
// upstream socket reads into a 16 KiB buffer of its own instead of a Readable stream). Results: bench/RESULTS.md.
//
//   node bench/tcp-relay.ts [--seconds 4] [--rounds 3]
//   node bench/tcp-relay.ts --serve pipe|relay|onread --port N   (one proxy; what the benchmark starts)

import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, start, waitForPort } from './lib/processes.ts';
import type { Running } from './lib/processes.ts';
import { BACKEND_PORT, nginxBackendConf } from './lib/references.ts';
import { binary, ensureTools } from './lib/tools.ts';
import { wrk } from './lib/wrk.ts';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    port: { type: 'string' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
});

const VARIANTS = ['pipe', 'relay', 'onread'] as const;

function pipeVariant(client: Socket, upstream: Socket): void {
  client.pipe(upstream);
  upstream.pipe(client);
}

function relayVariant(client: Socket, upstream: Socket): void {
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.once('end', () => to.end());
  };
  relay(client, upstream);
  relay(upstream, client);
}

function serve(variant: string, port: number): void {
  const forward = variant === 'pipe' ? pipeVariant : relayVariant;
  createServer({ noDelay: true, allowHalfOpen: variant !== 'pipe' }, (client) => {
    const upstream = connect({
      host: '127.0.0.1',
      port: BACKEND_PORT,
      noDelay: true,
      allowHalfOpen: variant !== 'pipe',
    });
    forward(client, upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }).listen({ port, host: '127.0.0.1', backlog: 4096 });
}

async function measureAll(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(tmpdir(), 'portico-tcp-relay-'));
  const running: Running[] = [];
  try {
    running.push(start('backend', binary('nginx'), ['-p', dir, '-c', nginxBackendConf(dir), '-g', 'daemon off;']));
    const proxies = VARIANTS.map((v, i) => {
      const port = 19101 + i;
      const p = start(v, process.execPath, [import.meta.filename, '--serve', v, '--port', String(port)]);
      running.push(p);
      return { variant: v, port, proc: p };
    });
    for (const p of proxies) await waitForPort('127.0.0.1', p.port);
    await waitForPort('127.0.0.1', BACKEND_PORT);
    const seconds = Number(values.seconds);
    const results = new Map<string, Array<{ rps: number; cpuUs: number }>>();
    const modes = [
      { name: 'keep-alive', path: '/', close: false, connections: 64 },
      { name: 'new connection per request', path: '/', close: true, connections: 64 },
      { name: '1 MiB responses, 8 keep-alive connections', path: '/1m', close: false, connections: 8 },
    ];
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const mode of modes) {
        const order = round % 2 === 0 ? proxies : [...proxies].reverse();
        for (const p of order) {
          const before = cpuSeconds(p.proc.pids());
          const r = await wrk(`http://127.0.0.1:${p.port}${mode.path}`, {
            threads: 2,
            connections: mode.connections,
            seconds,
            close: mode.close,
          });
          const cpu = cpuSeconds(p.proc.pids()) - before;
          if (r.errors > 0 || r.non2xx > 0)
            console.warn(`  ${p.variant}: ${r.errors} socket errors, ${r.non2xx} non-2xx`);
          const key = `${mode.name}: ${p.variant}`;
          results.set(key, [...(results.get(key) ?? []), { rps: r.rps, cpuUs: (cpu / r.requests) * 1e6 }]);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log('| scenario: variant | requests/s | proxy CPU µs per request |\n|---|---|---|');
    for (const [key, xs] of results)
      console.log(
        `| ${key} | ${median(xs.map((x) => x.rps)).toFixed(0)} | ${median(xs.map((x) => x.cpuUs)).toFixed(1)} |`,
      );
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.serve !== undefined) serve(values.serve, Number(values.port));
else {
  await measureAll();
  process.exit(0);
}
