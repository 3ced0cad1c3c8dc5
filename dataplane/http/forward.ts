// Forwarding with @fastify/reply-from. Its options are built once per compiled backend reference (not per request):
// the hooks read the per-request state from `request.portico`. reply-from's API-proxy defaults are switched off:
// its GET-on-503 retries (HTTPRoute `retry` goes through its `retryDelay` hook to the routing core's decision,
// core/retry.ts, the one the HTTP/1.1 engine asks) and its `rejectUnauthorized: false` (our own pools verify TLS).
// The request's context rides on the upstream header object under `kAttemptOwner` (reply-from copies it into every
// attempt; undici sends string keys only): the retry hook and the dispatcher find the request through it.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyReplyFromHooks } from '@fastify/reply-from';
import { addResponseCorsHeaders } from './cors.ts';
import { addSessionHeader, applyHeaderOps, setForwardedHeaders, stripHopByHop } from './headers.ts';
import type { HeaderBag } from './headers.ts';
import type { CompiledBackendRef, CompiledRule } from './rules.ts';
import type { HttpMetrics } from './metrics.ts';
import { NO_RETRY, replayableBody, retryDelay } from '../core/retry.ts';
import { PROXY_ERRORS, proxyErrorForUpstream, upstreamErrorCode } from '../errors.ts';
import { kAttemptOwner } from '../upstream/exchange.ts';
import type { BufferedBody, StreamedBody } from '../upstream/exchange.ts';
import { sendUpstreamResponse } from './respond.ts';
import type { RequestContext } from './context.ts';
import { awaitEndpoint, forgetEndpoint } from '../telemetry/attempts.ts';

type OwnedHeaders = HeaderBag & { [kAttemptOwner]?: RequestContext };

/** A sampled request's next attempt: its client span, whose context the upstream request carries. */
function startAttempt(ctx: RequestContext, headers: HeaderBag, attempt: number): void {
  const tracing = ctx.tracing;
  if (tracing === null || ctx.obs.server === null) return;
  const span = tracing.upstreamSpan(ctx.obs.server, {
    method: ctx.method,
    scheme: 'http',
    backend: ctx.backend.key,
    address: '',
    port: 0,
    path: ctx.path,
    attempt,
  });
  ctx.span = span;
  const traceparent = span.traceparent();
  headers.traceparent = traceparent;
  awaitEndpoint(traceparent, span);
}

function endAttempt(ctx: RequestContext, status: number, errorCode?: string): void {
  const span = ctx.span;
  if (span === null) return;
  ctx.span = null;
  forgetEndpoint(span.traceparent());
  ctx.obs.attemptEnded(ctx.tracing, span, status, errorCode);
}

type FromOptions = FastifyReplyFromHooks & { timeout?: number; retryDelay?: (args: RetryArgs) => number | null };
interface RetryArgs {
  err: { code?: string } | null;
  req: { body?: unknown; headers?: object };
  res: { statusCode: number; stream: NodeJS.ReadableStream } | null;
  attempt: number;
}

function rewriteRequestHeaders(request: FastifyRequest, headers: HeaderBag): HeaderBag {
  const ctx = request.portico!;
  stripHopByHop(headers);
  const method = request.raw.method;
  if (method === 'GET' || method === 'HEAD') {
    // Any body of a GET/HEAD is not forwarded (reply-from refuses it); its framing headers must go too.
    delete headers['content-length'];
  }
  headers.host = ctx.upstreamHost;
  setForwardedHeaders(headers, request.raw.socket.remoteAddress, ctx.listener.scheme, ctx.clientHost);
  if (ctx.rule.requestHeaders !== null) applyHeaderOps(headers, ctx.rule.requestHeaders);
  if (ctx.ref.requestHeaders !== null) applyHeaderOps(headers, ctx.ref.requestHeaders);
  ctx.obs.upstreamStart = performance.now();
  (headers as OwnedHeaders)[kAttemptOwner] = ctx;
  if (ctx.tracing !== null) startAttempt(ctx, headers, 1);
  return headers;
}

