// The schema walk behind schema-walk.test.ts: every field path under `spec` of the Gateway API CRDs, and for each a
// probe over the golden cases: take a case whose input sets the field, remove it (or change its value to another
// schema-valid one), translate again, and say whether the IR or the statuses changed. Statuses are compared without
// their messages, so a value only echoed in a message does not count as an effect. A variant the CRD schema refuses
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

export type Verdict = 'effect' | 'no-effect' | 'unprobed';

export interface Probe {
  verdict: Verdict;
  /** The case and the change that showed the effect (or the cases tried). */
  detail: string;
}

function observable(result: ReturnType<typeof translate>): string {
  const statuses = result.statuses.map((s: any) =>
    JSON.stringify(s, (k, v) => (k === 'message' || k === 'lastTransitionTime' ? undefined : v)),
  );
  return JSON.stringify({
    ir: result.ir,
    statuses,
    addresses: result.addresses,
    ports: result.ports,
    services: result.services,
  });
}

function run(testCase: GoldenCase, objects: any[]): string {
  const snapshot = buildResourceSnapshot(deepFreeze(objects));
  return observable(translate(deepFreeze(snapshot), { now: FIXED_NOW, ...testCase.options }));
}

function usable(testCase: GoldenCase, schema: SchemaValidator): boolean {
  return testCase.objects.every(
    (o) =>
      o?.metadata?.annotations?.[SCHEMA_INVALID_ANNOTATION] === undefined && (schema.validate(o) ?? []).length === 0,
  );
}

/** Variants of `object` without the field, then with each other value at every place it is set. */
function* variants(object: any, field: FieldPath): Generator<{ object: any; change: string }> {
  const removed = structuredClone(object);
  for (const { parent, key } of locations(removed, field.segments).reverse()) delete parent[key];
  yield { object: removed, change: 'removed' };
  const first = locations(object, field.segments)[0];
  for (const value of otherValues(first.parent[first.key], field.schema)) {
    const changed = structuredClone(object);
    for (const { parent, key } of locations(changed, field.segments)) parent[key] = structuredClone(value);
    yield { object: changed, change: `set to ${JSON.stringify(value)}` };
  }
}

/** Does setting `field` change the translation in some golden case (at most `tries` cases setting it are tried)? */
export function probeField(
  field: FieldPath,
  cases: readonly GoldenCase[],
  schema: SchemaValidator,
  baselines: Map<GoldenCase, string>,
  tries = 12,
): Probe {
  const tried: string[] = [];
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
      if (run(testCase, objects) !== base) return { verdict: 'effect', detail: `${tried.at(-1)}: ${change}` };
    }
  }
  return tried.length === 0
    ? { verdict: 'unprobed', detail: 'no golden case sets it' }
    : { verdict: 'no-effect', detail: `no change in ${tried.join(', ')}` };
}
