// The ListenerSets of a translation session (session.ts). A ListenerSet is built with its parent Gateway (its
// listeners are settled against the Gateway's, listenerset.ts), so a set that comes, changes or goes makes its parent
// Gateways (before and after) build again; routes that name a set look it up here (`ls|<key>`), and attach again when
// what attachment sees of it changed. Their statuses, like the Gateways', are built every run (few; they count routes).

import { dependencyKey } from '../keys.ts';
import type { GatewayNode } from '../gateways/gateway.ts';
import type { ListenerNode } from '../gateways/listener.ts';
import { listenerSetStatus, parentGatewayKey } from '../gateways/listenerset.ts';
import type { ListenerSetNode } from '../gateways/listenerset.ts';
import { comparePrecedence } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import type { ObjectStatus } from '../status.ts';

/** What route attachment reads of some listeners (attach.ts): routes attach again when it changes. */
export function listenersSignature(listeners: readonly ListenerNode[]): unknown[] {
  return listeners.map((l) => [
    l.key,
    l.name,
    l.port,
    l.hostname ?? null,
    l.supportedKinds.map((k) => k.kind),
    l.allowedFrom,
    l.allowedSelector,
    l.gatewayNamespace,
  ]);
}

/** The same for a Gateway's ListenerSets. */
export function listenerSetSignature(node: GatewayNode | undefined): string {
  return node === undefined
    ? ''
    : JSON.stringify(
        (node.listenerSets ?? []).map((s) => [s.key, s.detached ?? null, listenersSignature(s.listeners)]),
      );
}

/** ListenerSet objects by the Gateway their parentRef names (`<namespace>/<name>`), in precedence order. */
export class ListenerSetIndex {
  readonly #byGateway = new Map<string, KubeObject[]>();

  /** A ListenerSet came, changed or went; returns the Gateways (keys) whose sets changed. */
  moved(was: KubeObject | undefined, is: KubeObject | undefined): string[] {
    const parents: string[] = [];
    for (const [object, add] of [
      [was, false],
      [is, true],
    ] as const) {
      const parent = object === undefined ? undefined : parentGatewayKey(object);
      if (object === undefined || parent === undefined) continue;
      const list = this.#byGateway.get(parent) ?? [];
      if (add) {
        // After the objects it does not precede: the order a stable sort of the snapshot list gives.
        let at = list.length;
        while (at > 0 && comparePrecedence(list[at - 1], object) > 0) at--;
        list.splice(at, 0, object);
      } else if (list.includes(object)) list.splice(list.indexOf(object), 1);
      if (list.length === 0) this.#byGateway.delete(parent);
      else this.#byGateway.set(parent, list);
      parents.push(parent);
    }
    return parents;
  }

  of(gateway: string): readonly KubeObject[] {
    return this.#byGateway.get(gateway) ?? [];
  }
}

/** The ListenerSet nodes of the session's Gateways, and the statuses handed out for them. */
export class ListenerSetTable {
  /** By `<namespace>/<name>`, for routes' parentRefs. */
  readonly nodes = new Map<string, ListenerSetNode>();
  #statusKeys = new Set<string>();

  /** A Gateway was built again (`node`; undefined: it is gone): its sets replace the previous ones. */
  gatewayBuilt(previous: GatewayNode | undefined, node: GatewayNode | undefined, changedDeps: Set<string>): void {
    for (const set of previous?.listenerSets ?? []) if (this.nodes.get(set.key) === set) this.nodes.delete(set.key);
    for (const set of node?.listenerSets ?? []) this.nodes.set(set.key, set);
    if (listenerSetSignature(previous) === listenerSetSignature(node)) return;
    for (const set of [...(previous?.listenerSets ?? []), ...(node?.listenerSets ?? [])])
      changedDeps.add(dependencyKey('ls', set.key));
  }

  /** The statuses of every set of `gateways` (attachedRoutes from `counts`); those of sets gone are taken back. */
  statuses(
    gateways: readonly GatewayNode[],
    counts: ReadonlyMap<string, number>,
    programmed: ReadonlySet<string>,
    now: string,
    set: (key: string, status: ObjectStatus | undefined) => void,
  ): void {
    const keys = new Set<string>();
    for (const gateway of gateways) {
      for (const node of gateway.listenerSets ?? []) {
        for (const listener of node.listeners) listener.attachedRoutes = counts.get(listener.key) ?? 0;
        keys.add(`ListenerSet/${node.key}`);
        set(`ListenerSet/${node.key}`, listenerSetStatus(node, programmed, now));
      }
    }
    for (const key of this.#statusKeys) if (!keys.has(key)) set(key, undefined);
    this.#statusKeys = keys;
  }
}
