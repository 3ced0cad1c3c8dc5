// Checks of a listener's tracing record (shared/ir/tracing.ts), run by the data plane on every snapshot: a record it
// cannot use is a NACK, never a shard that throws while it builds its exporters. Returns problems; never throws.

import type { ListenerTracing } from '../ir/tracing.ts';
import { problem } from './problem.ts';
import type { Problem } from './problem.ts';

function isRatio(value: unknown): boolean {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

export function validateListenerTracing(tracing: ListenerTracing, at: string, out: Problem[]): void {
  const bad = (field: string, why: string) => {
    const path = field === '' ? at : `${at}.${field}`;
    out.push(problem('InvalidValue', path, `${path} ${why}`));
  };
  if (typeof tracing !== 'object' || tracing === null) return void bad('', 'must be an object');
  if (tracing.mode !== 'Enabled' && tracing.mode !== 'Disabled') bad('mode', 'must be Enabled or Disabled');
  if (tracing.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(tracing.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.protocol !== 'http:') bad('endpoint', 'must be an http:// URL');
  }
  for (const field of ['ratio', 'parentRatio'] as const)
    if (tracing[field] !== undefined && !isRatio(tracing[field])) bad(field, 'must be a number in [0, 1]');
  if (tracing.parentBased !== undefined && typeof tracing.parentBased !== 'boolean')
    bad('parentBased', 'must be a boolean');
  if (!Array.isArray(tracing.attributes)) return void bad('attributes', 'must be a list');
  tracing.attributes.forEach((a, i) => {
    const values = [
      'literal' in a ? a.literal : undefined,
      'header' in a ? a.header : undefined,
      'attribute' in a ? a.attribute : undefined,
    ].filter((v) => typeof v === 'string');
    if (typeof a?.name !== 'string' || a.name === '' || values.length !== 1)
      bad(`attributes[${i}]`, 'needs a name and exactly one of literal, header, attribute');
  });
}
