// Node's own HTTP/1.1 parser (llhttp, the one `node:http` runs), reached through `node:_http_common`. Strict: no
// lenient flag is ever set, so what `node:http` refuses (CL with TE, two Content-Lengths, bare LF, obs-fold, bad
// chunk sizes, control characters) the engine refuses too. This module holds the one place that touches the
// internal API, typed as far as the engine uses it.

// @ts-expect-error: an internal module without type declarations (stable since Node 12; node:http is built on it).
import { HTTPParser as NodeParser, methods as nodeMethods } from 'node:_http_common';

export interface ParserError extends Error {
  code: string;
  bytesParsed: number;
}

export interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes consumed, or the parse error. */
  execute(data: Buffer): number | ParserError;
  finish(): undefined | ParserError;
  close(): void;
  free(): void;
  remove(): void;
  [key: number]: unknown;
}

export const HTTPParser = NodeParser as {
  new (): HttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone: number;
};

/** llhttp's method numbers → names. */
export const METHODS = nodeMethods as readonly string[];

/** Raw header list of llhttp: name, value, name, value… */
export type RawHeaders = string[];

/** (versionMajor, versionMinor, headers, method, url, statusCode, statusMessage, upgrade, shouldKeepAlive) */
export type HeadersCompleteCallback = (
  versionMajor: number,
  versionMinor: number,
  headers: RawHeaders | undefined,
  method: number,
  url: string | undefined,
  statusCode: number,
  statusMessage: string,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;

/**
 * Parsers whose connection ended, ready for the next connection of this thread (node:http keeps such a free list
 * too): `initialize()` resets a parser completely, and reusing one spares the native allocation and set-up of a new
 * llhttp instance per connection (measured in the connection-per-request profile: `newParser`, `close` and the GC of
 * the native wrappers). Bounded: past it, parsers are closed.
 */
const FREE_PARSERS: HttpParser[] = [];
const FREE_PARSERS_MAX = 128;

export function newParser(type: number, maxHeaderBytes: number): HttpParser {
  const parser = FREE_PARSERS.pop() ?? new HTTPParser();
  parser.initialize(type, {}, maxHeaderBytes, HTTPParser.kLenientNone);
  return parser;
}

/**
 * Releases a parser whose connection is over. `free()` only ends its async-hooks life; the native parser (llhttp's
 * state and its buffers, some kilobytes) goes with `close()`, which node:http also calls once a parser leaves use.
 * Without it, a connection per request left that memory behind every connection (the data plane's RSS grew by
 * ~8 KiB per connection). The callbacks are cleared at once (they hold the connection); the parser goes back to the
 * free list, or is closed, on the next turn, as node:http does, so that no parser is reused or closed from inside its
 * own `execute()`.
 */
export function releaseParser(parser: HttpParser): void {
  parser[HTTPParser.kOnHeaders] = null;
  parser[HTTPParser.kOnHeadersComplete] = null;
  parser[HTTPParser.kOnBody] = null;
  parser[HTTPParser.kOnMessageComplete] = null;
  parser.remove();
  parser.free();
  setImmediate(recycleParser, parser);
}

function recycleParser(parser: HttpParser): void {
  if (FREE_PARSERS.length < FREE_PARSERS_MAX) FREE_PARSERS.push(parser);
  else parser.close();
}
