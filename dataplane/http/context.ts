// Per-request state carried from the handler to the @fastify/reply-from hooks (which only receive the Fastify
// request). One object per proxied request, with a fixed shape.

import type { Observation } from '../core/observe.ts';
import type { Span } from '../../shared/telemetry/span.ts';
import type { ShardTracing } from '../telemetry/tracing.ts';
import type { AttemptOwner } from '../upstream/exchange.ts';
import type { BackendRuntime, EndpointPool } from '../upstream/registry.ts';
import type { CompiledBackendRef, CompiledRule } from './rules.ts';
import type { CompiledListener } from './tables.ts';

/** As an `AttemptOwner`: the upstream attempt in flight, cancelled when the client resets or the request expires. */
export interface RequestContext extends AttemptOwner {
  listener: CompiledListener;
  rule: CompiledRule;
  ref: CompiledBackendRef;
  backend: BackendRuntime;
  /** Host header to send upstream: the client's, or the URLRewrite hostname. */
  upstreamHost: string;
  /** The client's Host header as received, for X-Forwarded-Host. */
  clientHost: string | undefined;
  /** The endpoint session persistence chose (GEP-1619), for every attempt; null: the dispatcher picks. */
  pinned: EndpointPool | null;
  /** A response header handing the client a new session token; '' when none. */
  sessionHeader: string;
  sessionValue: string;
  /** The request's Origin when the rule has a CORS policy and allows it; null otherwise. */
  corsOrigin: string | null;
  /** performance.now() when the first upstream attempt started. */
  upstreamStart: number;
  /** Set when the request timeout answered 504 before the upstream did. */
  timedOut: boolean;
  timer: NodeJS.Timeout | null;
  /** Request id, trace and access-log fields. */
  obs: Observation;
  /** The shard's tracing when this request is sampled; null otherwise. */
  tracing: ShardTracing | null;
  /** The client span of the attempt in flight (sampled requests only). */
  span: Span | null;
  /** The upstream path and the method (for client spans). */
  path: string;
  method: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    portico: RequestContext | null;
  }
}
