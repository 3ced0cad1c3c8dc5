// GRPCRoute matches → IR HttpMatch. A gRPC call is an HTTP/2 POST to `/<service>/<method>`, so a method match is a
// path match: service and method exact → Exact path; service only → PathPrefix `/<service>`; method only or
// RegularExpression → an RE2 pattern over the whole path. The rest of a GRPCRoute (filters, backends) is translated
// by httproute.ts with the gRPC rules (h2c backends, the filters GRPCRoute allows).

import type { HttpMatch, PathMatch } from '../../../shared/ir/route.ts';
import { checkPathValue, checkRegex } from '../../../shared/validation/fields.ts';
import { buildValueMatches } from './httpmatch.ts';
import { at, isObject, listAt, show } from '../read.ts';
import type { RuleIssues } from './rule-issues.ts';

// GRPCMethodMatch validation of the v1 CRD, for the Exact type.
const SERVICE = /^\.?[a-zA-Z_][a-zA-Z_0-9]*(\.[a-zA-Z_][a-zA-Z_0-9]*)*$/;
const METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;
const ANY_SEGMENT = '[^/]+';

/** The derived path must pass the same checks as any path match (length, characters, RE2). */
function checked(path: PathMatch, field: string, issues: RuleIssues): PathMatch | undefined {
  const problem = path.type === 'RegularExpression' ? checkRegex(path.value) : checkPathValue(path.value);
  return problem === null
    ? path
    : issues.unsupported(`${field} gives the path ${show(path.value)}, which is not usable: ${problem}`);
}

function buildMethodPath(raw: unknown, field: string, issues: RuleIssues): PathMatch | undefined {
  if (raw === undefined) return { type: 'PathPrefix', value: '/' };
  if (!isObject(raw)) return issues.unsupported(`${field} must be an object; it is ${show(raw)}`);
  const type = raw.type === undefined ? 'Exact' : raw.type;
  const { service, method } = raw;
  if (service === undefined && method === undefined)
    return issues.unsupported(`${field} needs a service, a method or both`);
  if (type === 'Exact') {
    if (service !== undefined && (typeof service !== 'string' || !SERVICE.test(service))) {
      return issues.unsupported(`${field}.service ${show(service)} is not a gRPC service name`);
    }
    if (method !== undefined && (typeof method !== 'string' || !METHOD.test(method))) {
      return issues.unsupported(`${field}.method ${show(method)} is not a gRPC method name`);
    }
    if (service !== undefined && method !== undefined)
      return checked({ type: 'Exact', value: `/${service}/${method}` }, field, issues);
    if (service !== undefined) return checked({ type: 'PathPrefix', value: `/${service}` }, field, issues);
    return checked({ type: 'RegularExpression', value: `/${ANY_SEGMENT}/${method as string}` }, field, issues);
  }
  if (type === 'RegularExpression') {
    for (const [name, value] of [
      ['service', service],
      ['method', method],
    ] as const) {
      if (value === undefined) continue;
      const problem = checkRegex(value);
      if (problem !== null)
        return issues.unsupported(`${field}.${name} ${show(value)} is not a usable RE2 pattern: ${problem}`);
    }
    const pattern = `/(?:${(service as string | undefined) ?? ANY_SEGMENT})/(?:${(method as string | undefined) ?? ANY_SEGMENT})`;
    return checked({ type: 'RegularExpression', value: pattern }, field, issues);
  }
  return issues.unsupported(`${field}.type ${show(type)} is not supported (Exact, RegularExpression)`);
}

export function buildGrpcMatches(raw: unknown, field: string, issues: RuleIssues): HttpMatch[] {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0))
    return [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }];
  if (!Array.isArray(raw)) return issues.unsupported(`${field} must be a list; it is ${show(raw)}`) ?? [];
  const out: HttpMatch[] = [];
  for (const [i, entry] of listAt(raw).entries()) {
    const where = at(field, i);
    if (!isObject(entry)) {
      issues.unsupported(`${where} must be an object; it is ${show(entry)}`);
      continue;
    }
    const path = buildMethodPath(entry.method, `${where}.method`, issues);
    const headers = buildValueMatches(entry.headers, `${where}.headers`, issues, true);
    if (path !== undefined) out.push({ path, headers, queryParams: [] });
  }
  return out;
}
