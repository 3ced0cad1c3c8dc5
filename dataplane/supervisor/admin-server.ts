// The data plane's admin endpoint: /healthz (the process and at least one shard are alive), /readyz (a config was
// applied and a shard serves it), /metrics (every shard's metrics summed, plus the supervisor's own: exposition.ts),
// /explain (which listener and route match take a request: `portico explain --dataplane`), /memory (the process's
// resident memory and each isolate's heap: what the footprint is made of, bench/memory.ts reads it).

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { MetricJson } from '../shard/metrics.ts';
import { CONTENT_TYPE, renderMetrics, sumMetrics } from './exposition.ts';
import { explainRequestFromQuery } from '../../shared/explain/request.ts';
import type { ExplainRequest } from '../../shared/explain/request.ts';
import type { DataPlaneDecision } from '../../shared/explain/decision.ts';

export interface AdminSources {
  healthy(): boolean;
  ready(): boolean;
  shardMetrics(): Promise<unknown[]>;
  ownMetrics(): MetricJson[];
  explain(request: ExplainRequest): DataPlaneDecision;
  memory(): Promise<unknown>;
}

export async function startAdminServer(
  address: string,
  port: number,
  sources: AdminSources,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/explain') {
      const request = explainRequestFromQuery(new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
      const body = 'error' in request ? request : sources.explain(request);
      res
        .writeHead('error' in request ? 400 : 200, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(body)}\n`);
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? sources.healthy() : sources.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      return;
    }
    if (path === '/memory') {
      sources
        .memory()
        .then((body) => res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`))
        .catch((error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`));
      return;
    }
    if (path === '/metrics') {
      sources
        .shardMetrics()
        .then((parts) => {
          const text = renderMetrics(sumMetrics([...(parts as MetricJson[][]), sources.ownMetrics()]));
          res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(text);
        })
        .catch((error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /healthz, /readyz, /explain, /metrics or /memory\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve());
  });
  const bound = server.address();
  return { server, port: typeof bound === 'object' && bound !== null ? bound.port : port };
}
