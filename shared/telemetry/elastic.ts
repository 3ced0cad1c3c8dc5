// The Elasticsearch mapping of the access-log record, derived from the dictionary (attributes.ts), so the committed
// index template in manifests/observability/elastic/ cannot drift from it (attributes.test.ts compares them).
// Dotted keys become nested object properties, as Elasticsearch expands them; hence no key of the dictionary may be
// a prefix of another at a dot (`a.b` and `a.b.c`), which the test checks too.

import { ATTRIBUTES } from './attributes.ts';
import type { AttributeType } from './attributes.ts';

type EsField = { type: string; ignore_above?: number; format?: string };
type EsProperties = { [name: string]: EsField | { properties: EsProperties } };

function esField(key: string, type: AttributeType): EsField {
  if (key === 'time') return { type: 'date', format: 'strict_date_optional_time' };
  switch (type) {
    case 'string':
    case 'string[]':
      return { type: 'keyword', ignore_above: 1024 };
    case 'int':
      return { type: 'long' };
    case 'double':
      return { type: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    default: {
      const never: never = type;
      return never;
    }
  }
}

export function accessLogProperties(): EsProperties {
  const root: EsProperties = {};
  for (const spec of ATTRIBUTES) {
    if (spec.log === 'no') continue;
    const parts = spec.key.split('.');
    let at = root;
    for (const part of parts.slice(0, -1)) {
      const next = (at[part] ??= { properties: {} });
      if (!('properties' in next)) throw new Error(`${spec.key}: ${part} is a field and an object`);
      at = next.properties;
    }
    const leaf = parts[parts.length - 1];
    if (at[leaf] !== undefined) throw new Error(`${spec.key}: an object and a field`);
    at[leaf] = esField(spec.key, spec.type);
  }
  return root;
}

/** The composable index template for `portico-access-*` data streams (Elasticsearch 8). */
export function accessLogIndexTemplate(): unknown {
  return {
    index_patterns: ['portico-access-*'],
    data_stream: {},
    priority: 200,
    template: {
      settings: { 'index.default_pipeline': 'portico-access' },
      mappings: {
        dynamic: false,
        properties: { '@timestamp': { type: 'date' }, ...accessLogProperties() },
      },
    },
    _meta: { description: 'Portico access log: fields of shared/telemetry/attributes.ts (GEP-5253 names)' },
  };
}
