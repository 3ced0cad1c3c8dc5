// The outer shape of a `config` message's delta, checked before it is applied: lists where lists belong, records
// with string keys, no key twice. Only then is the delta merged into the record index and validated in full.

import { RECORD_KINDS } from '../ir/snapshot.ts';
import { problem } from './problem.ts';
import type { Problem } from './problem.ts';

export function validateDeltaShape(delta: unknown): Problem[] {
  const out: Problem[] = [];
  if (typeof delta !== 'object' || delta === null)
    return [problem('MissingField', 'delta', 'the config message carries no delta object')];
  const d = delta as Record<string, unknown>;
  for (const field of ['generation', 'baseGeneration'] as const) {
    if (!Number.isSafeInteger(d[field]) || (d[field] as number) < 0) {
      out.push(problem('InvalidValue', field, `${field} must be a non-negative integer`));
    }
  }
  const upsert = (d.upsert ?? {}) as Record<string, unknown>;
  const remove = (d.remove ?? {}) as Record<string, unknown>;
  for (const kind of RECORD_KINDS) {
    const records = upsert[kind] ?? [];
    if (!Array.isArray(records)) {
      out.push(problem('InvalidValue', `upsert.${kind}`, `upsert.${kind} must be a list`));
      continue;
    }
    const seen = new Set<string>();
    records.forEach((record, i) => {
      const key = (record as { key?: unknown } | null)?.key;
      if (
        typeof record !== 'object' ||
        record === null ||
        Array.isArray(record) ||
        typeof key !== 'string' ||
        key === ''
      ) {
        out.push(
          problem(
            'MissingField',
            `upsert.${kind}[${i}]`,
            `upsert.${kind}[${i}] must be a record with a non-empty string key`,
          ),
        );
      } else if (seen.has(key)) {
        out.push(problem('DuplicateKey', `upsert.${kind}[${key}]`, `${kind} has two records with key "${key}"`));
      } else seen.add(key);
    });
    const keys = remove[kind] ?? [];
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
      out.push(problem('InvalidValue', `remove.${kind}`, `remove.${kind} must be a list of keys`));
    }
  }
  return out;
}
