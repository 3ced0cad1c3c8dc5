// The BackendTLSPolicies of a translation session (session.ts), namespace by namespace, in two passes:
//   - before the routes, `check`: a namespace's policies are checked again when one of them changed (`btp|<ns>`) or
//     something their check read changed (a CA ConfigMap or Secret); the routes read the checked policies, and when
//     a namespace's checks changed, `btp|<ns>` tells the routes that read them;
//   - after the routes, `statuses`: built again for the namespaces whose checks changed, or whose Services the
//     Gateways reach with TLS differently. The routes report those reaches (`TlsUseCounts`, fed by
//     session/routes.ts); the statuses are backendtlspolicy-status.ts's.

import { backendTlsPolicyStatuses } from '../policies/backendtlspolicy-status.ts';
import { checkPolicies } from '../policies/backendtlspolicy.ts';
import type { CheckedPolicy } from '../context.ts';
import { trackedContext } from './context-index.ts';
import type { TranslateContext } from '../context.ts';
import { Dependents } from './dependents.ts';
import {
  dependencyEntry,
  dependencyKey,
  parseNamespacedKey,
  parseServicePortKey,
  statusKey,
  wholeLookupKey,
} from '../keys.ts';
import type { KubeObject } from '../resources.ts';
import type { ObjectStatus } from '../status.ts';

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
  /** Checked policies by namespace: the routes' view of them. */
  readonly checked = new Map<string, readonly CheckedPolicy[]>();
  /** Dependency keys each namespace's checks read. */
  readonly #deps = new Dependents();
  /** Namespaces to check whatever changed (all of them in a new table). */
  readonly #pending = new Set<string>();
  /** Namespaces whose statuses are to be built again in the status pass of this run. */
  readonly #statusesDue = new Set<string>();
  /** Status keys handed out per namespace, to take back those no longer given. */
  readonly #keys = new Map<string, Set<string>>();

  /** Every namespace of `namespaces` is checked in the next run (a new table). */
  checkAll(namespaces: Iterable<string>): void {
    for (const namespace of namespaces) this.#pending.add(namespace);
  }

  /**
   * The policies pass: checks again the namespaces whose policies, or what their checks read, changed (`policies`:
   * every BackendTLSPolicy by namespace, in precedence order); adds `btp|<ns>` to `changedDeps` for those whose
   * checks changed.
   */
  check(
    context: TranslateContext,
    policies: ReadonlyMap<string, readonly KubeObject[]>,
    changedDeps: Set<string>,
  ): void {
    const due = this.#pending;
    this.#deps.collect(changedDeps, (namespace) => due.add(namespace));
    for (const dep of changedDeps) {
      const namespace = dependencyEntry(dep, 'btp');
      if (namespace !== undefined) due.add(namespace);
    }
    for (const namespace of due) {
      const deps = new Set<string>();
      const checked = checkPolicies(trackedContext(context, deps), policies.get(namespace) ?? []);
      this.#deps.set(namespace, deps);
      const before = this.checked.get(namespace) ?? [];
      if (checked.length > 0) this.checked.set(namespace, checked);
      else this.checked.delete(namespace);
      this.#statusesDue.add(namespace);
      if (sameChecks(before, checked)) continue;
      changedDeps.add(dependencyKey('btp', namespace));
      changedDeps.add(wholeLookupKey('btp'));
    }
    due.clear();
  }

  /**
   * The status pass: builds again the statuses of the namespaces checked in this run and of those whose Services
   * the Gateways reach differently; `set` takes each status (undefined: take it back).
   */
  statuses(
    uses: TlsUseCounts,
    controllerName: string,
    now: string,
    set: (key: string, status: ObjectStatus | undefined) => void,
  ): void {
    for (const namespace of uses.takeChanged()) this.#statusesDue.add(namespace);
    for (const namespace of this.#statusesDue) {
      const statuses = backendTlsPolicyStatuses(this.checked.get(namespace) ?? [], uses.uses, controllerName, now);
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
    this.#statusesDue.clear();
  }
}

/** The same policy objects with the same checks: the routes that read them need not be built again. */
function sameChecks(a: readonly CheckedPolicy[], b: readonly CheckedPolicy[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (x, i) =>
      x.policy === b[i].policy &&
      x.conflict === b[i].conflict &&
      JSON.stringify(x.check) === JSON.stringify(b[i].check),
  );
}
