// The operator's admin endpoint: /healthz, /readyz (the first configuration reached the data plane), /status (every
// status this operator computed, as YAML, plus files that do not parse in standalone mode), /explain (how the served
// configuration routes a request: `portico explain`), /metrics, and the console under /console (operator/console:
// the map, statuses and live traffic in a browser) when the mode provides one.

import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { stringify } from 'yaml';
import type { ReadonlyRecordIndex } from '../../shared/ir/delta.ts';
import { explain } from '../../shared/explain/explain.ts';
import { explainRequestFromQuery } from '../../shared/explain/request.ts';
import { createConsoleHandler } from '../console/server.ts';
import type { ConsoleHub } from '../console/hub.ts';
import type { FileError } from '../standalone/file-provider.ts';
import type { StoredStatus } from '../status/status-board.ts';

export interface OperatorAdminSources {
  ready(): boolean;
  statuses(): StoredStatus[];
  fileErrors(): FileError[];
  /** What the data plane serves (the last acknowledged records); null before the first acknowledgement. */
  servedRecords(): ReadonlyRecordIndex | null;
  registry: Registry;
  /** The console's state; stop it (which ends its event streams) before closing the server. */
  console?: ConsoleHub;
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
  const consoleHandler = sources.console === undefined ? null : createConsoleHandler(sources.console);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (consoleHandler?.handle(req, res, path)) return;
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
      case '/explain':
        return void answerExplain(res, sources, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
      case '/metrics':
        sources.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': sources.registry.contentType }).end(text),
          (error: Error) => res.writeHead(500).end(error.message),
        );
        return;
      default:
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('try /healthz, /readyz, /status, /explain, /metrics or /console/\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve());
  });
  const bound = server.address();
  return { server, port: typeof bound === 'object' && bound !== null ? bound.port : port };
}

function answerExplain(res: ServerResponse, sources: OperatorAdminSources, params: URLSearchParams): void {
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
  };
  const request = explainRequestFromQuery(params);
  if ('error' in request) return json(400, { error: request.error });
  const records = sources.servedRecords();
  if (records === null) return json(503, { error: 'the data plane has not acknowledged a configuration yet' });
  json(200, explain(records, request));
}
