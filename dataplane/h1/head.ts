// Message heads of the HTTP/1.1 engine: llhttp's raw header lists turned into the lower-case header objects routing
// and filters read, and heads written back as one string each (one write per head, no per-header allocation beyond
// the string). Framing headers are never copied from one side to the other: the engine writes its own
// Content-Length or Transfer-Encoding for the body it actually sends, so a message is framed once.

import { STATUS_CODES } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { HeaderBag } from '../http/headers.ts';
import type { RawHeaders } from './llhttp.ts';

/** Lengths of the names below, to skip `toLowerCase` for almost every header. */
const DROPPED_LENGTHS = new Set([2, 7, 10, 14, 16, 17, 18, 19]);
/** Hop-by-hop headers (RFC 9110 §7.6.1) and the framing ones the engine writes itself. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
]);

export function isDropped(name: string): boolean {
  return DROPPED_LENGTHS.has(name.length) && DROPPED.has(name.toLowerCase());
}

/** Result of `headersOf`: how many Host headers the request carried (RFC 9112 §3.2: exactly one). */
export let hostCount = 0;

/**
 * llhttp's raw list → lower-case keys; a repeated header is joined with ", " (cookies with "; ", Set-Cookie kept as
 * a list), as node:http does for the headers routing may read.
 */
export function headersOf(raw: RawHeaders): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  hostCount = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (name === 'host') hostCount++;
    const prior = headers[name];
    if (prior === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[name] = `${prior}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return headers;
}

/** Removes hop-by-hop headers and those the Connection header names (RFC 9110 §7.6.1). */
export function stripHopByHop(headers: HeaderBag): void {
  const connection = headers.connection;
  if (typeof connection === 'string') {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name.length > 0 && name !== 'host') delete headers[name];
    }
  }
  for (const name of DROPPED) if (headers[name] !== undefined) delete headers[name];
  delete headers['http2-settings'];
}

/** `name: value\r\n` lines of a header object (a list value: one line each). */
export function headerLines(headers: HeaderBag | OutgoingHttpHeaders): string {
  let out = '';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) out += `${name}: ${value[i]}\r\n`;
    else out += `${name}: ${value}\r\n`;
  }
  return out;
}

/** The raw upstream header lines minus hop-by-hop and framing headers, as received (no object built). */
export function rawHeaderLines(raw: RawHeaders): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 2) {
    if (!isDropped(raw[i])) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return out;
}

/**
 * Fields a trailer section must not carry (RFC 9110 §6.5.1: framing, routing, authentication, content metadata):
 * dropped from forwarded request trailers, with the hop-by-hop ones, so a trailer can never re-frame or re-route the
 * message at the backend.
 */
const NOT_IN_TRAILERS = new Set([
  'host',
  'authorization',
  'cookie',
  'content-encoding',
  'content-type',
  'content-range',
]);

/** A chunked request's trailer lines to forward (after `0\r\n`), as received minus the fields above. */
export function trailerLines(raw: RawHeaders): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 2) {
    if (!isDropped(raw[i]) && !NOT_IN_TRAILERS.has(raw[i].toLowerCase())) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return out;
}

/** The object of a raw upstream header list minus hop-by-hop and framing headers, for response filters. */
export function responseHeaderBag(raw: RawHeaders): HeaderBag {
  const headers: HeaderBag = {};
  for (let i = 0; i < raw.length; i += 2) {
    if (isDropped(raw[i])) continue;
    const name = raw[i].toLowerCase();
    const prior = headers[name];
    if (prior === undefined) headers[name] = raw[i + 1];
    else if (Array.isArray(prior)) prior.push(raw[i + 1]);
    else headers[name] = [prior as string, raw[i + 1]];
  }
  return headers;
}

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

/** A complete response of the gateway's own, head and body in one string (`omitBody` for HEAD). */
export function localResponse(
  status: number,
  headers: OutgoingHttpHeaders | null,
  body: string,
  close: boolean,
  omitBody: boolean,
): string {
  let head = statusLine(status);
  if (headers !== null) head += headerLines(headers);
  // An answer with headers of its own (an authorizer's denial) may bring its own type.
  if (body.length > 0 && (headers === null || headers['content-type'] === undefined))
    head += 'content-type: text/plain; charset=utf-8\r\n';
  if (status !== 204 && status !== 304) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  if (close) head += 'connection: close\r\n';
  head += '\r\n';
  return omitBody ? head : head + body;
}
