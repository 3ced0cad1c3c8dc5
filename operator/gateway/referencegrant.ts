// ReferenceGrant: whether an object may refer to an object in another namespace. A reference within one namespace
// needs no grant; across namespaces it needs a ReferenceGrant in the *target* namespace whose `from` names the
// referring kind and namespace and whose `to` names the target kind (and, when set, its name).
// Entries with missing or mistyped fields match nothing, so a malformed grant never grants more than it says.

import { listAt, objectAt, stringAt } from './read.ts';
import type { ReferenceGrant } from './resources.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface ReferenceFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface ReferenceTo {
  /** "" for the core group (Service, Secret, ConfigMap). */
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface GrantRule {
  from: ReferenceFrom[];
  to: Array<{ group: string; kind: string; name: string | undefined }>;
}

/** Grants by the namespace they sit in (which is the namespace of the objects they open up). */
export type ReferenceGrantIndex = ReadonlyMap<string, readonly GrantRule[]>;

export function parseGrant(grant: ReferenceGrant): GrantRule {
  const spec = objectAt(grant.spec);
  const from: ReferenceFrom[] = [];
  for (const entry of listAt(spec.from)) {
    const e = objectAt(entry);
    const group = stringAt(e.group);
    const kind = stringAt(e.kind);
    const namespace = stringAt(e.namespace);
    if (group !== undefined && kind && namespace) from.push({ group, kind, namespace });
  }
  const to: GrantRule['to'] = [];
  for (const entry of listAt(spec.to)) {
    const e = objectAt(entry);
    const group = stringAt(e.group);
    const kind = stringAt(e.kind);
    const name = stringAt(e.name);
    if (group !== undefined && kind) to.push({ group, kind, name: name === '' ? undefined : name });
  }
  return { from, to };
}

export function isReferenceAllowed(index: ReferenceGrantIndex, from: ReferenceFrom, to: ReferenceTo): boolean {
  if (from.namespace === to.namespace) return true;
  for (const rule of index.get(to.namespace) ?? []) {
    const fromMatches = rule.from.some(
      (f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace,
    );
    if (!fromMatches) continue;
    if (rule.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === to.name)))
      return true;
  }
  return false;
}
