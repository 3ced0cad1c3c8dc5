// `portico explain`: which listener takes a request, every route rule that was considered and why it lost, and what
// the winner does with the request. A reference implementation over the IR, written for clarity rather than speed:
// it scans every listener and route where the data plane looks up indexes. It must give the data plane's answer;
// test/explain/differential.test.ts holds the two together over the golden cases.
// Pure: reads the records it is given, no I/O, no clock.

import type { ReadonlyRecordIndex } from '../ir/delta.ts';
import type { Listener } from '../ir/listener.ts';
import type { HttpMatch, HttpRoute, HttpRule, ValueMatch } from '../ir/route.ts';
import { hostnameSpecificity, normalizeHost } from '../hostname.ts';
import { compileUserRegex } from '../regex.ts';
import type { ExplainRequest } from './request.ts';
import { describeWinner } from './winner.ts';
import type { WinnerDetail } from './winner.ts';

export interface ListenerVerdict {
  key: string;
  hostname: string;
  protocol: Listener['protocol'];
  chosen: boolean;
  /** Why it took the request, or why it did not. */
  reason: string;
}

export interface MatchVerdict {
  route: string;
  /** `namespace/name` of the HTTPRoute or GRPCRoute. */
  source: string;
  kind: string;
  rule: number;
  ruleName?: string;
  match: number;
  /** The route hostname this match was found under ('' when the route names none). */
  hostname: string;
  /** 'won' for the one match that takes the request; 'lost' for a match that also matched; 'no-match' otherwise. */
  verdict: 'won' | 'lost' | 'no-match';
  reason: string;
}

export interface Explanation {
  request: ExplainRequest;
  /** The socket the request reaches: `address:port`, or null when none. */
  socket: string | null;
  listeners: ListenerVerdict[];
  listener: string | null;
  matches: MatchVerdict[];
  /** What the client gets: the status the data plane answers with itself, or the rule that forwards it. */
  outcome: { status: number; reason: string } | null;
  winner: WinnerDetail | null;
}

/** One route match that applies to the request, with what ranks it against the others. */
interface Candidate {
  route: HttpRoute;
  rule: HttpRule;
  match: HttpMatch;
  matchIndex: number;
  hostname: string;
  /** Larger: the route hostname is more specific for this host. */
  hostRank: number;
  /** 0 Exact, 1 RegularExpression, 2 PathPrefix (the data plane's lookup order). */
  pathClass: number;
  prefixLength: number;
}

const PATH_CLASS: Record<HttpMatch['path']['type'], number> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };

export function explain(index: ReadonlyRecordIndex, request: ExplainRequest): Explanation {
  const result: Explanation = {
    request,
    socket: null,
    listeners: [],
    listener: null,
    matches: [],
    outcome: null,
    winner: null,
  };
  const socket = findSocket(index, request);
  if ('error' in socket) {
    result.outcome = { status: 0, reason: socket.error };
    return result;
  }
  result.socket = `${socket.address}:${socket.port}`;
  const host = normalizeHost(request.host);
  const listener = chooseListener(socket.listeners, host, result.listeners);
  if (listener === null) {
    result.outcome = { status: 404, reason: `no listener on ${result.socket} accepts host ${JSON.stringify(host)}` };
    return result;
  }
  result.listener = listener.key;
  if (request.sni !== undefined && request.sni !== '') {
    const bySni = bestListener(socket.listeners, normalizeHost(request.sni));
    if (bySni !== null && bySni !== listener) {
      result.outcome = {
        status: 421,
        reason: `the TLS connection was made for ${request.sni} (listener ${bySni.key}), not for host ${host}`,
      };
      return result;
    }
  }
  const candidates = considerRoutes(index, listener, host, request, result.matches);
  if (candidates.length === 0) {
    result.outcome = { status: 404, reason: `no rule of a route attached to ${listener.key} matches the request` };
    return result;
  }
  candidates.sort(byPrecedence);
  const winner = candidates[0];
  for (const verdict of result.matches) {
    if (verdict.verdict !== 'lost') continue;
    const self = candidates.find((c) => sameMatch(c, verdict));
    if (self === undefined) continue;
    if (self === winner) {
      verdict.verdict = 'won';
      verdict.reason = 'matches, and comes first by Gateway API precedence';
    } else verdict.reason = `matches, but ${whyLost(self, winner)}`;
  }
  result.winner = describeWinner(index, winner.route, winner.rule, winner.match);
  result.outcome = result.winner.outcome;
  return result;
}

interface SocketChoice {
  address: string;
  port: number;
  listeners: Listener[];
}

