// What an external authorizer decided about one request (`AuthVerdict`), and the header rules both protocols share:
// which of the authorizer's headers may go upstream (never Host or :authority — GEP-5224 forbids a pre-routing filter
// to change them — and never a header that frames the message), which may go to the client with a denial, and that
// every name and value is a valid header: an authorizer's CR LF must not become a header injection. A verdict that
// breaks these rules is an invalid answer, and the request is refused (fail closed).

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { checkHeaderName, checkHeaderValue } from '../../shared/validation/fields.ts';
import type { ProxyErrorCode } from '../errors.ts';
import type { HeaderOption } from './ext-authz-codec.ts';

/** Never taken from an authorizer into the upstream request: the target and framing of the request are ours. */
const NOT_UPSTREAM = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'expect',
]);
/**
 * Also left out when an HTTP authorizer's allowed answer is copied whole (`allowedResponseHeaders` empty): they
 * describe the authorizer's own response, not the request (its empty body's type, its clock).
 */
const INCIDENTAL = new Set(['content-type', 'date', 'server']);
/** Never passed from an authorizer's denial to the client: the gateway frames its own answer. */
const NOT_DOWNSTREAM = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

export class AuthVerdict {
  allowed = false;
  /** Set when no decision could be had (fail closed with this answer). */
  error: ProxyErrorCode | null = null;
  /** Denied by the authorizer: its status, headers and body go to the client. */
  status = 0;
  headers: OutgoingHttpHeaders | null = null;
  body = '';
  /** Allowed: headers to set (or append) on the request before it goes on, and headers to remove. */
  upstream: HeaderOption[] = [];
  remove: string[] = [];

  static error(code: ProxyErrorCode): AuthVerdict {
    const verdict = new AuthVerdict();
    verdict.error = code;
    return verdict;
  }
}

function validHeader(name: string, value: string): boolean {
  return checkHeaderName(name) === null && checkHeaderValue(value) === null;
}

/** An option the upstream request may take; false for one that must be refused (an invalid header). */
export function upstreamOption(option: HeaderOption): boolean | 'skip' {
  if (option.name.startsWith(':') || NOT_UPSTREAM.has(option.name)) return 'skip';
  return validHeader(option.name, option.value);
}

/** Copies an HTTP authorizer's allowing response headers into `into` (all, or the `allowed` ones); false: invalid. */
export function copyAllowedHeaders(
  headers: Record<string, string | string[] | undefined>,
  allowed: readonly string[],
  into: HeaderOption[],
): boolean {
  for (const name in headers) {
    if (NOT_UPSTREAM.has(name)) continue;
    if (allowed.length === 0 ? INCIDENTAL.has(name) : !allowed.includes(name)) continue;
    const raw = headers[name];
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (!validHeader(name, value)) return false;
    into.push({ name, value, append: false, onlyIfAbsent: false, onlyIfPresent: false });
  }
  return true;
}

/** A denial's headers for the client; null when one of them is not a valid header. */
export function denialHeaders(
  options: Iterable<{ name: string; value: string | string[] }>,
): OutgoingHttpHeaders | null {
  const out: OutgoingHttpHeaders = {};
  for (const { name, value } of options) {
    const lower = name.toLowerCase();
    if (lower.startsWith(':') || NOT_DOWNSTREAM.has(lower)) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (!validHeader(lower, v)) return null;
    const existing = out[lower];
    if (existing === undefined) out[lower] = values.length === 1 ? values[0] : values;
    else out[lower] = [...(Array.isArray(existing) ? existing : [String(existing)]), ...values];
  }
  return out;
}

/** Applies an allowing verdict to the request's own headers (what route matching and the upstream request read). */
export function applyVerdict(headers: IncomingHttpHeaders | Record<string, string | string[]>, verdict: AuthVerdict) {
  const bag = headers as Record<string, string | string[] | undefined>;
  for (const name of verdict.remove) {
    if (name.startsWith(':') || NOT_UPSTREAM.has(name)) continue;
    delete bag[name];
  }
  for (const option of verdict.upstream) {
    const existing = bag[option.name];
    if (option.onlyIfAbsent && existing !== undefined) continue;
    if (option.onlyIfPresent && existing === undefined) continue;
    if (option.append && existing !== undefined)
      bag[option.name] = `${Array.isArray(existing) ? existing.join(', ') : existing}, ${option.value}`;
    else bag[option.name] = option.value;
  }
}
