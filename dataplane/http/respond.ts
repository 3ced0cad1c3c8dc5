// Writes an upstream response to the client, outside Fastify's send path: the headers reply-from copied (and our
// filters rewrote) onto the reply, then the body — a buffered body in one write, a streamed one piped with
// backpressure — then the upstream's trailers (gRPC puts its status there), which Fastify's stream path would drop.

import type { FastifyReply } from 'fastify';
import { BufferedBody } from '../upstream/exchange.ts';
import type { StreamedBody } from '../upstream/exchange.ts';

type Trailers = Record<string, string | string[] | undefined>;

function addTrailers(raw: FastifyReply['raw'], trailers: Trailers | null): void {
  if (trailers === null) return;
  const clean: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(trailers)) if (value !== undefined) clean[name] = value;
  raw.addTrailers(clean);
}

export function sendUpstreamResponse(reply: FastifyReply, statusCode: number, body: StreamedBody | BufferedBody): void {
  reply.hijack();
  const raw = reply.raw;
  const h2stream = (raw as unknown as { stream?: import('node:http2').ServerHttp2Stream }).stream;
  if (h2stream !== undefined && body instanceof BufferedBody && body.length === 0 && body.trailers === null) {
    // A headers-only HTTP/2 answer must end on its HEADERS frame: gRPC's "trailers-only" responses (an error
    // status and no message) are read as such only then.
    try {
      h2stream.respond(
        { ...(reply.getHeaders() as Record<string, string>), ':status': statusCode },
        { endStream: true },
      );
    } catch {
      h2stream.close();
    }
    return;
  }
  try {
    raw.writeHead(statusCode, reply.getHeaders() as never);
  } catch (error) {
    // A status or header Node refuses to write (e.g. status 99): the upstream is broken.
    body.destroy();
    raw.writeHead(502, { 'content-type': 'text/plain' }).end(`bad upstream response: ${(error as Error).message}\n`);
    return;
  }
  if (body instanceof BufferedBody) {
    addTrailers(raw, body.trailers);
    raw.end(body.buffer());
    return;
  }
  body.pipe(raw as unknown as NodeJS.WritableStream, { end: false });
  body.once('end', () => {
    addTrailers(raw, body.trailers);
    raw.end();
  });
  body.once('error', () => raw.destroy());
  // The client went away: stop reading from (and abort) the upstream.
  raw.once('close', () => {
    if (!raw.writableFinished) body.destroy();
  });
}