/** The HTTP or HTTPS listeners a request to (gateway or address, port, scheme) reaches. */
function findSocket(index: ReadonlyRecordIndex, request: ExplainRequest): SocketChoice | { error: string } {
  const protocol = request.scheme === 'https' ? 'HTTPS' : 'HTTP';
  const all = [...index.listeners.values()];
  let addresses: Set<string>;
  if (request.address !== undefined) addresses = new Set([request.address]);
  else {
    const [namespace, name] = splitName(request.gateway ?? '');
    const own = all.filter(
      (l) => l.source.kind === 'Gateway' && l.source.namespace === namespace && l.source.name === name,
    );
    if (own.length === 0) return { error: `Gateway ${request.gateway} has no programmed listener` };
    addresses = new Set(own.map((l) => l.address));
  }
  const reachable = all.filter((l) => addresses.has(l.address) && l.protocol === protocol);
  const ports = [...new Set(reachable.map((l) => l.port))].sort((a, b) => a - b);
  if (ports.length === 0) return { error: `no ${protocol} listener at ${[...addresses].join(', ')}` };
  const port = request.port ?? (ports.length === 1 ? ports[0] : undefined);
  if (port === undefined) return { error: `${protocol} listeners on ports ${ports.join(', ')}: give the port` };
  const listeners = reachable.filter((l) => l.port === port);
  if (listeners.length === 0) return { error: `no ${protocol} listener on port ${port} (ports: ${ports.join(', ')})` };
  return { address: listeners[0].address, port, listeners };
}

function splitName(namespaced: string): [string, string] {
  const slash = namespaced.indexOf('/');
  return slash === -1 ? ['default', namespaced] : [namespaced.slice(0, slash), namespaced.slice(slash + 1)];
}

/** The listener with the most specific hostname for `host`; null when none accepts it. */
function bestListener(listeners: readonly Listener[], host: string): Listener | null {
  let best: Listener | null = null;
  let bestRank = -1;
  for (const listener of listeners) {
    const rank = hostnameSpecificity(listener.hostname ?? '', host);
    if (rank !== null && rank > bestRank) {
      best = listener;
      bestRank = rank;
    }
  }
  return best;
}

function chooseListener(listeners: readonly Listener[], host: string, out: ListenerVerdict[]): Listener | null {
  const chosen = bestListener(listeners, host);
  for (const listener of listeners) {
    const hostname = listener.hostname ?? '';
    const rank = hostnameSpecificity(hostname, host);
    const reason =
      listener === chosen
        ? hostname === ''
          ? 'takes any host, and no listener on this port names this one'
          : `hostname ${hostname} is the most specific match for ${host}`
        : rank === null
          ? `hostname ${hostname} does not match ${host}`
          : `hostname ${hostname || '(any)'} matches, but ${chosen?.hostname} is more specific (listener isolation: no fallthrough)`;
    // GEP-5224: the chosen listener's authorizers decide before any route is matched (the matches below assume they
    // allowed the request).
    const auth = listener === chosen ? (listener.externalAuth ?? []) : [];
    const authorized =
      auth.length === 0
        ? ''
        : `; its ExternalAuth filters run first, before matching: ${auth.map((a) => `${a.protocol} to ${a.backendKey ?? '(unresolved: every request answers 500)'}`).join(', then ')}`;
    out.push({
      key: listener.key,
      hostname,
      protocol: listener.protocol,
      chosen: listener === chosen,
      reason: reason + authorized,
    });
  }
  return chosen;
}

/** Every match of every route attached to `listener`, with a verdict; returns the ones that match. */
function considerRoutes(
  index: ReadonlyRecordIndex,
  listener: Listener,
  host: string,
  request: ExplainRequest,
  out: MatchVerdict[],
): Candidate[] {
  const candidates: Candidate[] = [];
  const query = parseQuery(request.query);
  for (const route of index.httpRoutes.values()) {
    for (const parent of route.parents) {
      if (parent.listenerKey !== listener.key) continue;
      const hostnames = parent.hostnames.length === 0 ? [''] : parent.hostnames;
      let hostname = '';
      let hostRank: number | null = null;
      for (const name of hostnames) {
        const rank = hostnameSpecificity(name, host);
        if (rank !== null && (hostRank === null || rank > hostRank)) {
          hostname = name;
          hostRank = rank;
        }
      }
      for (const rule of route.rules) {
        rule.matches.forEach((match, m) => {
          const verdict: MatchVerdict = {
            route: route.key,
            source: `${route.source.namespace}/${route.source.name}`,
            kind: route.source.kind,
            rule: rule.index,
            ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
            match: m,
            hostname,
            verdict: 'no-match',
            reason: '',
          };
          const miss =
            hostRank === null
              ? `route hostnames ${hostnames.join(', ')} do not match ${host}`
              : whyNoMatch(match, request, query);
          if (miss !== null) verdict.reason = miss;
          else {
            verdict.verdict = 'lost';
            const pathClass = PATH_CLASS[match.path.type];
            const prefixLength = pathClass === 2 ? normalizePrefix(match.path.value).length : 0;
            candidates.push({
              route,
              rule,
              match,
              matchIndex: m,
              hostname,
              hostRank: hostRank!,
              pathClass,
              prefixLength,
            });
          }
          out.push(verdict);
        });
      }
    }
  }
  return candidates;
}

