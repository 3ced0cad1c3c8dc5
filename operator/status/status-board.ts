// Where statuses go in standalone mode: kept in memory (served as YAML by the admin endpoint and `portico status`)
// and logged when they change. Conditions keep their lastTransitionTime while they do not change, as they would on
// a real API server. The Kubernetes status writer implements the same `StatusSink`.

import type { Logger } from 'pino';
import type { Condition } from '../gateway/conditions.ts';
import { mergeStatus, statusEquals } from '../gateway/status.ts';
import type { ObjectStatus } from '../gateway/status.ts';
import { statusKey } from '../gateway/keys.ts';
import type { StatusChanges } from '../gateway/session.ts';

export interface StatusSink {
  /**
   * What changed since the previous call: statuses set, and the keys (`statusKey`) of those gone, so that a pass
   * costs what changed rather than every status.
   */
  updateChanges(changes: StatusChanges): void;
}

export interface StoredStatus {
  kind: string;
  namespace?: string;
  name: string;
  generation: number;
  status: ObjectStatus['status'];
}

function keyOf(s: ObjectStatus): string {
  return statusKey({ kind: s.kind, namespace: 'namespace' in s ? s.namespace : undefined, name: s.name });
}

/** "Accepted=True Programmed=False(Pending)": one line per object for the log. */
export function summarize(status: ObjectStatus['status']): string {
  const parts: string[] = [];
  const add = (prefix: string, conditions: Condition[] | undefined) => {
    for (const c of conditions ?? [])
      parts.push(`${prefix}${c.type}=${c.status}${c.status === 'True' ? '' : `(${c.reason})`}`);
  };
  if ('parents' in status)
    for (const p of status.parents)
      add(`${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ''}:`, p.conditions);
  else if ('ancestors' in status)
    for (const a of status.ancestors) add(`${a.ancestorRef.namespace}/${a.ancestorRef.name}:`, a.conditions);
  else add('', status.conditions);
  if ('listeners' in status) for (const l of status.listeners) add(`${l.name}:`, l.conditions);
  return parts.join(' ');
}

export class StatusBoard implements StatusSink {
  readonly #statuses = new Map<string, StoredStatus>();
  readonly #log: Logger;
  readonly #controllerName: string;

  constructor(log: Logger, controllerName: string) {
    this.#log = log;
    this.#controllerName = controllerName;
  }

  updateChanges(changes: StatusChanges): void {
    for (const next of changes.upsert) this.#set(next);
    for (const key of changes.remove) this.#remove(key);
  }

  #set(next: ObjectStatus): string {
    const key = keyOf(next);
    const previous = this.#statuses.get(key);
    const merged = mergeStatus(previous?.status, next, this.#controllerName);
    if (previous !== undefined && previous.generation === next.generation && statusEquals(previous.status, merged))
      return key;
    this.#statuses.set(key, {
      kind: next.kind,
      namespace: 'namespace' in next ? next.namespace : undefined,
      name: next.name,
      generation: next.generation,
      status: merged,
    });
    this.#log.info({ object: key, generation: next.generation, conditions: summarize(merged) }, 'status changed');
    return key;
  }

  #remove(key: string): void {
    if (!this.#statuses.delete(key)) return;
    this.#log.info({ object: key }, 'status removed');
  }

  all(): StoredStatus[] {
    return [...this.#statuses.values()];
  }
}
