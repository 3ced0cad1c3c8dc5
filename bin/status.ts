// `portico status`: the statuses the operator computed (its admin endpoint's /status), filtered by kind, namespace and
// name, as YAML (default) or one line per object (-o wide); the exit status says whether every object shown is
// Accepted and Programmed, so an app team's CI can wait on it. Reads nothing but the admin endpoint.

import { parseArgs } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';

export const STATUS_USAGE = `portico status [ADMIN_HOST:PORT] [--kind KIND] [--namespace NS] [--name NAME] [-o yaml|wide]
  ADMIN_HOST:PORT          the operator's admin endpoint (--admin, env PORTICO_OPERATOR_ADMIN, default 127.0.0.1:9902)
  --kind KIND              only objects of this kind (case-insensitive: Gateway, httproute, ...)
  -n, --namespace NS       only objects in this namespace
  --name NAME              only objects with this name
  -o, --output yaml|wide   the statuses as YAML (default), or one line per object with its conditions
exit status: 0 every object shown is Accepted (and Programmed, where the kind has it) for every parent; 1 the operator
cannot be reached; 2 a usage error; 3 an object is not Accepted or not Programmed, or none matched, or files in the
folder do not parse (standalone mode).`;

export const EXIT = { ok: 0, unreachable: 1, usage: 2, notReady: 3 } as const;

export interface StatusOptions {
  admin: string;
  kind?: string;
  namespace?: string;
  name?: string;
  output: 'yaml' | 'wide';
}

/** One object of /status. */
export interface StatusObject {
  kind: string;
  metadata: { namespace?: string; name: string; generation?: number };
  status?: Record<string, unknown>;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
}

/** A set of conditions and whose they are: the object's own, or its status towards one parent (route, policy). */
interface ConditionSet {
  /** undefined: the object's own conditions; otherwise the parent or ancestor (`Gateway ns/name` or `ns/name/section`). */
  of?: string;
  conditions: Condition[];
}

export function parseStatusArgs(argv: string[], env: NodeJS.ProcessEnv): StatusOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      admin: { type: 'string' },
      kind: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      name: { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  if (positionals.length > 1) throw new UsageError(`one admin address at most, got ${positionals.join(' ')}`);
  const output = values.output ?? 'yaml';
  if (output !== 'yaml' && output !== 'wide') throw new UsageError(`-o must be yaml or wide, got "${output}"`);
  return {
    admin: values.admin ?? positionals[0] ?? env.PORTICO_OPERATOR_ADMIN ?? '127.0.0.1:9902',
    kind: values.kind,
    namespace: values.namespace,
    name: values.name,
    output,
  };
}

export class UsageError extends Error {}

/** The documents of /status: the objects, and the files that did not parse (standalone mode). */
export function parseStatusYaml(text: string): { objects: StatusObject[]; fileErrors: unknown[] } {
  const objects: StatusObject[] = [];
  let fileErrors: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    const value = doc.toJS() as (StatusObject & { fileErrors?: unknown[] }) | null;
    if (value === null) continue;
    if (Array.isArray(value.fileErrors)) fileErrors = value.fileErrors;
    else objects.push(value);
  }
  return { objects, fileErrors };
}

export function selectObjects(objects: StatusObject[], opts: StatusOptions): StatusObject[] {
  const kind = opts.kind?.toLowerCase();
  return objects.filter(
    (o) =>
      (kind === undefined || o.kind.toLowerCase() === kind) &&
      (opts.namespace === undefined || o.metadata.namespace === opts.namespace) &&
      (opts.name === undefined || o.metadata.name === opts.name),
  );
}

