// Portico in standalone mode as a user runs it, for the scale, memory and soak benchmarks: the `portico operator`
// (file mode, a generated folder of YAML) and the `portico dataplane` (2 shards) as two processes started through
// bin/portico.ts, an nginx backend, and readers of what both processes hold (RSS and open descriptors from /proc,
// each data-plane isolate from the admin's /memory). Ports are ephemeral; everything lives in one temp folder.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { IsolateMemory } from '../../dataplane/shard/memory.ts';
import { residentMiB, start, waitForPort } from './processes.ts';
import type { Running } from './processes.ts';
import { nginxBackendConf } from './references.ts';
import { binary } from './tools.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
/** Path rules per hostname: 100,000 routes over 10,000 hostnames, as the issue asks. */
export const PATHS_PER_HOST = 10;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface DataPlaneMemory {
  rss: number;
  maxRss: number;
  main: IsolateMemory;
  shards: Array<IsolateMemory | null>;
}

export interface Footprint {
  operatorMiB: number;
  dataPlaneMiB: number;
  operatorFds: number;
  dataPlaneFds: number;
}

/** One HTTPRoute in namespace `bench` on Gateway `gw`: `host` (none: every host), PathPrefix `path`, to `backend`:80. */
export function routeDoc(name: string, host: string | null, path: string, backend: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: bench }
spec:
  parentRefs: [{ name: gw }]
${host === null ? '' : `  hostnames: [${host}]\n`}  rules: [{ matches: [{ path: { type: PathPrefix, value: ${path} } }], backendRefs: [{ name: ${backend}, port: 80 }] }]
`;
}

/**
 * The folder: a Gateway with one HTTP listener, a Service with its EndpointSlice, and `routes` HTTPRoutes, each one
 * hostname (`h<i / 10>.bench.test`) and one PathPrefix (`/p<i % 10>`); one route is a catch-all (no hostname, `/`).
 * Written in files of 10,000 routes.
 */
/** GatewayClass `portico`, Gateway `bench/gw` (one HTTP listener on `address`:`port`), Service `bench/backend` → 127.0.0.1:`backendPort`. */
export function baseYaml(address: string, port: number, backendPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: portico }
spec: { controllerName: portico.dev/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: bench }
spec:
  gatewayClassName: portico
  addresses: [{ type: IPAddress, value: ${address} }]
  listeners: [{ name: http, protocol: HTTP, port: ${port}, allowedRoutes: { namespaces: { from: Same } } }]
---
apiVersion: v1
kind: Service
metadata: { name: backend, namespace: bench }
spec: { ports: [{ name: http, port: 80, targetPort: ${backendPort} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: backend, namespace: bench, labels: { kubernetes.io/service-name: backend } }
addressType: IPv4
ports: [{ name: http, port: ${backendPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
`;
}

function writeFolder(dir: string, routes: number, address: string, port: number, backendPort: number): void {
  writeFileSync(join(dir, 'base.yaml'), baseYaml(address, port, backendPort));
  if (routes === 1) {
    writeFileSync(join(dir, 'routes-0.yaml'), routeDoc('all', null, '/', 'backend'));
    return;
  }
  for (let file = 0; file * 10_000 < routes; file++) {
    const docs: string[] = [];
    for (let i = file * 10_000; i < Math.min(routes, (file + 1) * 10_000); i++)
      docs.push(
        routeDoc(`r${i}`, `h${Math.floor(i / PATHS_PER_HOST)}.bench.test`, `/p${i % PATHS_PER_HOST}`, 'backend'),
      );
    writeFileSync(join(dir, `routes-${file}.yaml`), docs.join('---\n'));
  }
}

export interface StandaloneBench {
  dir: string;
  url: string;
  routes: number;
  hosts: number;
  dataPlane: Running;
  operator: Running;
  /** Milliseconds from the operator's start to the last generated route answering 200. */
  firstServeMs: number;
  status(host: string, path: string): Promise<number>;
  /** Adds (or replaces) a route in a file of its own: `name` on `host`, PathPrefix `path` (`/` by default). */
  writeRoute(name: string, host: string, path?: string): void;
  removeRoute(name: string): void;
  dataPlaneMemory(): Promise<DataPlaneMemory>;
  /** The operator's V8 heap in use and reserved, bytes (its /metrics: prom-client's default process metrics). */
  operatorHeap(): Promise<{ used: number; total: number }>;
  footprint(): Footprint;
  stop(): Promise<void>;
}

