// `npm run bench:profile`: a CPU profile of the data plane's shards under the keep-alive load of `npm run bench`,
// summarised as the functions with the most self time. Use it before and after a hot-path change.

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

ensureTools();
const dir = mkdtempSync(join(tmpdir(), 'portico-prof-'));
process.env.PORTICO_PROF = dir;
const backend = start('backend', binary('nginx'), ['-p', dir, '-c', nginxBackendConf(dir), '-g', 'daemon off;']);
const portico = await startPortico(dir, 1);
try {
  await portico.configure(singleRoute(19013));
  await waitForPort('127.0.0.1', BACKEND_PORT);
  await wrk('http://127.0.0.1:19013/', { threads: 2, connections: 64, seconds: 2 });
  const result = await wrk('http://127.0.0.1:19013/', { threads: 2, connections: 64, seconds: 8 });
  console.log(`requests/s under profile (1 shard): ${result.rps}, non-2xx ${result.non2xx}`);
} finally {
  await portico.process.stop();
  await backend.stop();
}
const self = new Map<string, number>();
let total = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[] };
  for (const node of profile.nodes) {
    const where = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '');
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
}
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[2] ?? 40));
for (const [key, hits] of top) console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${key}`);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
