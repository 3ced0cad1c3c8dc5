// One Fastify app per shard serves every HTTP listener socket of that shard through `app.routing`. It has a single
// catch-all route (Gateway API precedence cannot be expressed in find-my-way, and Fastify routes cannot be removed
// after `ready()`); the request body is never parsed, only streamed through.

import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import replyFrom from '@fastify/reply-from';
import { PROXY_ERRORS } from '../errors.ts';
import { createGatewayDispatcher } from '../upstream/dispatcher.ts';
import { createHandler } from './handler.ts';
import type { HandlerDeps } from './handler.ts';
import './context.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'];

export async function createHttpApp(deps: HandlerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // No Fastify logging: the shard logs with its own pino instance, and never per request unless asked.
    logger: false,
    requestIdHeader: false,
    return503OnClosing: false,
    // Long enough for any path a client may send within the header limit; routing is ours.
    routerOptions: { maxParamLength: 16 * 1024 },
  });
  app.removeAllContentTypeParsers();
  // Hand the request stream through untouched: bodies are proxied, never parsed.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  await app.register(replyFrom, {
    undici: createGatewayDispatcher(deps.registry) as never,
    disableRequestLogging: true,
    retryMethods: [],
    disableCache: true,
  });
  app.decorateRequest('portico', null);
  const handler = createHandler(deps);
  app.route({ method: METHODS, url: '*', handler });
  app.setNotFoundHandler(handler);
  // A bug in our handler must not take the connection down without a word: answer 500 and say why in the log.
  app.setErrorHandler((error, request, reply) => {
    deps.log.error({ err: error, url: request.raw.url }, 'request handler failed');
    const answer = PROXY_ERRORS.INTERNAL;
    if (!reply.sent) reply.code(answer.status).header('content-type', 'text/plain; charset=utf-8').send(answer.body);
  });
  await app.ready();
  return app;
}
