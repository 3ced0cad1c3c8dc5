// Validation of Gateway API test fixtures against the vendored CRD schemas (test/cluster/crds/experimental), so that a
// fixture the API server would refuse is caught as a test bug. OpenAPI structure, enums, patterns, ranges and
// formats are checked with ajv; CEL rules (`x-kubernetes-validations`) are not. Unknown fields are refused too (the
// API server would silently prune them, which hides typos in fixtures).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

const CRD_DIR = fileURLToPath(new URL('../cluster/crds/experimental/', import.meta.url));

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

/** Every `type: object` schema with `properties` (not the fragments inside oneOf/anyOf) gets `additionalProperties: false`, unless Kubernetes keeps unknown fields. */
function closeObjects(schema: any): any {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema))
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, closeObjects(s)]))
        : closeObjects(v);
  if (
    out.type === 'object' &&
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    !out['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  return out;
}

export interface SchemaValidator {
  /** Problems with `object`, or [] when it is valid; undefined when no schema covers its apiVersion and kind. */
  validate(object: any): string[] | undefined;
}

export function loadCrdValidator(): SchemaValidator {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  const validators = new Map<string, ValidateFunction>();
  for (const file of readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(CRD_DIR, file), 'utf8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        const schema = version.schema?.openAPIV3Schema;
        if (schema === undefined) continue;
        validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(closeObjects(schema)));
      }
    }
  }
  return {
    validate(object) {
      const validator = validators.get(`${object?.apiVersion}/${object?.kind}`);
      if (validator === undefined) return undefined;
      if (validator(object)) return [];
      return (validator.errors ?? []).map(
        (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      );
    },
  };
}
