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

export function newParser(type: number, maxHeaderBytes: number): HttpParser {
  const parser = new HTTPParser();
  parser.initialize(type, {}, maxHeaderBytes, HTTPParser.kLenientNone);
  return parser;
}

/**
 * Releases a parser whose connection is over. `free()` only ends its async-hooks life; the native parser (llhttp's
 * state and its buffers, some kilobytes) goes with `close()`, which node:http also calls once a parser leaves use.
 * Without it, a connection per request left that memory behind every connection (the data plane's RSS grew by
 * ~8 KiB per connection). Deferred to the next turn, as node:http does, so that no parser is closed from inside its
 * own `execute()`.
 */
export function releaseParser(parser: HttpParser): void {
  parser.free();
  setImmediate(closeParser, parser);
}

function closeParser(parser: HttpParser): void {
  parser.close();
}