/** Why `match` does not take the request, or null when it does. */
function whyNoMatch(match: HttpMatch, request: ExplainRequest, query: Map<string, string>): string | null {
  const path = match.path;
  if (!pathMatches(path, request.path)) return `path ${request.path} does not match ${path.type} ${path.value}`;
  if (match.method !== undefined && match.method !== request.method) {
    return `method ${request.method} is not ${match.method}`;
  }
  for (const header of match.headers) {
    const miss = valueMiss(header, request.headers[header.name.toLowerCase()]);
    if (miss !== null) return `header ${header.name}: ${miss}`;
  }
  for (const param of match.queryParams) {
    const miss = valueMiss(param, query.get(param.name));
    if (miss !== null) return `query parameter ${param.name}: ${miss}`;
  }
  return null;
}

function valueMiss(match: ValueMatch, value: string | undefined): string | null {
  if (value === undefined) return 'absent';
  if (match.type === 'Exact')
    return value === match.value ? null : `${JSON.stringify(value)} is not ${JSON.stringify(match.value)}`;
  return regexMatches(match.value, value) ? null : `${JSON.stringify(value)} does not match /${match.value}/`;
}

function regexMatches(pattern: string, input: string): boolean {
  const compiled = compileUserRegex(pattern);
  return compiled.ok && compiled.regex.matches(input);
}

/** `/foo/` and `/foo` are the same prefix: PathPrefix matches whole path elements. */
function normalizePrefix(value: string): string {
  return value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;
}

function pathMatches(path: HttpMatch['path'], requestPath: string): boolean {
  switch (path.type) {
    case 'Exact':
      return requestPath === path.value;
    case 'RegularExpression':
      return regexMatches(path.value, requestPath);
    case 'PathPrefix': {
      const prefix = normalizePrefix(path.value);
      if (prefix === '/') return true;
      const trimmed = requestPath.length > 1 && requestPath.endsWith('/') ? requestPath.slice(0, -1) : requestPath;
      return trimmed === prefix || trimmed.startsWith(`${prefix}/`);
    }
    default: {
      const unknown: never = path.type;
      throw new Error(`unknown path match type ${unknown}`);
    }
  }
}

/** Query parameters as the data plane reads them: first value of a repeated name wins, `+` is a space. */
function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq));
    if (!params.has(name)) params.set(name, decode(eq === -1 ? '' : part.slice(eq + 1)));
  }
  return params;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/** Gateway API precedence, in the order the data plane applies it. */
function byPrecedence(a: Candidate, b: Candidate): number {
  return (
    b.hostRank - a.hostRank ||
    a.pathClass - b.pathClass ||
    b.prefixLength - a.prefixLength ||
    (a.match.method === undefined ? 1 : 0) - (b.match.method === undefined ? 1 : 0) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    a.route.rank - b.route.rank ||
    (a.route.key < b.route.key ? -1 : a.route.key > b.route.key ? 1 : 0) ||
    a.rule.index - b.rule.index ||
    a.matchIndex - b.matchIndex
  );
}

function sameMatch(c: Candidate, v: MatchVerdict): boolean {
  return c.route.key === v.route && c.rule.index === v.rule && c.matchIndex === v.match;
}

/** The first precedence step at which `loser` comes after `winner`, in words. */
function whyLost(loser: Candidate, winner: Candidate): string {
  const at = `${winner.route.key} rule ${winner.rule.index}`;
  if (loser.hostRank !== winner.hostRank) {
    return `${at} is attached under the more specific hostname ${winner.hostname || '(any)'}`;
  }
  if (loser.pathClass !== winner.pathClass) {
    return `${at} has a ${winner.match.path.type} path match, which comes before ${loser.match.path.type}`;
  }
  if (loser.prefixLength !== winner.prefixLength) return `${at} has the longer prefix ${winner.match.path.value}`;
  if ((loser.match.method === undefined) !== (winner.match.method === undefined))
    return `${at} also matches the method`;
  if (loser.match.headers.length !== winner.match.headers.length) {
    return `${at} matches more headers (${winner.match.headers.length} against ${loser.match.headers.length})`;
  }
  if (loser.match.queryParams.length !== winner.match.queryParams.length) {
    return `${at} matches more query parameters (${winner.match.queryParams.length} against ${loser.match.queryParams.length})`;
  }
  if (loser.route.rank !== winner.route.rank) {
    return `${at} belongs to a route that is older or comes first by namespace/name (rank ${winner.route.rank} against ${loser.route.rank})`;
  }
  if (loser.route.key !== winner.route.key) return `${at} comes first by route key`;
  if (loser.rule.index !== winner.rule.index) return `${at} is an earlier rule of the same route`;
  return `match ${winner.matchIndex} of the same rule comes first`;
}
