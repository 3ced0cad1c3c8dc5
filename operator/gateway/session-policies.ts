// The BackendTLSPolicy statuses of a translation session (session.ts), namespace by namespace: a namespace's
// policies are checked again when one of them changed (`btp|<ns>`), when something their check read changed (a CA
// ConfigMap, a ReferenceGrant), or when the Gateways that reach one of its Services with TLS changed. The routes
// report those reaches (`TlsUseCounts`, fed by session-routes.ts); the statuses are those `translate` builds
// (backendtlspolicy-status.ts).

import { backendTlsPolicyStatuses } from './backendtlspolicy-status.ts';
import { trackedContext } from './context-index.ts';
import type { TranslateContext } from './context.ts';
import { Dependents } from './dependents.ts';
import { dependencyEntry, parseNamespacedKey, parseServicePortKey, statusKey } from './keys.ts';
import type { ObjectStatus } from './status.ts';

/** How many routes reach each Service port from each Gateway: `<namespace>/<service>` → port name → Gateway → count. */
export class TlsUseCounts {
  readonly uses = new Map<string, Map<string, Map<string, number>>>();
  /** Namespaces of the Services whose Gateways changed since the last `takeChanged`. */
  readonly #changed = new Set<string>();

  /** Adds (`by` = 1) or takes away (-1) a route's (Service port, Gateway) pairs. */
  count(pairs: ReadonlyArray<readonly [string, string]>, by: 1 | -1): void {
    for (const [port, gateway] of pairs) {
      const { service, portName } = parseServicePortKey(port);
      let byPort = this.uses.get(service);
      if (byPort === undefined) this.uses.set(service, (byPort = new Map()));
      let gateways = byPort.get(portName);
      if (gateways === undefined) byPort.set(portName, (gateways = new Map()));
      const count = (gateways.get(gateway) ?? 0) + by;
      if (count > 0) gateways.set(gateway, count);
      else gateways.delete(gateway);
      if (count === 0 || (count === 1 && by === 1)) this.#changed.add(parseNamespacedKey(service).namespace);
      if (gateways.size === 0) byPort.delete(portName);
      if (byPort.size === 0) this.uses.delete(service);
    }
  }

  takeChanged(): Set<string> {
    const out = new Set(this.#changed);
    this.#changed.clear();
    return out;
  }
}

export class PolicyTable {
  /** Dependency keys each namespace's policy statuses read. */
  readonly #deps = new Dependents();
  /** Status keys handed out per namespace, to take back those no longer given. */
  readonly #keys = new Map<string, Set<string>>();

  /**
   * Builds again the statuses of the namespaces in `dirty`, of those whose dependencies are in `changedDeps`, and of
   * those a policy came to or went from; `set` takes each status (undefined: take it back).
   */
  run(
    context: TranslateContext,
    uses: TlsUseCounts,
    dirty: Set<string>,
    changedDeps: ReadonlySet<string>,
    controllerName: string,
    now: string,
    set: (key: string, status: ObjectStatus | undefined) => void,
  ): void {
    for (const namespace of uses.takeChanged()) dirty.add(namespace);
    this.#deps.collect(changedDeps, (namespace) => dirty.add(namespace));
    for (const dep of changedDeps) {
      const namespace = dependencyEntry(dep, 'btp');
      if (namespace !== undefined) dirty.add(namespace);
    }
    for (const namespace of dirty) {
      const deps = new Set<string>();
      const tracked = trackedContext(context, deps);
      const policies = tracked.backendTlsPolicies.get(namespace) ?? [];
      const statuses = backendTlsPolicyStatuses(tracked, policies, uses.uses, controllerName, now);
      this.#deps.set(namespace, deps);
      const before = this.#keys.get(namespace) ?? new Set<string>();
      const after = new Set<string>();
      for (const status of statuses) {
        const key = statusKey(status);
        after.add(key);
        set(key, status);
      }
      for (const key of before) if (!after.has(key)) set(key, undefined);
      if (after.size > 0) this.#keys.set(namespace, after);
      else this.#keys.delete(namespace);
    }
  }
}
