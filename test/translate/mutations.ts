// Random damage to Kubernetes objects for the translator's property tests: delete a field, duplicate a list entry,
// or put a hostile value (wrong type, out of range, ReDoS pattern, prototype keys) anywhere in an object.

import { seeded } from '../../shared/testing/random-ir.ts';

/** The seeded generator the IR property tests use too (mulberry32). */
export const random = seeded;

const HOSTILE: unknown[] = [
  null,
  0,
  -1,
  65536,
  1.5,
  Number.MAX_SAFE_INTEGER,
  '',
  ' ',
  'a\r\nb',
  '../..',
  '(a{1000}){1000}',
  '*',
  '*.',
  '::1',
  'x'.repeat(5000),
  true,
  [],
  [null],
  {},
  { __proto__: { polluted: true } },
  { constructor: 'x', toString: 5 },
  'constructor',
  '__proto__',
];

type Path = Array<string | number>;

/** Every path into the value (objects and arrays), so that a mutation can land anywhere. */
function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(path);
    paths(child, path, out);
  }
  return out;
}

function safe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(unprintable)';
  }
}

export function mutate(objects: any[], next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const target = pick(objects);
  const all = paths(target);
  if (all.length === 0) return 'nothing to mutate';
  const path = pick(all);
  let parent: any = target;
  for (const part of path.slice(0, -1)) parent = parent[part];
  const last = path[path.length - 1];
  const where = `${safe(target?.kind)}/${safe(target?.metadata?.name)}:${path.join('.')}`;
  const choice = next();
  if (choice < 0.3) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
    return `delete ${where}`;
  }
  if (choice < 0.4 && Array.isArray(parent)) {
    parent.push(structuredClone(parent[last as number]));
    return `duplicate ${where}`;
  }
  const value = structuredClone(pick(HOSTILE));
  parent[last] = value;
  return `set ${where} = ${JSON.stringify(value)?.slice(0, 40)}`;
}
