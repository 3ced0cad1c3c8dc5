// The dispatcher @fastify/reply-from sends every upstream request through. reply-from only needs `.request()`
// (it accepts any object with one); ours resolves the synthetic backend origin and picks an endpoint per attempt.

import type { Dispatcher } from 'undici';
import type { UpstreamRegistry } from './registry.ts';

type RequestCallback = (err: Error | null, data?: Dispatcher.ResponseData) => void;

function noEndpoint(origin: string): Error {
  return Object.assign(new Error(`no endpoint available for ${origin}`), { code: 'PORTICO_NO_ENDPOINTS' });
}

export function createGatewayDispatcher(registry: UpstreamRegistry) {
  return {
    request(options: Dispatcher.RequestOptions & { origin: string }, callback: RequestCallback): void {
      const endpoint = registry.byOrigin(options.origin)?.endpoints.pick();
      if (endpoint === undefined) return void process.nextTick(callback, noEndpoint(options.origin));
      options.origin = endpoint.origin;
      endpoint.pool.request(options, callback as never);
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
    destroy(): Promise<void> {
      return Promise.resolve();
    },
  };
}
