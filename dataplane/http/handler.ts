// The one catch-all Fastify route: host → listener → match entry → filters → response or upstream. Everything it
// reads was compiled for the generation in force when the request arrived.

import type { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import { kBinding } from './binding.ts';
import type { BoundSocket } from './binding.ts';
import type { RequestContext } from './context.ts';
import { isPreflight, originAllowed, preflightHeaders } from './cors.ts';
import { fromOptionsFor } from './forward.ts';
import { normalizeHost } from './hostnames.ts';
import { matchRequest } from './matcher.ts';
import type { RequestView } from './matcher.ts';
import { chooseMirrors, hasBody, sendMirrors, teeBody } from './mirror.ts';
import type { HttpMetrics } from './metrics.ts';
import { modifyPath, redirectLocation } from './redirect.ts';
import { logWhenFinished } from './access-log.ts';
import type { CompiledBackendRef, CompiledRule } from './rules.ts';
import type { CompiledListener } from './tables.ts';

export interface HandlerDeps {
  registry: UpstreamRegistry;
  metrics: HttpMetrics;
  log: import('pino').Logger;
  /** Log one line per request (`--access-log`). */
  accessLog: boolean;
}

function pickBackendRef(rule: CompiledRule): CompiledBackendRef | null {
  const refs = rule.backends;
  if (refs.length === 1) return refs[0].weight > 0 ? refs[0] : null;
  if (rule.totalWeight === 0) return null;
  let point = Math.random() * rule.totalWeight;
  for (let i = 0; i < refs.length; i++) {
    point -= refs[i].weight;
    if (point < 0) return refs[i];
  }
  return refs[refs.length - 1];
}

function misdirected(
  binding: BoundSocket[typeof kBinding] & object,
  listener: CompiledListener,
  socket: { servername?: string | false },
): boolean {
  const servername = socket.servername;
  if (typeof servername !== 'string' || servername === '') return false;
  const byName = binding.table.listeners.lookup(normalizeHost(servername));
  return byName !== undefined && byName !== listener;
}

function plain(reply: FastifyReply, status: number, body: string): void {
  reply.code(status).header('content-type', 'text/plain; charset=utf-8').send(body);
}

export function createHandler(deps: HandlerDeps) {
  const { registry, metrics, log, accessLog } = deps;

  return function handle(request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw;
    const binding = (raw.socket as unknown as BoundSocket)[kBinding];
    if (binding === undefined) return plain(reply, 503, 'listener not ready\n');
    if (binding.draining && raw.httpVersionMajor === 1) reply.header('connection', 'close');
    if (accessLog) logWhenFinished(log, raw, reply.raw, binding.key);
    const rawHost = (raw.headers.host ?? raw.headers[':authority']) as string | undefined;
    const host = normalizeHost(rawHost);
    const listener = binding.table.listeners.lookup(host);
    if (listener === undefined) return plain(reply, 404, 'no listener for this host\n');
    if (
      listener.scheme === 'https' &&
      misdirected(binding, listener, raw.socket as unknown as { servername?: string | false })
    ) {
      // The connection's TLS name chose another listener (its certificate, its client-certificate rules): the
      // client must open a connection for this host (RFC 9110 §15.5.20).
      metrics.response(listener.key, '', 421);
      return plain(reply, 421, 'misdirected request: this connection was made for another host\n');
    }

    const url = raw.url ?? '/';
    const q = url.indexOf('?');
    const view: RequestView = {
      host,
      method: raw.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      headers: raw.headers,
    };
    const entry = matchRequest(listener, view);
    if (entry === null) {
      metrics.response(listener.key, '', 404);
      return plain(reply, 404, 'no matching route\n');
    }
    const rule = entry.rule;

    let corsOrigin: string | null = null;
    if (rule.cors !== null) {
      const origin = raw.headers.origin;
      const allowed = typeof origin === 'string' && originAllowed(rule.cors, origin);
      if (allowed) corsOrigin = origin;
      // A preflight is the gateway's to answer, allowed or not: a refused origin gets no CORS headers, which the
      // browser reads as a refusal; the backend never sees preflights of a route with a CORS policy.
      if (isPreflight(view.method, raw.headers)) {
        metrics.response(listener.key, rule.routeName, 204);
        reply.code(204);
        if (allowed) reply.headers(preflightHeaders(rule.cors, origin, raw.headers));
        reply.send();
        return;
      }
    }
    if (rule.redirect !== null) {
      const location = redirectLocation(rule.redirect, {
        scheme: listener.scheme,
        host: host === '' ? (rawHost ?? '') : host,
        listenerPort: listener.listener.port,
        path: view.path,
        query: view.query,
        prefix: entry.prefix,
      });
      metrics.response(listener.key, rule.routeName, rule.redirect.statusCode);
      reply.code(rule.redirect.statusCode).header('location', location).send();
      return;
    }
    if (rule.directStatus !== 0) {
      metrics.response(listener.key, rule.routeName, rule.directStatus);
      return plain(reply, rule.directStatus, rule.directStatus === 500 ? 'no valid backend for this route\n' : '');
    }
    const ref = pickBackendRef(rule);
    const backend = ref === null || ref.backendKey === null ? undefined : registry.backend(ref.backendKey);
    if (ref === null || backend === undefined) {
      metrics.response(listener.key, rule.routeName, 500);
      return plain(reply, 500, 'no valid backend for this route\n');
    }
    if (backend.endpoints.size === 0) {
      metrics.response(listener.key, rule.routeName, 503);
      return plain(reply, 503, 'no healthy endpoint\n');
    }
    forward(request, reply, listener, rule, ref, backend, view, rawHost, corsOrigin, entry.prefix);
  };

  function forward(
    request: FastifyRequest,
    reply: FastifyReply,
    listener: CompiledListener,
    rule: CompiledRule,
    ref: CompiledBackendRef,
    backend: RequestContext['backend'],
    view: RequestView,
    rawHost: string | undefined,
    corsOrigin: string | null,
    prefix: string | null,
  ): void {
    const rewrite = ref.rewrite ?? rule.rewrite;
    const path = rewrite?.path ? modifyPath(view.path, rewrite.path, prefix) : view.path;
    const upstreamHost = rewrite?.hostname ?? rawHost ?? '';
    const ctx: RequestContext = {
      listener,
      rule,
      ref,
      backend,
      upstreamHost,
      clientHost: rawHost,
      corsOrigin,
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
      reply.from(path, fromOptionsFor(rule, ref, metrics));
    } catch (error) {
      // reply-from refuses some paths synchronously (an encoded "..", a malformed %-escape).
      if (ctx.timer !== null) clearTimeout(ctx.timer);
      for (const body of mirrorBodies ?? []) body.destroy();
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      return plain(reply, status, `bad request path: ${(error as Error).message}\n`);
    }
    if (mirrors !== null && mirrors.length > 0) {
      sendMirrors(
        mirrors,
        mirrorBodies,
        registry,
        { method: view.method, path, query: view.query, headers: request.raw.headers, upstreamHost },
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
  metrics.response(ctx.listener.key, ctx.rule.routeName, 504);
  reply.code(504).header('content-type', 'text/plain; charset=utf-8').send('request timed out\n');
}
