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
// Compiled once per generation from the previous one: a host whose routes changed is updated with the entries of
// the routes that came and went (`updateVirtualHost`), each route's entries built once per record.

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
  /** The path match as a route template, for `http.route` on spans (pathTemplate below). */
  template: string;
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
  /** How many entries match on query parameters (kept so that an update can tell `needsQuery` without a scan). */
  queryEntries: number;
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

/**
 * Gateway API precedence between entries; entries of routes of equal rank (which the translator never gives: ranks
 * are unique) fall back to the route key, so that the order never depends on the order routes arrived in.
 */
function byPrecedence(a: MatchEntry, b: MatchEntry): number {
  return (
    (a.method === null ? 1 : 0) - (b.method === null ? 1 : 0) ||
    b.headers.length - a.headers.length ||
    b.queryParams.length - a.queryParams.length ||
    a.rank - b.rank ||
    (a.rule.routeKey < b.rule.routeKey ? -1 : a.rule.routeKey > b.rule.routeKey ? 1 : 0) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** The entries of one route record by path bucket, built once per record (records are immutable). */
interface RouteEntries {
  exact: Array<[string, MatchEntry]>;
  prefix: Array<[string, MatchEntry]>;
  regex: RegexEntry[];
}

/**
 * OpenTelemetry's `http.route` is the matched route's template, low in cardinality: the Exact value as it is, a
 * PathPrefix as the prefix followed by `/*` (`/api` → `/api/*`, `/` → `/*`), a RegularExpression as the expression.
 */
export function pathTemplate(type: string, value: string): string {
  if (type === 'Exact' || type === 'RegularExpression') return value;
  const prefix = normalizePrefix(value);
  return prefix === '/' ? '/*' : `${prefix}/*`;
}

const entriesByRoute = new WeakMap<HttpRoute, RouteEntries>();

function entriesOf(route: HttpRoute): RouteEntries {
  let entries = entriesByRoute.get(route);
  if (entries !== undefined) return entries;
  entries = { exact: [], prefix: [], regex: [] };
  const compiled = compileRoute(route);
  route.rules.forEach((rule, r) => {
    rule.matches.forEach((match, m) => {
      const entry: MatchEntry = {
        method: match.method ?? null,
        headers: valueMatchers(match.headers, true),
        queryParams: valueMatchers(match.queryParams, false),
        prefix: match.path.type === 'PathPrefix' ? normalizePrefix(match.path.value) : null,
        template: pathTemplate(match.path.type, match.path.value),
        rule: compiled.rules[r],
        rank: route.rank,
        ruleIndex: rule.index,
        matchIndex: m,
      };
      if (match.path.type === 'Exact') entries!.exact.push([match.path.value, entry]);
      else if (match.path.type === 'PathPrefix') entries!.prefix.push([entry.prefix as string, entry]);
      else entries!.regex.push({ regex: regexOf(match.path.value), entry });
    });
  });
  entriesByRoute.set(route, entries);
  return entries;
}

function countQueryEntries(entries: RouteEntries): number {
  let n = 0;
  for (const [, e] of entries.exact) if (e.queryParams.length > 0) n++;
  for (const [, e] of entries.prefix) if (e.queryParams.length > 0) n++;
  for (const { entry } of entries.regex) if (entry.queryParams.length > 0) n++;
  return n;
}

function push(map: Map<string, MatchEntry[]>, key: string, entry: MatchEntry): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else list.push(entry);
}

export function compileVirtualHost(routes: Iterable<HttpRoute>): VirtualHost {
  const vhost: VirtualHost = { exact: new Map(), prefix: new Map(), regex: [], needsQuery: false, queryEntries: 0 };
  for (const route of routes) {
    const entries = entriesOf(route);
    for (const [path, entry] of entries.exact) push(vhost.exact, path, entry);
    for (const [prefix, entry] of entries.prefix) push(vhost.prefix, prefix, entry);
    vhost.regex.push(...entries.regex);
    vhost.queryEntries += countQueryEntries(entries);
  }
  vhost.needsQuery = vhost.queryEntries > 0;
  for (const list of vhost.exact.values()) list.sort(byPrecedence);
  for (const list of vhost.prefix.values()) list.sort(byPrecedence);
  vhost.regex.sort((a, b) => byPrecedence(a.entry, b.entry));
  return vhost;
}

/** Inserts `entry` after every entry that does not come after it (a list sorted by precedence stays sorted). */
function insertSorted<T>(list: T[], item: T, compare: (a: T, b: T) => number): void {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compare(list[mid], item) <= 0) low = mid + 1;
    else high = mid;
  }
  list.splice(low, 0, item);
}

/** One bucket map with the entries of `removed` taken out and those of `added` put in, copying only what changes. */
function updateBuckets(
  previous: ReadonlyMap<string, MatchEntry[]>,
  removed: ReadonlyArray<[string, MatchEntry]>,
  added: ReadonlyArray<[string, MatchEntry]>,
): Map<string, MatchEntry[]> {
  const next = new Map(previous);
  const copied = new Set<string>();
  const bucket = (key: string): MatchEntry[] => {
    if (!copied.has(key)) {
      copied.add(key);
      next.set(key, [...(next.get(key) ?? [])]);
    }
    return next.get(key) as MatchEntry[];
  };
  for (const [key, entry] of removed) {
    const list = bucket(key);
    const at = list.indexOf(entry);
    if (at !== -1) list.splice(at, 1);
  }
  for (const [key, entry] of added) insertSorted(bucket(key), entry, byPrecedence);
  for (const key of copied) if ((next.get(key) as MatchEntry[]).length === 0) next.delete(key);
  return next;
}

/**
 * `compileVirtualHost` of the previous host's routes without `removed` and with `added`, at the cost of the change
 * (plus a copy of the path maps): the previous host is not changed, it may still be serving.
 */
export function updateVirtualHost(
  previous: VirtualHost,
  removed: readonly HttpRoute[],
  added: readonly HttpRoute[],
): VirtualHost {
  const gone = removed.map(entriesOf);
  const come = added.map(entriesOf);
  let queryEntries = previous.queryEntries;
  for (const entries of gone) queryEntries -= countQueryEntries(entries);
  for (const entries of come) queryEntries += countQueryEntries(entries);
  const goneRegex = new Set(gone.flatMap((e) => e.regex));
  const regex = previous.regex.filter((r) => !goneRegex.has(r));
  for (const entries of come)
    for (const r of entries.regex) insertSorted(regex, r, (a, b) => byPrecedence(a.entry, b.entry));
  return {
    exact: updateBuckets(
      previous.exact,
      gone.flatMap((e) => e.exact),
      come.flatMap((e) => e.exact),
    ),
    prefix: updateBuckets(
      previous.prefix,
      gone.flatMap((e) => e.prefix),
      come.flatMap((e) => e.prefix),
    ),
    regex,
    needsQuery: queryEntries > 0,
    queryEntries,
  };
}
