// RequestMirror: a copy of the request goes to the mirror backend and its response is thrown away. A mirror never
// delays or changes the main response: it starts after the main request is on its way and its errors are counted,
// not surfaced. Requests with a body are not mirrored (the body is streamed once, to the main backend).

import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { HttpMetrics } from './metrics.ts';
import type { Mirror } from './rules.ts';


function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function sendMirrors(
  mirrors: Mirror[],
  registry: UpstreamRegistry,
  request: { method: string; path: string; query: string; headers: IncomingHttpHeaders; upstreamHost: string },
  metrics: HttpMetrics,
): void {
  for (let i = 0; i < mirrors.length; i++) {
    const mirror = mirrors[i];
    if (mirror.fraction < 1 && Math.random() >= mirror.fraction) continue;
    if (hasBody(request.headers)) {
      metrics.mirror(mirror.backendKey, 'skipped');
      continue;
    }
    const endpoint = registry.backend(mirror.backendKey)?.endpoints.pick();
    if (endpoint === undefined || endpoint.pool === null) {
      metrics.mirror(mirror.backendKey, 'failed');
      continue;
    }
    const headers: Record<string, string | string[] | undefined> = { ...request.headers, host: request.upstreamHost };
    delete headers.connection;
    delete headers['keep-alive'];
    delete headers['transfer-encoding'];
    delete headers['content-length'];
    endpoint.pool
      .request({ path: request.query.length > 0 ? `${request.path}?${request.query}` : request.path, method: request.method as 'GET', headers })
      .then(
        (res) => {
          res.body.resume();
          metrics.mirror(mirror.backendKey, 'sent');
        },
        () => metrics.mirror(mirror.backendKey, 'failed'),
      );
  }
}
