// The shard's HTTP/2 front end (h2, h2c, gRPC: the Fastify app of http/app.ts), loaded on the first HTTP/2 request
// rather than at start: HTTP/1.1 is the engine's, so a shard that never sees HTTP/2 never loads Fastify,
// @fastify/reply-from and undici (with type stripping, ~25 MiB per shard; bench/RESULTS.md). The first HTTP/2
// request waits for the load (tens of milliseconds); its stream stays paused meanwhile, so no byte is lost.

import type { FastifyInstance } from 'fastify';
import type { HandlerDeps } from '../http/handler.ts';
import { PROXY_ERRORS } from '../errors.ts';
import type { RequestListener } from './http-server.ts';

export class Http2Front {
  readonly #deps: HandlerDeps;
  #app: FastifyInstance | null = null;
  #loading: Promise<FastifyInstance> | null = null;

  constructor(deps: HandlerDeps) {
    this.#deps = deps;
  }

  /** Whether the Fastify app was loaded (tests, and the memory breakdown). */
  get loaded(): boolean {
    return this.#app !== null;
  }

  /** The request listener every HTTP/2 server of the shard is given. */
  readonly routing: RequestListener = (req, res) => {
    if (this.#app !== null) return this.#app.routing(req, res);
    this.#load().then(
      (app) => app.routing(req, res),
      (error: Error) => {
        // The front end cannot be loaded (a broken install): say so once per request, and in the log.
        this.#deps.log.error({ err: error }, 'the HTTP/2 front end failed to load');
        const answer = PROXY_ERRORS.INTERNAL;
        if (!res.headersSent) res.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(answer.body);
      },
    );
  };

  #load(): Promise<FastifyInstance> {
    this.#loading ??= import('../http/app.ts')
      .then(({ createHttpApp }) => createHttpApp(this.#deps))
      .then((app) => (this.#app = app));
    // A failed load is tried again by the next request.
    this.#loading.catch(() => (this.#loading = null));
    return this.#loading;
  }

  async close(): Promise<void> {
    const app = this.#loading === null ? null : await this.#loading.catch(() => null);
    await app?.close();
  }
}
