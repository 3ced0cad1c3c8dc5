// `npm run bench:profile`: a CPU profile of the data plane's shards under the keep-alive load of `npm run bench`,
// summarised as the functions with the most self time. Use it before and after a hot-path change.
//   npm run bench:profile -- [N] [--tcp] [--close]   N functions; --tcp: through the TCPRoute listener instead of the
//   HTTP one; --close: a new connection per request.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, waitForPort } from './lib/processes.ts';
import { BACKEND_PORT, nginxBackendConf } from './lib/references.ts';
import { singleRoute, startPortico } from './lib/portico.ts';
import { binary, ensureTools } from './lib/tools.ts';
import { wrk } from './lib/wrk.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

const tcp = process.argv.includes('--tcp');
const close = process.argv.includes('--close');
const topCount = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 40);

ensureTools();
const dir = mkdtempSync(join(tmpdir(), 'portico-prof-'));
process.env.PORTICO_PROF = dir;
const backend = start('backend', binary('nginx'), ['-p', dir, '-c', nginxBackendConf(dir), '-g', 'daemon off;']);
const portico = await startPortico(dir, 1);
try {
  await portico.configure(singleRoute(19013, 19014));
  await waitForPort('127.0.0.1', BACKEND_PORT);
  const url = `http://127.0.0.1:${tcp ? 19014 : 19013}/`;
  await wrk(url, { threads: 2, connections: 64, seconds: 2, close });
  const result = await wrk(url, { threads: 2, connections: 64, seconds: 8, close });
  console.log(`requests/s under profile (1 shard): ${result.rps}, non-2xx ${result.non2xx}`);
} finally {
  portico.publisher.close();
  const stopping = performance.now();
  await portico.process.stop();
  console.log(`data plane stopped in ${Math.round(performance.now() - stopping)} ms (profiles are written on exit)`);
  await backend.stop();
}
// One profile per thread: the shard's is the busy one (the supervisor idles while requests flow).
const profiles = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: Node[] })
  .map((p) => ({
    p,
    busy: p.nodes.filter((n) => n.callFrame.functionName !== '(idle)').reduce((a, n) => a + n.hitCount, 0),
  }))
  .sort((a, b) => b.busy - a.busy);
const self = new Map<string, number>();
let total = 0;
for (const { p: profile } of profiles.slice(0, 1)) {
  for (const node of profile.nodes) {
    if (node.callFrame.functionName === '(idle)') continue;
    const where = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '');
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
}
// Self time by owner: native work (syscalls, GC), Node's internals, each package, our own code.
const byOwner = new Map<string, number>();
for (const [key, hits] of self) {
  const where = key.slice(key.indexOf(' ') + 1);
  const owner = where.startsWith(':')
    ? 'native'
    : where.startsWith('node:')
      ? 'node internals'
      : where.startsWith('dataplane/') || where.startsWith('shared/')
        ? 'portico'
        : where
            .split('/')
            .slice(0, where.startsWith('@') ? 2 : 1)
            .join('/');
  byOwner.set(owner, (byOwner.get(owner) ?? 0) + hits);
}
console.log('self time by owner:');
for (const [owner, hits] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 10))
  console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${owner}`);
console.log('hottest functions:');
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, topCount);
for (const [key, hits] of top) console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${key}`);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