function conditionsOf(value: unknown): Condition[] {
  const conditions = (value as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(conditions) ? (conditions as Condition[]) : [];
}

function refText(ref: { kind?: string; namespace?: string; name?: string; sectionName?: string }): string {
  return `${ref.kind ?? 'Gateway'} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}${ref.sectionName ? `/${ref.sectionName}` : ''}`;
}

/** The object's own conditions, then one set per route parent (status.parents) or policy ancestor (status.ancestors). */
export function conditionSets(object: StatusObject): ConditionSet[] {
  const sets: ConditionSet[] = [];
  const status = object.status ?? {};
  if (Array.isArray(status.conditions)) sets.push({ conditions: conditionsOf(status) });
  for (const parent of (status.parents as Array<{ parentRef: object }> | undefined) ?? [])
    sets.push({ of: refText(parent.parentRef), conditions: conditionsOf(parent) });
  for (const ancestor of (status.ancestors as Array<{ ancestorRef: object }> | undefined) ?? [])
    sets.push({ of: refText(ancestor.ancestorRef), conditions: conditionsOf(ancestor) });
  return sets;
}

/**
 * Why the object is not ready, or undefined when it is: every condition set has Accepted=True, and Programmed=True
 * where it has Programmed (Gateways, ListenerSets); an object with no Accepted condition at all is not ready.
 */
export function notReadyReason(object: StatusObject): string | undefined {
  const sets = conditionSets(object);
  const accepted = sets.flatMap((s) => s.conditions.filter((c) => c.type === 'Accepted'));
  if (accepted.length === 0) return 'no Accepted condition';
  for (const set of sets)
    for (const c of set.conditions)
      if ((c.type === 'Accepted' || c.type === 'Programmed') && c.status !== 'True')
        return `${set.of === undefined ? '' : `${set.of}: `}${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`;
  return undefined;
}

function conditionText(c: Condition): string {
  return `${c.type}=${c.status}${c.reason && c.reason !== c.type ? `(${c.reason})` : ''}`;
}

/** -o wide: a header, then one line per object: kind, namespace, name, ready or not, its conditions. */
export function renderWide(objects: StatusObject[]): string {
  const rows = [['KIND', 'NAMESPACE', 'NAME', 'READY', 'CONDITIONS']];
  for (const o of objects) {
    const conditions = conditionSets(o)
      .map((s) => `${s.of === undefined ? '' : `[${s.of}] `}${s.conditions.map(conditionText).join(' ')}`)
      .join('; ');
    rows.push([o.kind, o.metadata.namespace ?? '-', o.metadata.name, notReadyReason(o) ? 'no' : 'yes', conditions]);
  }
  const widths = rows[0].slice(0, -1).map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]) : cell)).join('  ')).join('\n');
}

export function renderYaml(objects: StatusObject[], fileErrors: unknown[]): string {
  const docs = objects.map((o) => stringify(o));
  if (fileErrors.length > 0) docs.unshift(stringify({ fileErrors }));
  return docs.join('---\n');
}

/** The command: prints to the given streams and returns the exit status. */
export async function runStatus(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  let opts: StatusOptions;
  try {
    opts = parseStatusArgs(argv, env);
  } catch (error) {
    const message = (error as Error).message;
    if (message === '') {
      out(`${STATUS_USAGE}\n`); // --help
      return EXIT.ok;
    }
    err(`${message}\n${STATUS_USAGE}\n`);
    return EXIT.usage;
  }
  let text: string;
  try {
    const res = await fetch(`http://${opts.admin}/status`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (error) {
    err(`cannot reach the operator's admin endpoint at ${opts.admin}: ${(error as Error).message}\n`);
    return EXIT.unreachable;
  }
  const { objects, fileErrors } = parseStatusYaml(text);
  const selected = selectObjects(objects, opts);
  if (opts.output === 'wide') {
    if (selected.length > 0) out(`${renderWide(selected)}\n`);
    for (const e of fileErrors) err(`file error: ${JSON.stringify(e)}\n`);
  } else out(renderYaml(selected, fileErrors));
  let code: number = EXIT.ok;
  if (selected.length === 0) {
    err('no object matches\n');
    code = EXIT.notReady;
  }
  for (const o of selected) {
    const reason = notReadyReason(o);
    if (reason === undefined) continue;
    err(
      `not ready: ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}: ${reason}\n`,
    );
    code = EXIT.notReady;
  }
  if (fileErrors.length > 0) code = EXIT.notReady;
  return code;
}