export async function status(url: string, host: string, path = '/'): Promise<number> {
  try {
    const res = await request(`${url}${path}`, { headers: { host }, headersTimeout: 30_000, bodyTimeout: 30_000 });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export async function startStandaloneBench(options: {
  routes: number;
  address: string;
  shards?: number;
  /** Extra node flags for both processes (the launcher's own come first and are overridden by these). */
  nodeFlags?: string[];
  env?: NodeJS.ProcessEnv;
  /** Run the JavaScript build (`npm run build`, dist/bin/portico.js), as the container image does. */
  dist?: boolean;
}): Promise<StandaloneBench> {
  const portico = join(ROOT, options.dist ? 'dist/bin/portico.js' : 'bin/portico.ts');
  if (!existsSync(portico)) throw new Error(`${portico} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'portico-scale-'));
  const [port, backendPort, dataPlaneAdmin, operatorAdmin] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const routes = options.routes;
  const hosts = Math.max(1, Math.ceil(routes / PATHS_PER_HOST));
  const backend = start('backend', binary('nginx'), [
    '-p',
    dir,
    '-c',
    nginxBackendConf(dir, backendPort),
    '-g',
    'daemon off;',
  ]);
  const socket = join(dir, 'dataplane.sock');
  const env = options.env ?? process.env;
  const flags = options.nodeFlags ?? [];
  const dataPlane = start(
    'dataplane',
    process.execPath,
    [
      ...flags,
      portico,
      'dataplane',
      '--shards',
      String(options.shards ?? 2),
      '--socket',
      socket,
      '--admin',
      `127.0.0.1:${dataPlaneAdmin}`,
      '--log-level',
      'warn',
    ],
    { env },
  );
  const url = `http://${options.address}:${port}`;
  const files = join(dir, 'config');
  rmSync(files, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(files);
  writeFolder(files, routes, options.address, port, backendPort);
  await waitForPort('127.0.0.1', backendPort);
  await waitForPort('127.0.0.1', dataPlaneAdmin, 30_000);
  const started = performance.now();
  const operator = start(
    'operator',
    process.execPath,
    [
      ...flags,
      portico,
      'operator',
      '--mode',
      'file',
      '--dir',
      files,
      '--socket',
      socket,
      '--admin',
      `127.0.0.1:${operatorAdmin}`,
      '--log-level',
      'warn',
    ],
    { env },
  );
  try {
    return await untilServed();
  } catch (error) {
    await operator.stop();
    await dataPlane.stop();
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  async function untilServed(): Promise<StandaloneBench> {
    const lastHost = routes === 1 ? 'any.bench.test' : `h${hosts - 1}.bench.test`;
    const lastPath = routes === 1 ? '/' : `/p${(routes - 1) % PATHS_PER_HOST}`;
    const deadline = started + 600_000;
    while ((await status(url, lastHost, lastPath)) !== 200) {
      if (performance.now() > deadline) throw new Error(`${routes} routes not served after 600 s`);
      if (operator.child.exitCode !== null || dataPlane.child.exitCode !== null)
        throw new Error('a Portico process exited during the load');
      await new Promise((r) => setTimeout(r, 20));
    }
    const firstServeMs = performance.now() - started;
    const bench: StandaloneBench = {
      dir,
      url,
      routes,
      hosts,
      dataPlane,
      operator,
      firstServeMs,
      status: (host, path) => status(url, host, path),
      writeRoute: (name, host, path = '/') =>
        writeFileSync(join(files, `${name}.yaml`), routeDoc(name, host, path, 'backend')),
      removeRoute: (name) => rmSync(join(files, `${name}.yaml`), { force: true }),
      async dataPlaneMemory() {
        const res = await request(`http://127.0.0.1:${dataPlaneAdmin}/memory`);
        return (await res.body.json()) as DataPlaneMemory;
      },
      async operatorHeap() {
        const res = await request(`http://127.0.0.1:${operatorAdmin}/metrics`);
        const text = await res.body.text();
        const read = (name: string) =>
          Number(new RegExp(`^portico_operator_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
        return { used: read('nodejs_heap_size_used_bytes'), total: read('nodejs_heap_size_total_bytes') };
      },
      footprint: () => ({
        operatorMiB: residentMiB(operator.pids()),
        dataPlaneMiB: residentMiB(dataPlane.pids()),
        operatorFds: operator.pids().reduce((a, p) => a + openFds(p), 0),
        dataPlaneFds: dataPlane.pids().reduce((a, p) => a + openFds(p), 0),
      }),
      async stop() {
        await operator.stop();
        await dataPlane.stop();
        await backend.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return bench;
  }
}

/** VmRSS of one process, MiB (for a process started elsewhere). */
export function vmRssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? 0 : Number(match[1]) / 1024;
}
