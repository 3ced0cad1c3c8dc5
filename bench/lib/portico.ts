// Portico under benchmark: the real data plane process (2 shards), configured over its Unix socket by the real
// publisher with IR records built here.

import { join } from 'node:path';
import { Publisher } from '../../operator/publisher/publisher.ts';
import type { HttpMatch, HttpRoute } from '../../shared/ir/route.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { start } from './processes.ts';
import type { Running } from './processes.ts';
import { BACKEND_PORT } from './references.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface PorticoUnderTest {
  process: Running;
  publisher: Publisher;
  configure(records: SnapshotRecords): Promise<void>;
}

export async function startPortico(dir: string, shards: number): Promise<PorticoUnderTest> {
  const socket = join(dir, 'dataplane.sock');
  // Through the `portico` command, as a user runs it: the bench keeps working whatever serves HTTP/1.1 inside.
  const process_ = start('portico', process.execPath, [
    ...(process.env.PORTICO_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PORTICO_PROF] : []),
    join(ROOT, 'bin/portico.ts'),
    'dataplane',
    '--shards',
    String(shards),
    '--socket',
    socket,
    '--admin',
    '127.0.0.1:0',
    '--log-level',
    'warn',
  ]);
  const publisher = new Publisher({ socketPath: socket, instance: 'bench' });
  return {
    process: process_,
    publisher,
    async configure(records) {
      const result = await publisher.publish(records);
      if (result.outcome !== 'ack')
        throw new Error(`data plane refused the benchmark config: ${JSON.stringify(result.nack.problems.slice(0, 3))}`);
    },
  };
}

const backendRecord = {
  key: 'bench/backend:80',
  source: { kind: 'Service', namespace: 'bench', name: 'backend', port: 80 },
  protocol: 'http1' as const,
  endpoints: [{ address: '127.0.0.1', port: BACKEND_PORT }],
};

function listener(port: number) {
  return {
    key: `bench/gw/${port}`,
    source: { kind: 'Gateway', namespace: 'bench', name: 'gw' },
    address: '127.0.0.1',
    port,
    protocol: 'HTTP' as const,
  };
}

function route(
  key: string,
  listenerKey: string,
  hostnames: string[],
  path: HttpRoute['rules'][number]['matches'][number]['path'],
  rank: number,
  headerRule = false,
): HttpRoute {
  const matches: HttpMatch[] = [{ path, headers: [], queryParams: [] }];
  if (headerRule)
    matches.unshift({ path, headers: [{ type: 'Exact', name: 'x-tier', value: 'gold' }], queryParams: [] });
  return {
    key,
    source: { kind: 'HTTPRoute', namespace: 'bench', name: key },
    rank,
    parents: [{ listenerKey, hostnames }],
    rules: [{ index: 0, matches, filters: [], backends: [{ backendKey: backendRecord.key, weight: 1, filters: [] }] }],
  };
}

const tcpBackendRecord = {
  key: 'bench/backend:80/tcp',
  source: { kind: 'Service', namespace: 'bench', name: 'backend', port: 80 },
  protocol: 'tcp' as const,
  endpoints: [{ address: '127.0.0.1', port: BACKEND_PORT }],
};

/** One listener, one catch-all route; with `tcpPort`, also a TCP listener whose TCPRoute goes to the same backend. */
export function singleRoute(port: number, tcpPort?: number): SnapshotRecords {
  const l = listener(port);
  const records: SnapshotRecords = {
    listeners: [l],
    httpRoutes: [route('httproute/bench/all', l.key, [], { type: 'PathPrefix', value: '/' }, 0)],
    streamRoutes: [],
    backends: [backendRecord],
    certificates: [],
  };
  if (tcpPort !== undefined) {
    const t = { ...listener(tcpPort), protocol: 'TCP' as const };
    records.listeners.push(t);
    records.backends.push(tcpBackendRecord);
    records.streamRoutes.push({
      key: 'tcproute/bench/all',
      source: { kind: 'TCPRoute', namespace: 'bench', name: 'all' },
      rank: 0,
      parents: [{ listenerKey: t.key, hostnames: [] }],
      backends: [{ backendKey: tcpBackendRecord.key, weight: 1, filters: [] }],
    });
  }
  return records;
}

/** `hosts` × `pathsPerHost` routes: a third Exact, the rest PathPrefix, a third of those with a header match too. */
export function manyRoutes(port: number, hosts: number, pathsPerHost: number): SnapshotRecords {
  const l = listener(port);
  const routes: HttpRoute[] = [];
  for (let h = 0; h < hosts; h++) {
    for (let p = 0; p < pathsPerHost; p++) {
      const path =
        p % 3 === 1
          ? { type: 'Exact' as const, value: `/p${p}/item` }
          : { type: 'PathPrefix' as const, value: `/p${p}` };
      routes.push(route(`httproute/bench/h${h}-p${p}`, l.key, [`h${h}.bench.test`], path, routes.length, p % 3 === 2));
    }
  }
  return { listeners: [l], httpRoutes: routes, streamRoutes: [], backends: [backendRecord], certificates: [] };
}
