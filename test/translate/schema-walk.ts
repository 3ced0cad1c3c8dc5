// The schema walk behind schema-walk.test.ts: every field path under `spec` of the Gateway API CRDs, and for each a
// probe over the golden cases: take a case whose input sets the field, remove it (or change its value to another
// schema-valid one), translate again, and say whether the IR changed with the conditions as they were (applied), or
// only conditions came and went (checked). Messages are not compared: a value echoed in one is no effect. A variant the CRD schema refuses
// is not tried (CEL rules are not checked: the translator must tolerate what they would refuse anyway).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SchemaValidator } from './crd-schema.ts';
import { FIXED_NOW, SCHEMA_INVALID_ANNOTATION, deepFreeze } from './golden.ts';
import type { GoldenCase } from './golden.ts';
import { buildResourceSnapshot } from '../../operator/gateway/resources.ts';
import { translate } from '../../operator/gateway/translate.ts';

/** A field: its kind and its path, `spec.listeners[].tls.mode` (`[]` steps into a list's items). */
export interface FieldPath {
  kind: string;
  path: string;
  segments: string[];
  schema: any;
}

/** The kinds (served at v1 or the newest version) of every CRD in `dir`, with their `spec` schema. */
export function loadCrdSpecs(dir: string): Map<string, any> {
  const specs = new Map<string, any>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      const version = crd.spec.versions.find((v: any) => v.storage) ?? crd.spec.versions[0];
      const spec = version.schema?.openAPIV3Schema?.properties?.spec;
      if (spec !== undefined) specs.set(crd.spec.names.kind, spec);
    }
  }
  return specs;
}

/** Every property under `spec` (objects and leaves; a map's keys are not walked). */
export function walkFields(kind: string, spec: any): FieldPath[] {
  const out: FieldPath[] = [];
  const visit = (schema: any, segments: string[]): void => {
    if (schema?.type === 'array') return visit(schema.items, [...segments, '[]']);
    for (const [name, child] of Object.entries<any>(schema?.properties ?? {})) {
      const next = [...segments, name];
      out.push({ kind, path: next.join('.').replaceAll('.[]', '[]'), segments: next, schema: child });
      visit(child, next);
    }
  };
  visit(spec, ['spec']);
  return out;
}

/** The places (parent, key) where `segments` lands in `object`. */
function locations(object: any, segments: readonly string[]): Array<{ parent: any; key: string | number }> {
  let current: Array<{ parent: any; key: string | number }> = [{ parent: { root: object }, key: 'root' }];
  for (const segment of segments) {
    const next: Array<{ parent: any; key: string | number }> = [];
    for (const { parent, key } of current) {
      const value = parent[key];
      if (segment === '[]') {
        if (Array.isArray(value)) value.forEach((_, i) => next.push({ parent: value, key: i }));
      } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && segment in value)
        next.push({ parent: value, key: segment });
    }
    current = next;
  }
  return current;
}

export function setsField(object: any, field: FieldPath): boolean {
  return object?.kind === field.kind && locations(object, field.segments).length > 0;
}

/** Another value of the same schema for `value`, in order of preference (the schema check picks). */
function otherValues(value: unknown, schema: any): unknown[] {
  if (Array.isArray(schema?.enum)) return schema.enum.filter((v: unknown) => v !== value);
  if (typeof value === 'boolean') return [!value];
  if (typeof value === 'number') return [value + 1, value - 1, 1, 2];
  if (typeof value === 'string')
    return [`${value}x`, `x${value}`, `1${value}`, `${value}1`, `/x${value}`, 'x', '1s', '', 'Service'];
  if (
    schema?.additionalProperties !== undefined &&
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value)
  )
    return [Object.fromEntries(Object.entries(value).map(([k, v]) => [k, `${v}x`])), {}];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))
    return [value.map((v) => `x${v}`), value.map((v) => `${v}x`), ...(value.length > 1 ? [value.slice(1)] : [])];
  if (Array.isArray(value) && value.length > 1) return [value.slice(0, -1), value.slice(1)];
  return [];
}

/**
 * applied: some change of the field changed an IR record that is there with and without the change, or changed the
 * IR and left every condition's type, status and reason as they were (the field does something); checked: only refusals came and went (the field is validated, but no case shows it
 * applied); no-effect: nothing changed; unprobed: no golden case sets it.
 */
export type Verdict = 'applied' | 'checked' | 'no-effect' | 'unprobed';

export interface Probe {
  verdict: Verdict;
  /** The case and the change that showed the effect (or the cases tried). */
  detail: string;
}

interface Outcome {
  ir: string;
  /** Each IR record by its list and key. */
  records: Map<string, string>;
  conditions: string;
  rest: string;
}

