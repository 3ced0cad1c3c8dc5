// Request → match entry. Runs on every request: no allocation beyond the strings the request already carries, no
// closures, no regex compiled here.

import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledListener } from './tables.ts';
import type { MatchEntry, ValueMatcher, VirtualHost } from './vhost.ts';

export interface RequestView {
  host: string;
  method: string;
  path: string;
  /** The raw query string without '?', or ''. */
  query: string;
  headers: IncomingHttpHeaders;
}

/** Query parameters, parsed lazily and only when some entry asks for them. First value of a repeated name wins. */
function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query.length === 0) return params;
  for (const part of query.split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    const name = safeDecode(rawName);
    if (!params.has(name)) params.set(name, safeDecode(rawValue));
  }
  return params;
}

function safeDecode(value: string): string {
  if (value.indexOf('%') === -1 && value.indexOf('+') === -1) return value;
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function valueMatches(m: ValueMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.exact !== null ? m.exact === value : (m.regex as NonNullable<ValueMatcher['regex']>).matches(value);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

let queryCache: Map<string, string> | null = null;
let queryCacheFor: string | null = null;

function entryMatches(entry: MatchEntry, req: RequestView): boolean {
  if (entry.method !== null && entry.method !== req.method) return false;
  for (let i = 0; i < entry.headers.length; i++) {
    const m = entry.headers[i];
    if (!valueMatches(m, headerValue(req.headers, m.name))) return false;
  }
  if (entry.queryParams.length > 0) {
    if (queryCacheFor !== req.query || queryCache === null) {
      queryCache = parseQuery(req.query);
      queryCacheFor = req.query;
    }
    for (let i = 0; i < entry.queryParams.length; i++) {
      const m = entry.queryParams[i];
      if (!valueMatches(m, queryCache.get(m.name))) return false;
    }
  }
  return true;
}

function firstMatching(list: MatchEntry[] | undefined, req: RequestView): MatchEntry | null {
  if (list === undefined) return null;
  for (let i = 0; i < list.length; i++) if (entryMatches(list[i], req)) return list[i];
  return null;
}

function matchVirtualHost(vhost: VirtualHost, req: RequestView): MatchEntry | null {
  const path = req.path;
  const exact = firstMatching(vhost.exact.get(path), req);
  if (exact !== null) return exact;
  for (let i = 0; i < vhost.regex.length; i++) {
    const candidate = vhost.regex[i];
    if (candidate.regex.matches(path) && entryMatches(candidate.entry, req)) return candidate.entry;
  }
  if (vhost.prefix.size > 0) {
    let end = path.length > 1 && path.charCodeAt(path.length - 1) === 47 ? path.length - 1 : path.length;
    for (;;) {
      const hit = firstMatching(vhost.prefix.get(end === path.length ? path : path.slice(0, end)), req);
      if (hit !== null) return hit;
      if (end <= 1) break;
      end = path.lastIndexOf('/', end - 1);
      if (end <= 0) end = 1; // the root prefix "/"
    }
  }
  return null;
}

// Reused across requests: a shard thread runs one match at a time.
const scratch: VirtualHost[] = [];

/**
 * The winning match entry of a listener for a request, or null (404). Route hostnames are tried from the most
 * specific to the least, falling through when none of a hostname's rules matches the request.
 */
export function matchRequest(listener: CompiledListener, req: RequestView): MatchEntry | null {
  const n = listener.vhosts.candidates(req.host, scratch);
  for (let i = 0; i < n; i++) {
    const hit = matchVirtualHost(scratch[i], req);
    if (hit !== null) return hit;
  }
  return null;
}
