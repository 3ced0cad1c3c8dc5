// The operator's admin endpoint: /healthz, /readyz (the first configuration reached the data plane), /status (every
// status this operator computed, as YAML, plus files that do not parse in standalone mode), /metrics.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { stringify } from 'yaml';
import type { FileError } from '../standalone/file-provider.ts';
import type { StoredStatus } from '../status/status-board.ts';

export interface OperatorAdminSources {
  ready(): boolean;
  statuses(): StoredStatus[];
  fileErrors(): FileError[];
  registry: Registry;
}

export function renderStatusYaml(statuses: StoredStatus[], fileErrors: FileError[]): string {
  const docs = statuses.map((s) =>
    stringify({
      kind: s.kind,
      metadata: { ...(s.namespace ? { namespace: s.namespace } : {}), name: s.name, generation: s.generation },
      status: s.status,
    }),
  );
  if (fileErrors.length > 0) docs.unshift(stringify({ fileErrors }));
  return docs.join('---\n');
}

export async function startOperatorAdmin(
  address: string,
  port: number,
  sources: OperatorAdminSources,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      case '/readyz': {
        const ok = sources.ready();
        return void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      }
      case '/status':
        return void res
          .writeHead(200, { 'content-type': 'application/yaml' })
          .end(renderStatusYaml(sources.statuses(), sources.fileErrors()));
      case '/metrics':
        sources.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': sources.registry.contentType }).end(text),
          (error: Error) => res.writeHead(500).end(error.message),
        );
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try /healthz, /readyz, /status or /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve());
  });
  const bound = server.address();
  return { server, port: typeof bound === 'object' && bound !== null ? bound.port : port };
}