function observable(result: ReturnType<typeof translate>): Outcome {
  const conditions: string[] = [];
  const visit = (value: unknown, at: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${at}[${i}]`));
    else if (typeof value === 'object' && value !== null) {
      const v = value as Record<string, unknown>;
      if (typeof v.type === 'string' && typeof v.reason === 'string')
        conditions.push(`${at} ${v.type}/${v.status}/${v.reason}`);
      else for (const [k, child] of Object.entries(v)) visit(child, `${at}.${k}`);
    }
  };
  for (const s of result.statuses as any[]) visit(s.status, `${s.kind}/${s.namespace ?? ''}/${s.name}`);
  const rest = result.statuses.map((s: any) =>
    JSON.stringify(s, (k, v) => (k === 'message' || k === 'lastTransitionTime' ? undefined : v)),
  );
  const records = new Map<string, string>();
  for (const [list, entries] of Object.entries(result.ir as unknown as Record<string, unknown>))
    if (Array.isArray(entries)) for (const r of entries) records.set(`${list} ${r.key}`, JSON.stringify(r));
  return {
    ir: JSON.stringify(result.ir),
    records,
    conditions: conditions.sort().join('\n'),
    rest: JSON.stringify({ rest, addresses: result.addresses, ports: result.ports, services: result.services }),
  };
}

function run(testCase: GoldenCase, objects: any[]): Outcome {
  const snapshot = buildResourceSnapshot(deepFreeze(objects));
  return observable(translate(deepFreeze(snapshot), { now: FIXED_NOW, ...testCase.options }));
}

function usable(testCase: GoldenCase, schema: SchemaValidator): boolean {
  return testCase.objects.every(
    (o) =>
      o?.metadata?.annotations?.[SCHEMA_INVALID_ANNOTATION] === undefined && (schema.validate(o) ?? []).length === 0,
  );
}

/**
 * Variants of `object`: without the field, then with each other value, first at every place it is set, then (when it
 * is set in several places, e.g. on each listener) at each place alone.
 */
function* variants(object: any, field: FieldPath): Generator<{ object: any; change: string }> {
  const places = locations(object, field.segments).length;
  const only = places > 1 ? [undefined, ...Array.from({ length: places }, (_, i) => i)] : [undefined];
  for (const at of only) {
    const where = at === undefined ? '' : ` at place ${at}`;
    const removed = structuredClone(object);
    const spots = locations(removed, field.segments);
    for (const [i, { parent, key }] of [...spots.entries()].reverse())
      if (at === undefined || i === at) delete parent[key];
    yield { object: removed, change: `removed${where}` };
    const original = locations(object, field.segments)[at ?? 0];
    for (const value of otherValues(original.parent[original.key], field.schema)) {
      const changed = structuredClone(object);
      for (const [i, { parent, key }] of locations(changed, field.segments).entries())
        if (at === undefined || i === at) parent[key] = structuredClone(value);
      yield { object: changed, change: `set to ${JSON.stringify(value)}${where}` };
    }
  }
}

/** Does a record present in both outcomes differ (a field applied to what is served, not just a refusal)? */
function changesRecord(a: Outcome, b: Outcome): boolean {
  for (const [key, record] of a.records) if (b.records.has(key) && b.records.get(key) !== record) return true;
  return false;
}

/** What setting `field` does in the golden cases that set it (at most `tries` of them are tried). */
export function probeField(
  field: FieldPath,
  cases: readonly GoldenCase[],
  schema: SchemaValidator,
  baselines: Map<GoldenCase, Outcome>,
  tries = 12,
): Probe {
  const tried: string[] = [];
  let checked: string | undefined;
  for (const testCase of cases) {
    if (tried.length === tries) break;
    const index = testCase.objects.findIndex((o) => setsField(o, field));
    if (index === -1 || !usable(testCase, schema)) continue;
    tried.push(`${testCase.area}/${testCase.name}`);
    if (!baselines.has(testCase)) baselines.set(testCase, run(testCase, structuredClone(testCase.objects)));
    const base = baselines.get(testCase)!;
    for (const { object, change } of variants(testCase.objects[index], field)) {
      if ((schema.validate(object) ?? []).length > 0) continue;
      const objects = testCase.objects.map((o, i) => (i === index ? object : structuredClone(o)));
      const outcome = run(testCase, objects);
      if (outcome.ir !== base.ir && (outcome.conditions === base.conditions || changesRecord(base, outcome)))
        return { verdict: 'applied', detail: `${tried.at(-1)}: ${change}` };
      if (outcome.ir !== base.ir || outcome.conditions !== base.conditions || outcome.rest !== base.rest)
        checked ??= `${tried.at(-1)}: ${change}`;
    }
  }
  if (checked !== undefined) return { verdict: 'checked', detail: checked };
  return tried.length === 0
    ? { verdict: 'unprobed', detail: 'no golden case sets it' }
    : { verdict: 'no-effect', detail: `no change in ${tried.join(', ')}` };
}
