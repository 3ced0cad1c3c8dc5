// The Fastify front end's side of external authorization (HTTP/2, h2c): when the routing core stops at a filter, the
// body is read first if the filter forwards it (`forwardBody`, up to its size; a larger body gets 413) and handed on
// to reply-from as a buffer afterwards; the routing core's step asks the authorizer (core/authorize.ts); an error or a
// denial is answered here (the request never reaches a backend), an allowed request gets the authorizer's headers
// and routing goes on (`continueRouting`). The same steps as the HTTP/1.1 engine's (h1/authorize.ts): only how a
// body is read and an answer written differ.

import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { applyVerdict } from '../auth/verdict.ts';
import type { AuthVerdict } from '../auth/verdict.ts';
import { authorizationStarted, authorize, buildSubject } from '../core/authorize.ts';
import type { Observation } from '../core/observe.ts';
import { continueRouting, countResponse } from '../core/route.ts';
import type { RouteRequest, Routed } from '../core/route.ts';
import { EXT_AUTHZ_DENIED, PROXY_ERRORS } from '../errors.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { HttpMetrics } from './metrics.ts';
import { hasBody } from './mirror.ts';

export interface AuthDeps {
  registry: UpstreamRegistry;
  metrics: HttpMetrics;
  log: Logger;
  /** The handler's next step for a routed request (answer, forward, or the next filter). */
  proceed(request: FastifyRequest, reply: FastifyReply, routed: Routed, obs: Observation): void;
  routeRequestOf(request: FastifyRequest): RouteRequest;
}

function answerError(deps: AuthDeps, reply: FastifyReply, routed: Routed, obs: Observation, code: string): void {
  const error = PROXY_ERRORS[code as keyof typeof PROXY_ERRORS];
  obs.flag(code);
  countResponse(deps.metrics, routed, error.status);
  reply.code(error.status).header('content-type', 'text/plain; charset=utf-8').send(error.body);
}

/** Runs the filter `routed.auth` for `request`, then carries out its verdict. */
export function authorizeRequest(
  deps: AuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  routed: Routed,
  obs: Observation,
): void {
  // The request deadline counts from here: the body's collection and the authorizer's time are the request's.
  authorizationStarted(routed);
  const limit = (routed.auth as NonNullable<Routed['auth']>).forwardBodyMaxBytes;
  const body = request.body;
  if (limit > 0 && Buffer.isBuffer(body)) return ask(deps, request, reply, routed, obs, body);
  if (limit === 0 || !hasBody(request.raw.headers)) return ask(deps, request, reply, routed, obs, null);
  const source = (body as Readable | undefined) ?? request.raw;
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) return void chunks.push(chunk);
    source.off('data', onData);
    source.off('end', onEnd);
    source.pause();
    answerError(deps, reply, routed, obs, 'EXT_AUTHZ_BODY_TOO_LARGE');
  };
  const onEnd = () => {
    const whole = Buffer.concat(chunks, size);
    // reply-from sends a buffer body as it is: the backend gets the bytes the authorizer saw.
    request.body = whole;
    ask(deps, request, reply, routed, obs, whole);
  };
  source.on('data', onData);
  source.once('end', onEnd);
}

function ask(
  deps: AuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  routed: Routed,
  obs: Observation,
  body: Buffer | null,
): void {
  const raw = request.raw;
  const subject = buildSubject(
    routed,
    raw.method ?? 'GET',
    raw.headers,
    raw.httpVersionMajor === 2 ? 'HTTP/2' : `HTTP/${raw.httpVersion}`,
    raw.socket,
    obs.requestId,
    body,
  );
  authorize(
    routed,
    subject,
    deps.registry,
    deps.metrics,
    routed.listener?.listener.backendClientCertificateKey,
    (verdict) => {
      try {
        decided(deps, request, reply, routed, obs, verdict);
      } catch (error) {
        // Outside Fastify's handler now: its error handler would not see this, so answer here.
        deps.log.error({ err: error, url: request.raw.url }, 'request handler failed');
        if (!reply.sent) answerError(deps, reply, routed, obs, 'INTERNAL');
      }
    },
  );
}

function decided(
  deps: AuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  routed: Routed,
  obs: Observation,
  verdict: AuthVerdict,
): void {
  // The client went away (or the stream was reset) while the authorizer thought: nothing to answer.
  if (reply.sent || request.raw.destroyed) return;
  if (verdict.error !== null) return answerError(deps, reply, routed, obs, verdict.error);
  if (!verdict.allowed) {
    obs.flag(EXT_AUTHZ_DENIED);
    countResponse(deps.metrics, routed, verdict.status);
    reply.code(verdict.status);
    if (verdict.headers !== null) reply.headers(verdict.headers);
    reply.send(verdict.body);
    return;
  }
  applyVerdict(request.raw.headers, verdict);
  deps.proceed(request, reply, continueRouting(routed, deps.routeRequestOf(request), deps.registry), obs);
}