function rewriteHeaders(headers: HeaderBag, request: FastifyRequest): HeaderBag {
  const ctx = request.portico!;
  stripHopByHop(headers);
  if (ctx.rule.responseHeaders !== null) applyHeaderOps(headers, ctx.rule.responseHeaders);
  if (ctx.ref.responseHeaders !== null) applyHeaderOps(headers, ctx.ref.responseHeaders);
  if (ctx.corsOrigin !== null && ctx.rule.cors !== null) addResponseCorsHeaders(ctx.rule.cors, ctx.corsOrigin, headers);
  if (ctx.sessionValue !== '') addSessionHeader(headers, ctx.sessionHeader, ctx.sessionValue);
  return headers;
}

export function buildFromOptions(rule: CompiledRule, metrics: HttpMetrics): FromOptions {
  const retry = rule.retry;
  const options: FromOptions = {
    rewriteRequestHeaders,
    rewriteHeaders,
    getUpstream: (request: FastifyRequest) => request.portico!.backend.origin,
    onResponse(request: FastifyRequest, reply: FastifyReply, res: unknown) {
      const ctx = request.portico!;
      const r = res as { statusCode: number; stream: StreamedBody | BufferedBody };
      if (ctx.timer !== null) clearTimeout(ctx.timer);
      // Answered already (timed out) or nobody to answer (the client reset): the response is dropped.
      if (ctx.timedOut || ctx.cancelled) return void r.stream.destroy();
      endAttempt(ctx, r.statusCode);
      if (ctx.span === null && ctx.obs.upstreamStart > 0)
        ctx.obs.upstreamMs = performance.now() - ctx.obs.upstreamStart;
      metrics.upstreamResponse(ctx.backend.key, r.statusCode, (performance.now() - ctx.upstreamStart) / 1000);
      metrics.response(ctx.listener.key, ctx.rule.routeName, r.statusCode);
      sendUpstreamResponse(reply, r.statusCode, r.stream);
    },
    onError(reply: FastifyReply, { error }: { error: unknown }) {
      const ctx = reply.request.portico!;
      if (ctx.timer !== null) clearTimeout(ctx.timer);
      // Timed out (answered already) or cancelled (the client is gone): nothing to answer.
      if (ctx.timedOut || ctx.cancelled || reply.sent) return;
      const code = upstreamErrorCode(error);
      endAttempt(ctx, 0, code);
      ctx.obs.flag(code);
      metrics.upstreamError(ctx.backend.key, code);
      const answer = PROXY_ERRORS[proxyErrorForUpstream(code)];
      metrics.response(ctx.listener.key, ctx.rule.routeName, answer.status);
      reply.code(answer.status).header('content-type', 'text/plain; charset=utf-8').send(answer.body);
    },
    retryDelay: (args: RetryArgs): number | null => {
      const ctx = (args.req.headers as OwnedHeaders | undefined)?.[kAttemptOwner];
      if (ctx === undefined || ctx.cancelled) return null;
      ctx.upstream = null;
      const { err, res } = args;
      const delay = retryDelay(
        retry,
        args.attempt,
        res ? res.statusCode : 0,
        res || !err ? '' : upstreamErrorCode(err),
        replayableBody(args.req.body),
      );
      if (delay === NO_RETRY) return null;
      if (res) res.stream.resume(); // drain the failed response so its connection can be reused
      ctx.obs.retries = args.attempt + 1;
      if (ctx.tracing !== null) {
        // The attempt that failed ends here; the next one gets its own span and traceparent.
        const code = err === null ? undefined : (err.code ?? 'UNKNOWN');
        endAttempt(ctx, res?.statusCode ?? 0, code);
        startAttempt(ctx, args.req.headers as HeaderBag, args.attempt + 2);
      }
      return delay;
    },
  } as unknown as FromOptions;
  if (rule.backendTimeoutMs > 0) options.timeout = rule.backendTimeoutMs;
  return options;
}

const fromOptionsCache = new WeakMap<CompiledBackendRef, FromOptions>();

export function fromOptionsFor(rule: CompiledRule, ref: CompiledBackendRef, metrics: HttpMetrics): FromOptions {
  let options = fromOptionsCache.get(ref);
  if (options === undefined) fromOptionsCache.set(ref, (options = buildFromOptions(rule, metrics)));
  return options;
}
