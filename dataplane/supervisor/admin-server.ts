// The data plane's admin endpoint: /healthz (the process and at least one shard are alive), /readyz (a config was
// applied and a shard serves it), /metrics (every shard's prom-client registry summed, plus the supervisor's own).

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { AggregatorRegistry, Registry } from 'prom-client';

export interface AdminSources {
  healthy(): boolean;
  ready(): boolean;
  shardMetrics(): Promise<unknown[]>;
  ownRegistry: Registry;
}

export async function startAdminServer(
  address: string,
  port: number,
  sources: AdminSources,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? sources.healthy() : sources.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      return;
    }
    if (path === '/metrics') {
      sources
        .shardMetrics()
        .then(async (parts) => {
          const shards = AggregatorRegistry.aggregate(parts as never);
          const merged = Registry.merge([shards as Registry, sources.ownRegistry]);
          res.writeHead(200, { 'content-type': merged.contentType }).end(await merged.metrics());
        })
        .catch((error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve());
  });
  const bound = server.address();
  return { server, port: typeof bound === 'object' && bound !== null ? bound.port : port };
}
