// What the winning rule of `portico explain` does with the request: its filters in the order they run, the backends
// with their share of requests and their endpoints, timeouts and retries, and the status when the data plane answers
// by itself (redirect, CORS preflight, direct response, no valid or no healthy backend).

import type { ReadonlyRecordIndex } from '../ir/delta.ts';
import type { HttpFilter, HttpMatch, HttpRoute, HttpRule, RetryPolicy } from '../ir/route.ts';

export interface BackendDetail {
  /** The IR backend key; null for a reference the translator found invalid (its share of requests gets 500). */
  key: string | null;
  source: string | null;
  weight: number;
  /** Share of requests, in percent, rounded to one decimal. */
  percent: number;
  protocol: string | null;
  tls: string | null;
  endpoints: string[];
  filters: string[];
}

export interface WinnerDetail {
  route: string;
  source: string;
  kind: string;
  rule: number;
  ruleName?: string;
  match: number;
  /** The match in words, e.g. `PathPrefix /api, method GET, header x-canary=true`. */
  matched: string;
  filters: string[];
  backends: BackendDetail[];
  timeouts: { requestMs?: number; backendRequestMs?: number } | null;
  retry: RetryPolicy | null;
  outcome: { status: number; reason: string };
}

export function describeWinner(
  index: ReadonlyRecordIndex,
  route: HttpRoute,
  rule: HttpRule,
  match: HttpMatch,
): WinnerDetail {
  const total = rule.backends.reduce((sum, b) => sum + b.weight, 0);
  const backends = rule.backends.map((ref): BackendDetail => {
    const record = ref.backendKey === null ? undefined : index.backends.get(ref.backendKey);
    return {
      key: ref.backendKey,
      source: record
        ? `${record.source.kind} ${record.source.namespace}/${record.source.name}:${record.source.port}`
        : null,
      weight: ref.weight,
      percent: total === 0 ? 0 : Math.round((ref.weight / total) * 1000) / 10,
      protocol: record?.protocol ?? null,
      tls: record?.tls ? `TLS to ${record.tls.hostname}` : null,
      endpoints: (record?.endpoints ?? []).map(
        (e) => `${e.address}:${e.port}${e.weight !== undefined ? ` (weight ${e.weight})` : ''}`,
      ),
      filters: ref.filters.map(describeFilter),
    };
  });
  return {
    route: route.key,
    source: `${route.source.namespace}/${route.source.name}`,
    kind: route.source.kind,
    rule: rule.index,
    ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
    match: rule.matches.indexOf(match),
    matched: describeMatch(match),
    filters: rule.filters.map(describeFilter),
    backends,
    timeouts: rule.timeouts ?? null,
    retry: rule.retry ?? null,
    outcome: outcomeOf(rule, backends, total),
  };
}

function outcomeOf(rule: HttpRule, backends: BackendDetail[], total: number): { status: number; reason: string } {
  const redirect = rule.filters.find((f) => f.type === 'RequestRedirect');
  if (redirect !== undefined)
    return { status: redirect.statusCode, reason: 'redirected by the rule (RequestRedirect)' };
  if (rule.directResponse !== undefined) {
    return { status: rule.directResponse.status, reason: 'answered by the gateway: the rule has no usable backend' };
  }
  if (total === 0) return { status: 500, reason: 'no backend has a weight above 0' };
  const forwardable = backends.filter((b) => b.weight > 0 && b.key !== null && b.protocol !== null);
  if (forwardable.length === 0) return { status: 500, reason: 'no valid backend for this route' };
  const invalid = backends.filter((b) => b.weight > 0 && (b.key === null || b.protocol === null));
  const healthy = forwardable.filter((b) => b.endpoints.length > 0);
  if (healthy.length === 0) return { status: 503, reason: 'forwarded to a backend with no ready endpoint' };
  const share = invalid.reduce((sum, b) => sum + b.percent, 0);
  return {
    status: 200,
    reason:
      share > 0
        ? `forwarded to the backend (${share}% of requests get 500: invalid backend reference)`
        : 'forwarded to the backend (the status is the backend’s)',
  };
}

export function describeMatch(match: HttpMatch): string {
  const parts = [`${match.path.type} ${match.path.value}`];
  if (match.method !== undefined) parts.push(`method ${match.method}`);
  for (const h of match.headers) parts.push(`header ${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`);
  for (const q of match.queryParams) parts.push(`query ${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`);
  return parts.join(', ');
}

function describeFilter(filter: HttpFilter): string {
  switch (filter.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const parts = [
        ...filter.set.map((h) => `set ${h.name}: ${h.value}`),
        ...filter.add.map((h) => `add ${h.name}: ${h.value}`),
        ...filter.remove.map((name) => `remove ${name}`),
      ];
      return `${filter.type} (${parts.join('; ')})`;
    }
    case 'RequestRedirect': {
      const parts = [
        filter.scheme && `scheme ${filter.scheme}`,
        filter.hostname && `hostname ${filter.hostname}`,
        filter.port !== undefined && `port ${filter.port}`,
        filter.path && `${filter.path.type} ${filter.path.value}`,
        `status ${filter.statusCode}`,
      ].filter(Boolean);
      return `RequestRedirect (${parts.join(', ')})`;
    }
    case 'URLRewrite': {
      const parts = [
        filter.hostname && `hostname ${filter.hostname}`,
        filter.path && `${filter.path.type} ${filter.path.value}`,
      ];
      return `URLRewrite (${parts.filter(Boolean).join(', ')})`;
    }
    case 'RequestMirror':
      return `RequestMirror (${filter.percent}% to ${filter.backendKey})`;
    case 'CORS':
      return `CORS (origins ${filter.allowOrigins.join(' ')})`;
    case 'ExternalAuth':
      return `ExternalAuth (${filter.protocol} to ${filter.backendKey})`;
    default: {
      const unknown: never = filter;
      throw new Error(`unknown filter ${JSON.stringify(unknown)}`);
    }
  }
}
