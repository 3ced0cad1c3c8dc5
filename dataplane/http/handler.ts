// The Fastify front end's one catch-all route (HTTP/2 and h2c; HTTP/1.1 is the engine's): the routing core decides,
// then the answer is sent here or the request forwarded with @fastify/reply-from. Everything it reads was compiled
// for the generation in force when the request arrived.

import type { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { countResponse, routeRequest } from '../core/route.ts';
import type { Routed } from '../core/route.ts';
import { PROXY_ERRORS } from '../errors.ts';
import type { ProxyErrorCode } from '../errors.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import { kBinding } from './binding.ts';
import type { BoundSocket } from './binding.ts';
import type { RequestContext } from './context.ts';
import { fromOptionsFor } from './forward.ts';
import { chooseMirrors, hasBody, sendMirrors, teeBody } from './mirror.ts';
import type { HttpMetrics } from './metrics.ts';
import { logWhenFinished } from './access-log.ts';
import type { CompiledRule } from './rules.ts';
import type { CompiledListener } from './tables.ts';

export interface HandlerDeps {
  registry: UpstreamRegistry;
  metrics: HttpMetrics;
  log: import('pino').Logger;
  /** Log one line per request (`--access-log`). */
  accessLog: boolean;
}

function plain(reply: FastifyReply, code: ProxyErrorCode): void {
  const error = PROXY_ERRORS[code];
  reply.code(error.status).header('content-type', 'text/plain; charset=utf-8').send(error.body);
}

export function createHandler(deps: HandlerDeps) {
  const { registry, metrics, log, accessLog } = deps;

  return function handle(request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw;
    const binding = (raw.socket as unknown as BoundSocket)[kBinding];
    if (binding?.draining && raw.httpVersionMajor === 1) reply.header('connection', 'close');
    const routed = routeRequest(
      binding,
      {
        method: raw.method ?? 'GET',
        target: raw.url ?? '/',
        host: (raw.headers.host ?? raw.headers[':authority']) as string | undefined,
        headers: raw.headers,
        servername: (raw.socket as unknown as { servername?: string | false }).servername,
        upgrade: false,
      },
      registry,
    );
    if (accessLog && binding !== undefined) logWhenFinished(log, raw, reply.raw, binding.key, () => routed.routeName);
    if (routed.error !== null) {
      countResponse(metrics, routed, PROXY_ERRORS[routed.error].status);
      return plain(reply, routed.error);
    }
    if (routed.status !== 0) {
      countResponse(metrics, routed, routed.status);
      reply.code(routed.status);
      if (routed.headers !== null) reply.headers(routed.headers);
      reply.send();
      return;
    }
    forward(request, reply, routed);
  };

  function forward(request: FastifyRequest, reply: FastifyReply, routed: Routed): void {
    const listener = routed.listener as CompiledListener;
    const rule = routed.rule as CompiledRule;
    const ref = routed.ref as NonNullable<Routed['ref']>;
    const backend = routed.backend as RequestContext['backend'];
    const upstreamHost = routed.upstreamHost;
    const ctx: RequestContext = {
      listener,
      rule,
      ref,
      backend,
      upstreamHost,
      clientHost: routed.clientHost,
      corsOrigin: routed.corsOrigin,
      upstreamStart: performance.now(),
      timedOut: false,
      timer: null,
    };
    request.portico = ctx;
    if (rule.requestTimeoutMs > 0) {
      ctx.timer = setTimeout(onRequestTimeout, rule.requestTimeoutMs, reply, metrics);
    }
    // Mirrors are chosen before the request goes out: a body must be split before the main request reads it.
    const mirrors = rule.mirrors.length > 0 || ref.mirrors.length > 0 ? chooseMirrors(rule.mirrors, ref.mirrors) : null;
    let mirrorBodies: PassThrough[] | null = null;
    if (mirrors !== null && mirrors.length > 0 && hasBody(request.raw.headers)) {
      const split = teeBody(request.raw, mirrors.length);
      request.body = split.main;
      mirrorBodies = split.mirrors;
    }
    try {
      reply.from(routed.upstreamTarget, fromOptionsFor(rule, ref, metrics));
    } catch {
      // reply-from refuses some paths synchronously (an encoded "..", a malformed %-escape).
      if (ctx.timer !== null) clearTimeout(ctx.timer);
      for (const body of mirrorBodies ?? []) body.destroy();
      countResponse(metrics, routed, PROXY_ERRORS.BAD_PATH.status);
      return plain(reply, 'BAD_PATH');
    }
    if (mirrors !== null && mirrors.length > 0) {
      sendMirrors(
        mirrors,
        mirrorBodies,
        registry,
        routed.listener?.listener.backendClientCertificateKey,
        {
          method: request.raw.method ?? 'GET',
          path: routed.upstreamTarget,
          query: '',
          headers: request.raw.headers,
          upstreamHost,
        },
        metrics,
      );
    }
  }
}

function onRequestTimeout(reply: FastifyReply, metrics: HttpMetrics): void {
  const ctx = reply.request.portico;
  if (ctx === null || reply.sent) return;
  ctx.timedOut = true;
  ctx.timer = null;
  metrics.response(ctx.listener.key, ctx.rule.routeName, PROXY_ERRORS.REQUEST_TIMEOUT.status);
  plain(reply, 'REQUEST_TIMEOUT');
}
