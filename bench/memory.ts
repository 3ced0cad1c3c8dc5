// `npm run bench:memory`: what each part of Portico's footprint costs, measured in isolation. Each case runs in a
// fresh Node process: a bare process, then one that loads a module graph (a TypeScript file, Fastify, undici, …),
// each in the main thread and in a worker thread (a shard is a worker). Reported: resident memory (the process's;
// for a worker, what starting it added) and the isolate's V8 heap, after two full collections. The data plane's
// own per-isolate breakdown under load is bench/scale.ts --breakdown (the admin's /memory).
// Flags: --record (append the table to bench/RESULTS.md).

import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({ options: { record: { type: 'boolean', default: false } } });
const ROOT = new URL('../', import.meta.url).pathname;

/** What each case imports (package names resolve from the repository; paths are relative to it). */
const CASES: Array<[name: string, imports: string[]]> = [
  ['bare Node', []],
  ['a TypeScript file (type stripping)', ['./shared/ir/keys.ts']],
  ['pino', ['pino']],
  ['prom-client', ['prom-client']],
  ['node:http2', ['node:http2']],
  ['node:tls', ['node:tls']],
  ['undici', ['undici']],
  ['Fastify', ['fastify']],
  ['Fastify + @fastify/reply-from', ['fastify', '@fastify/reply-from']],
  ['re2js', ['re2js']],
  ['the shard worker, sources (nothing started)', ['./dataplane/http/tables.ts', './dataplane/h1/engine.ts']],
];

const PROGRAM = `
import { createRequire } from 'node:module';
import { getHeapStatistics } from 'node:v8';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
const require = createRequire(${JSON.stringify(`${ROOT}package.json`)});
const load = async (imports) => {
  for (const spec of imports)
    await import(spec.startsWith('./') ? new URL(spec, ${JSON.stringify(`file://${ROOT}`)}).href : spec.startsWith('node:') ? spec : require.resolve(spec));
  globalThis.gc(); globalThis.gc();
  const h = getHeapStatistics();
  return { heap: h.used_heap_size, reserved: h.total_heap_size, external: h.external_memory };
};
const [imports, inWorker] = JSON.parse(process.argv[1]);
if (!inWorker) {
  const heap = await load(imports);
  console.log(JSON.stringify({ rss: process.memoryUsage.rss(), ...heap }));
} else {
  globalThis.gc(); globalThis.gc();
  await new Promise((r) => setTimeout(r, 200));
  const before = process.memoryUsage.rss();
  const worker = new Worker(\`
    import { parentPort, workerData } from 'node:worker_threads';
    import { getHeapStatistics } from 'node:v8';
    const load = \${load.toString()};
    \${'const require = (await import("node:module")).createRequire(' + JSON.stringify(${JSON.stringify(`${ROOT}package.json`)}) + ');'}
    parentPort.postMessage(await load(workerData));
  \`, { eval: true, workerData: imports });
  const heap = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  await new Promise((r) => setTimeout(r, 300));
  globalThis.gc();
  console.log(JSON.stringify({ rss: process.memoryUsage.rss() - before, ...heap }));
  await worker.terminate();
}
`;

const MiB = 1024 * 1024;
interface Reading {
  rss: number;
  heap: number;
  reserved: number;
  external: number;
}

function run(imports: string[], inWorker: boolean): Reading {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', PROGRAM, JSON.stringify([imports, inWorker])],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').at(-1) as string) as Reading;
}

/** Median of three runs, by resident memory. */
function median(imports: string[], inWorker: boolean): Reading {
  const runs = [run(imports, inWorker), run(imports, inWorker), run(imports, inWorker)];
  return runs.sort((a, b) => a.rss - b.rss)[1];
}

const f = (bytes: number) => (bytes / MiB).toFixed(1);
const rows: string[] = [];
for (const [name, imports] of CASES) {
  const main = median(imports, false);
  const worker = median(imports, true);
  rows.push(
    `| ${name} | ${f(main.rss)} | ${f(main.heap)} / ${f(main.reserved)} | ${f(main.external)} | ${f(worker.rss)} | ${f(worker.heap)} / ${f(worker.reserved)} | ${f(worker.external)} |`,
  );
  console.log(rows.at(-1));
}
const lines = [
  `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — what each part costs (bench/memory.ts), ${process.version}, MiB, median of 3`,
  '',
  '| loaded | main thread: process RSS | main: heap used / reserved | main: external | worker thread: RSS it added | worker: heap used / reserved | worker: external |',
  '|---|---|---|---|---|---|---|',
  ...rows,
  '',
];
console.log(`\n${lines.join('\n')}`);
if (flags.record) appendFileSync(new URL('./RESULTS.md', import.meta.url), `${lines.join('\n')}\n`);
