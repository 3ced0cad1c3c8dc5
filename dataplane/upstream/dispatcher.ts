// The dispatcher @fastify/reply-from sends every upstream request through. reply-from only needs `.request()`
// (it accepts any object with one); ours resolves the synthetic backend origin, picks an endpoint per attempt, and
// runs the exchange on that endpoint's pool (see exchange.ts for why it is not `pool.request()`). The request the
// attempt belongs to (its `kAttemptOwner`) learns which exchange is in flight, so that a client's stream reset
// cancels it; an attempt of a request already cancelled (a retry timer that fired after the reset) never starts.

import type { Dispatcher } from 'undici';
import { NO_ENDPOINTS } from '../errors.ts';
import { Exchange, downstreamResetError, kAttemptOwner } from './exchange.ts';
import type { AttemptOwner, ExchangeCallback } from './exchange.ts';
import type { UpstreamRegistry } from './registry.ts';
import { endpointChosen } from '../telemetry/attempts.ts';

function noEndpoint(origin: string): Error {
  return Object.assign(new Error(`no endpoint available for ${origin}`), { code: NO_ENDPOINTS });
}

export function createGatewayDispatcher(registry: UpstreamRegistry) {
  return {
    request(options: Dispatcher.DispatchOptions & { origin: string }, callback: ExchangeCallback): void {
      const owner = (options.headers as { [kAttemptOwner]?: AttemptOwner } | undefined)?.[kAttemptOwner];
      if (owner?.cancelled) return void process.nextTick(callback, downstreamResetError());
      const backend = registry.byOrigin(options.origin);
      const endpoint = owner?.pinned ?? backend?.endpoints.pick();
      if (backend === undefined || endpoint === undefined || endpoint.pool === null)
        return void process.nextTick(callback, noEndpoint(options.origin));
      options.origin = endpoint.origin;
      endpointChosen(options.headers, endpoint.host, endpoint.port); // a sampled attempt's client span
      // reply-from hands the rule's backend timeout over as headersTimeout (and bodyTimeout); the exchange keeps it
      // with a precise timer of its own over the whole attempt, so undici's coarse ones are switched off.
      const timeoutMs = options.headersTimeout ?? 0;
      if (timeoutMs > 0) options.headersTimeout = options.bodyTimeout = 0;
      const exchange = new Exchange(options.method, backend.record.protocol === 'h2c', callback, timeoutMs);
      if (owner !== undefined) owner.upstream = exchange;
      endpoint.pool.dispatch(options, exchange);
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
    destroy(): Promise<void> {
      return Promise.resolve();
    },
  };
}
