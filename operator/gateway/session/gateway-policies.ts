// The session's passes for the policies it translates whole each run (few objects, and the records they touch are
// rebuilt each run anyway): XTelemetryPolicies (step 6, onto the listener records) and XBackendTrafficPolicies
// (step 7b, onto the backends' session records). Each writes its statuses through a `PolicyStatusKeys`, which takes
// back the statuses the kind no longer writes.

import type { Listener } from '../../../shared/ir/listener.ts';
import type { SessionPersistence } from '../../../shared/ir/route.ts';
import type { TranslateContext } from '../context.ts';
import type { GatewayNode } from '../gateways/gateway.ts';
import { boundListeners } from '../gateways/listenerset.ts';
import { namespacedKey, statusKey } from '../keys.ts';
import type { CompleteOptions } from '../options.ts';
import { checkTrafficPolicy } from '../policies/backendtrafficpolicy.ts';
import { applyTrafficPolicies } from '../policies/backendtrafficpolicy-status.ts';
import { applyTelemetryPolicies } from '../policies/telemetrypolicy-status.ts';
import { namespaceOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import type { ObjectStatus } from '../status.ts';
import type { RouteTable } from './routes.ts';
import type { StatusTable } from './statuses.ts';

/** The statuses one policy kind wrote in its last run. */
export class PolicyStatusKeys {
  #keys = new Set<string>();

  /** Writes this run's statuses and takes back those of the last run not written again. */
  write(table: StatusTable, statuses: readonly ObjectStatus[]): void {
    const keys = new Set<string>();
    for (const status of statuses) {
      const key = statusKey(status);
      keys.add(key);
      table.set(key, status);
    }
    for (const key of this.#keys) if (!keys.has(key)) table.set(key, undefined);
    this.#keys = keys;
  }
}

/** Step 6: puts each taken Gateway's tracing record on its listeners; returns the policies' statuses. */
export function telemetryPass(input: {
  context: TranslateContext;
  policies: readonly KubeObject[];
  /** Our Gateways this run, and the keys of every Gateway (ours or not). */
  gateways: readonly GatewayNode[];
  allGatewayKeys: Iterable<string>;
  listeners: Listener[];
  resolved: CompleteOptions;
}): ObjectStatus[] {
  const { gateways, listeners, resolved } = input;
  const outcome = applyTelemetryPolicies({
    context: input.context,
    policies: [...input.policies],
    gateways: new Set(input.allGatewayKeys),
    ours: new Set(gateways.map((node) => namespacedKey(node.namespace, node.name))),
    controllerName: resolved.controllerName,
    now: resolved.now,
  });
  if (outcome.byGateway.size > 0) {
    const gatewayOf = new Map<string, string>();
    for (const node of gateways)
      for (const listener of boundListeners(node))
        gatewayOf.set(listener.key, namespacedKey(node.namespace, node.name));
    for (const listener of listeners) {
      const tracing = outcome.byGateway.get(gatewayOf.get(listener.key) ?? '');
      // A copy per listener: records are plain data, and one shared object would alias in the golden YAML.
      if (tracing != null) listener.tracing = structuredClone(tracing);
    }
  }
  return outcome.statuses;
}

/**
 * Step 7b: the Services' session records (`sessions`, updated in place; a Service whose record changed has its
 * backend records built again in pass 8); returns the policies' statuses. No policy: nothing walked.
 */
export function trafficPass(input: {
  context: TranslateContext;
  policies: readonly KubeObject[];
  routes: RouteTable;
  sessions: Map<string, SessionPersistence>;
  resolved: CompleteOptions;
}): ObjectStatus[] {
  const { routes, sessions, resolved } = input;
  const policies = [...input.policies];
  const wanted = new Set<string>();
  for (const policy of policies)
    for (const name of checkTrafficPolicy(policy).services) wanted.add(namespacedKey(namespaceOf(policy), name));
  const outcome = applyTrafficPolicies({
    context: input.context,
    policies,
    gatewaysByService: wanted.size === 0 ? new Map() : routes.gatewaysNaming(wanted),
    controllerName: resolved.controllerName,
    now: resolved.now,
  });
  for (const service of new Set([...outcome.sessions.keys(), ...sessions.keys()])) {
    const before = sessions.get(service);
    const after = outcome.sessions.get(service);
    if (before === after || JSON.stringify(before) === JSON.stringify(after)) continue;
    if (after === undefined) sessions.delete(service);
    else sessions.set(service, after);
    routes.backends.endpointsChanged(service);
  }
  return outcome.statuses;
}
