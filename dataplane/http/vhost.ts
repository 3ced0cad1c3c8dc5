// A virtual host: every route match that applies to one (listener, hostname) pair, indexed by path so that matching
// a request costs a few map lookups, never a scan over all routes:
//   - Exact paths in a hash map;
//   - RegularExpression matches next, in a list (RE2 semantics, whole-path match). The spec leaves their precedence
//     to the implementation; they come before PathPrefix because a regex is what a user writes to carve a specific
//     set of paths out of a broader route: after PathPrefix, any `/` catch-all route would make them unreachable;
//   - PathPrefix values in a hash map keyed by the prefix; a request tries its own path, then each parent path
//     (`/a/b/c`, `/a/b`, `/a`, `/`), so the longest prefix wins and `/abc` never matches `/abcd`.
// Within one path bucket, entries are sorted by Gateway API precedence: a method match, then more header matches,
// then more query matches, then the older route (rank), then rule order, then match order.

import type { HttpMatch, HttpRoute } from '../../shared/ir/route.ts';
import { compileUserRegex } from '../../shared/regex.ts';
import type { CompiledRegex } from '../../shared/regex.ts';
import { compileRoute } from './rules.ts';
import type { CompiledRule } from './rules.ts';

export interface ValueMatcher {
  /** Lower-case for headers; as written for query parameters. */
  name: string;
  exact: string | null;
  regex: CompiledRegex | null;
}

export interface MatchEntry {
  method: string | null;
  headers: ValueMatcher[];
  queryParams: ValueMatcher[];
  /** For PathPrefix matches: the prefix as matched (normalised), used by ReplacePrefixMatch. */
  prefix: string | null;
  rule: CompiledRule;
  rank: number;
  ruleIndex: number;
  matchIndex: number;
}

export interface RegexEntry {
  regex: CompiledRegex;
  entry: MatchEntry;
}

export interface VirtualHost {
  exact: Map<string, MatchEntry[]>;
  prefix: Map<string, MatchEntry[]>;
  regex: RegexEntry[];
  /** True when some entry matches on query parameters, so the query string has to be parsed. */
  needsQuery: boolean;
}

/** `/foo/` and `/foo` are the same prefix: PathPrefix matches whole path elements. */
export function normalizePrefix(value: string): string {
  return value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;
}

function regexOf(pattern: string): CompiledRegex {
  const result = compileUserRegex(pattern);
  // The snapshot validator compiled every pattern before this generation was accepted.
  if (!result.ok) throw new Error(`regex ${JSON.stringify(pattern)} was not validated: ${result.reason}`);
  return result.regex;
}

function valueMatchers(list: HttpMatch['headers'], lowerCase: boolean): ValueMatcher[] {
  return list.map((m) => ({
    name: lowerCase ? m.name.toLowerCase() : m.name,
    exact: m.type === 'Exact' ? m.value : null,
    regex: m.type === 'RegularExpression' ? regexOf(m.value) : null,
  }));
}

function byPrecedence(a: MatchEntry, b: MatchEntry): number {
  return (
    (a.method === null ? 1 : 0) - (b.method === null ? 1 : 0) ||
    b.headers.length - a.headers.length ||
    b.queryParams.length - a.queryParams.length ||
    a.rank - b.rank ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

function push(map: Map<string, MatchEntry[]>, key: string, entry: MatchEntry): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else list.push(entry);
}

export function compileVirtualHost(routes: Iterable<HttpRoute>): VirtualHost {
  const vhost: VirtualHost = { exact: new Map(), prefix: new Map(), regex: [], needsQuery: false };
  for (const route of routes) {
    const compiled = compileRoute(route);
    route.rules.forEach((rule, r) => {
      rule.matches.forEach((match, m) => {
        const entry: MatchEntry = {
          method: match.method ?? null,
          headers: valueMatchers(match.headers, true),
          queryParams: valueMatchers(match.queryParams, false),
          prefix: match.path.type === 'PathPrefix' ? normalizePrefix(match.path.value) : null,
          rule: compiled.rules[r],
          rank: route.rank,
          ruleIndex: rule.index,
          matchIndex: m,
        };
        if (entry.queryParams.length > 0) vhost.needsQuery = true;
        if (match.path.type === 'Exact') push(vhost.exact, match.path.value, entry);
        else if (match.path.type === 'PathPrefix') push(vhost.prefix, entry.prefix as string, entry);
        else vhost.regex.push({ regex: regexOf(match.path.value), entry });
      });
    });
  }
  for (const list of vhost.exact.values()) list.sort(byPrecedence);
  for (const list of vhost.prefix.values()) list.sort(byPrecedence);
  vhost.regex.sort((a, b) => byPrecedence(a.entry, b.entry));
  return vhost;
}
