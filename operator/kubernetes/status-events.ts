// Which status changes become Kubernetes Events: a condition of ours whose status or reason changed on the object
// (the message alone does not count: it may carry counts that change often). Warning when the new state is a
// problem (Accepted/Programmed/ResolvedRefs not True, Conflicted/PartiallyInvalid/OverlappingTLSConfig True),
// Normal otherwise. Pure: the sink records what this returns.

import type { Condition } from '../gateway/conditions.ts';
import type { EventType } from '../framework/events.ts';

export interface StatusEvent {
  type: EventType;
  reason: string;
  note: string;
}

const PROBLEM_WHEN_TRUE = new Set(['Conflicted', 'PartiallyInvalid', 'OverlappingTLSConfig']);

function isProblem(condition: Condition): boolean {
  return PROBLEM_WHEN_TRUE.has(condition.type) ? condition.status === 'True' : condition.status !== 'True';
}

interface Entry {
  controllerName?: string;
  parentRef?: { name?: string; sectionName?: string; namespace?: string };
  ancestorRef?: { name?: string; sectionName?: string; namespace?: string };
  conditions?: unknown;
}

/** A route's `parents` or a policy's `ancestors`: entries per parent (ancestor), each with its controller. */
function entriesOf(status: unknown): Entry[] {
  const s = status as { parents?: unknown; ancestors?: unknown } | undefined;
  const list = Array.isArray(s?.parents) ? s!.parents : Array.isArray(s?.ancestors) ? s!.ancestors : [];
  return (list as unknown[]).filter((e): e is Entry => typeof e === 'object' && e !== null);
}

function conditionsAt(status: unknown, path: 'top' | string): Condition[] {
  const s = status as { conditions?: unknown } | undefined;
  if (path === 'top') return Array.isArray(s?.conditions) ? (s!.conditions as Condition[]) : [];
  const parent = entriesOf(status).find((p) => parentLabel(p) === path);
  return Array.isArray(parent?.conditions) ? (parent!.conditions as Condition[]) : [];
}

function refOf(entry: Entry): { name?: string; sectionName?: string; namespace?: string } {
  return entry.parentRef ?? entry.ancestorRef ?? {};
}

function parentLabel(parent: Entry): string {
  const ref = refOf(parent);
  return `${parent.controllerName ?? ''}|${ref.namespace ?? ''}/${ref.name ?? ''}${ref.sectionName ? `/${ref.sectionName}` : ''}`;
}

function changes(before: Condition[], after: Condition[], prefix: string): StatusEvent[] {
  const out: StatusEvent[] = [];
  const old = new Map(before.map((c) => [c.type, c]));
  for (const condition of after) {
    const previous = old.get(condition.type);
    if (previous !== undefined && previous.status === condition.status && previous.reason === condition.reason)
      continue;
    // A fresh object starting out healthy is not news.
    if (previous === undefined && !isProblem(condition)) continue;
    out.push({
      type: isProblem(condition) ? 'Warning' : 'Normal',
      reason: condition.reason,
      note: `${prefix}${condition.type}=${condition.status}: ${condition.message}`,
    });
  }
  return out;
}

/** Events for the change from `before` (the live status) to `after` (what we write), ours only. */
export function statusEvents(before: unknown, after: unknown, controllerName: string): StatusEvent[] {
  const events = changes(conditionsAt(before, 'top'), conditionsAt(after, 'top'), '');
  for (const parent of entriesOf(after)) {
    if (parent.controllerName !== controllerName) continue;
    const label = parentLabel(parent);
    const ref = refOf(parent);
    events.push(
      ...changes(
        conditionsAt(before, label),
        conditionsAt(after, label),
        `parent ${ref.name ?? ''}${ref.sectionName ? `/${ref.sectionName}` : ''}: `,
      ),
    );
  }
  return events;
}
