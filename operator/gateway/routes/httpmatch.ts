// HTTPRoute `rules[].matches[]` → IR HttpMatch. Defaults as the CRD would apply them (path PathPrefix "/", header
// and query matches Exact); every value checked with shared/validation/fields.ts, the same checks the data plane runs.
// Regular expressions are RE2 (checked by compiling them with re2js), so a pattern such as `(a{1000}){1000}` is
// refused here with a message instead of reaching a shard.

import type { HttpMatch, PathMatch, ValueMatch } from '../../../shared/ir/route.ts';
import {
  checkHeaderName,
  checkHeaderValue,
  checkMethod,
  checkPathValue,
  checkRegex,
} from '../../../shared/validation/fields.ts';
import { at, isObject, listAt, objectAt, show, stringAt } from '../read.ts';
import type { RuleIssues } from './rule-issues.ts';

function buildPath(raw: unknown, field: string, issues: RuleIssues): PathMatch | undefined {
  if (raw === undefined) return { type: 'PathPrefix', value: '/' };
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const type = raw.type === undefined ? 'PathPrefix' : raw.type;
  const value = raw.value === undefined ? '/' : raw.value;
  if (type === 'Exact' || type === 'PathPrefix') {
    const problem = checkPathValue(value);
    if (problem !== null) return issues.unsupported(`${field}.value ${show(value)} ${problem}`);
    return { type, value: value as string };
  }
  if (type === 'RegularExpression') {
    const problem = checkRegex(value);
    if (problem !== null)
      return issues.unsupported(`${field}.value ${show(value)} is not a usable RE2 pattern: ${problem}`);
    return { type, value: value as string };
  }
  return issues.unsupported(`${field}.type ${show(type)} is not supported (Exact, PathPrefix, RegularExpression)`);
}

/**
 * Header (`isHeader`) or query parameter matches. Only the first entry of each name counts (Gateway API: "subsequent
 * entries with an equivalent name MUST be ignored"); header names compare case-insensitively.
 */
export function buildValueMatches(raw: unknown, field: string, issues: RuleIssues, isHeader: boolean): ValueMatch[] {
  if (raw !== undefined && !Array.isArray(raw))
    return issues.unsupported(`${field} must be a list; it is ${show(raw)}`) ?? [];
  const out: ValueMatch[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of listAt(raw).entries()) {
    const where = at(field, i);
    const e = objectAt(entry);
    const type = e.type === undefined ? 'Exact' : e.type;
    const nameProblem = isHeader
      ? checkHeaderName(e.name)
      : typeof e.name === 'string' && e.name.length > 0
        ? null
        : 'must be a non-empty string';
    if (nameProblem !== null) {
      issues.unsupported(`${where}.name ${show(e.name)} ${nameProblem}`);
      continue;
    }
    const name = e.name as string;
    let valueProblem: string | null;
    if (type === 'Exact') valueProblem = checkHeaderValue(e.value);
    else if (type === 'RegularExpression') valueProblem = checkRegex(e.value);
    else {
      issues.unsupported(`${where}.type ${show(type)} is not supported (Exact, RegularExpression)`);
      continue;
    }
    if (valueProblem !== null) {
      issues.unsupported(`${where}.value ${show(e.value)} ${valueProblem}`);
      continue;
    }
    const identity = isHeader ? name.toLowerCase() : name;
    if (seen.has(identity)) continue;
    seen.add(identity);
    out.push({ type, name, value: e.value as string });
  }
  return out;
}

function buildMatch(
  raw: unknown,
  field: string,
  issues: RuleIssues,
  features: ReadonlySet<string>,
): HttpMatch | undefined {
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const path = buildPath(raw.path, `${field}.path`, issues);
  const match: HttpMatch = {
    path: path ?? { type: 'PathPrefix', value: '/' },
    headers: buildValueMatches(raw.headers, `${field}.headers`, issues, true),
    queryParams: buildValueMatches(raw.queryParams, `${field}.queryParams`, issues, false),
  };
  if (match.queryParams.length > 0 && !features.has('HTTPRouteQueryParamMatching')) {
    issues.unsupported(`${field}.queryParams: query parameter matching is not supported by this installation`);
  }
  if (raw.method !== undefined) {
    const problem = checkMethod(raw.method);
    if (problem !== null) issues.unsupported(`${field}.method ${show(raw.method)} ${problem}`);
    else if (!features.has('HTTPRouteMethodMatching'))
      issues.unsupported(`${field}.method: method matching is not supported by this installation`);
    else match.method = stringAt(raw.method);
  }
  return path === undefined ? undefined : match;
}

/** The matches of a rule; a rule without matches matches everything (`PathPrefix /`). */
export function buildHttpMatches(
  raw: unknown,
  field: string,
  issues: RuleIssues,
  features: ReadonlySet<string>,
): HttpMatch[] {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0))
    return [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }];
  if (!Array.isArray(raw)) return issues.unsupported(`${field} must be a list; it is ${show(raw)}`) ?? [];
  const out: HttpMatch[] = [];
  for (const [i, entry] of raw.entries()) {
    const match = buildMatch(entry, at(field, i), issues, features);
    if (match !== undefined) out.push(match);
  }
  return out;
}
