// The translator: Gateway API resources in, the data plane's IR, the objects' statuses and (service mode) the
// Gateways' Services out. Synchronous and pure: the clock, the controller name, the address mode and the previous
// allocations come in `options`; the input is never changed; there is no module state. It never throws: every
// object is translated inside a guard, so one object the translator cannot handle gets a condition and the others
// are unaffected.

import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import type { Problem } from '../../shared/validation/problem.ts';
import { planAddresses } from './address.ts';
import { assembleIr } from './assemble.ts';
import { backendTlsPolicyStatuses, collectTlsPortUses } from './backendtlspolicy-status.ts';
import { gatewayInvalid } from './conditions.ts';
import { buildContext } from './context.ts';
import type { TranslateContext } from './context.ts';
import { buildGatewayNode, gatewayClassNameOf, gatewayStatus } from './gateway.ts';
import type { GatewayNode } from './gateway.ts';
import { assignServiceAddresses, gatewayServices } from './gateway-service.ts';
import type { GatewayService } from './gateway-service.ts';
import { buildGatewayClassNode, gatewayClassStatus, isOurs } from './gatewayclass.ts';
import type { GatewayClassNode } from './gatewayclass.ts';
import { attachListenerSets, listenerSetStatus, withAttachedListenerSets } from './listenerset.ts';
import { resolveOptions } from './options.ts';
import type { AddressAllocations, PortAllocations, TranslateOptions } from './options.ts';
import { routeStatus } from './route-status.ts';
import { translateRoutes } from './routes.ts';
import { nameOf, namespaceOf } from './resources.ts';
import type { KubeObject, ResourceSnapshot } from './resources.ts';
import type { ObjectStatus } from './status.ts';

export interface TranslateResult {
  ir: SnapshotRecords;
  /** Statuses of the objects this controller owns (or, for routes, its own `parents` entries), sorted. */
  statuses: ObjectStatus[];
  /** Pool allocations to pass back as `options.previousAddresses` next time. */
  addresses: AddressAllocations;
  /** Service mode: internal port allocations to pass back as `options.previousPorts` next time. */
  ports: PortAllocations;
  /** Service mode: the Service of every Gateway of ours (empty in pool mode). */
  services: GatewayService[];
  /** IR records the final validation refused: a translator bug to log; empty in a correct run. */
  dropped: Problem[];
}

/** Our GatewayClasses by name (`gatewayClasses` in precedence order: a later one of the same name replaces). */
export function buildClasses(
  gatewayClasses: readonly KubeObject[],
  context: TranslateContext,
): Map<string, GatewayClassNode> {
  const classes = new Map<string, GatewayClassNode>();
  for (const gatewayClass of gatewayClasses) {
    try {
      if (isOurs(gatewayClass, context.options))
        classes.set(nameOf(gatewayClass), buildGatewayClassNode(gatewayClass, context));
    } catch {
      // A class whose spec cannot even be read is left alone: we cannot tell whether it is ours.
    }
  }
  return classes;
}

/** The node of a Gateway of one of our classes (built in a guard); undefined when its class is not ours. */
export function buildGateway(
  context: TranslateContext,
  gateway: KubeObject,
  classes: ReadonlyMap<string, GatewayClassNode>,
): GatewayNode | undefined {
  const className = gatewayClassNameOf(gateway);
  const gatewayClass = className === undefined ? undefined : classes.get(className);
  if (gatewayClass === undefined) return undefined;
  try {
    return buildGatewayNode(context, gateway, gatewayClass);
  } catch (error) {
    const namespace = namespaceOf(gateway);
    const name = nameOf(gateway);
    return {
      source: gateway,
      namespace,
      name,
      key: `${namespace}/${name}`,
      rejection: gatewayInvalid(`The Gateway could not be translated: ${(error as Error)?.message ?? String(error)}`),
      requestedAddresses: [],
      wantsAssignedAddress: false,
      listeners: [],
      unnamedListeners: [],
    };
  }
}

function buildGateways(
  resources: ResourceSnapshot,
  context: TranslateContext,
  classes: ReadonlyMap<string, GatewayClassNode>,
): GatewayNode[] {
  const gateways: GatewayNode[] = [];
  for (const gateway of resources.gateways) {
    const node = buildGateway(context, gateway, classes);
    if (node !== undefined) gateways.push(node);
  }
  if (context.options.supportedFeatures.has('ListenerSet'))
    attachListenerSets(context, resources.listenerSets, gateways);
  return gateways;
}

export interface Allocations {
  addresses: AddressAllocations;
  ports: PortAllocations;
}

/** Gives every Gateway (in precedence order) its address outcome (and in service mode its Service); returns the allocations. */
export function assignAddresses(gateways: readonly GatewayNode[], context: TranslateContext): Allocations {
  const { addressMode, addressPool, previousAddresses, supportedFeatures } = context.options;
  const allocations: Allocations = { addresses: {}, ports: {} };
  if (addressMode === 'service') allocations.ports = assignServiceAddresses(gateways, context);
  else {
    const plan = planAddresses(
      gateways.map((g) => ({ gateway: g.key, requested: g.requestedAddresses })),
      addressPool,
      previousAddresses,
    );
    for (const gateway of gateways) gateway.address = plan.outcomes.get(gateway.key);
    allocations.addresses = plan.allocations;
  }
  for (const gateway of gateways) {
    if (
      gateway.wantsAssignedAddress &&
      gateway.requestedAddresses.length === 0 &&
      !supportedFeatures.has('GatewayAddressEmpty')
    ) {
      gateway.address = {
        address: undefined,
        published: [],
        problem: {
          reason: 'AddressNotAssigned',
          message: 'spec.addresses: an address without a value is not supported by this installation',
        },
      };
      if (gateway.service !== undefined)
        gateway.service = {
          gateway: gateway.service.gateway,
          namespace: gateway.service.namespace,
          name: gateway.service.name,
        };
    }
  }
  return allocations;
}

const KIND_ORDER = [
  'GatewayClass',
  'Gateway',
  'ListenerSet',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'UDPRoute',
  'BackendTLSPolicy',
];

/** The order of `TranslateResult.statuses`: by kind (classes, Gateways, routes, policies), then namespace/name. */
export function compareStatuses(a: ObjectStatus, b: ObjectStatus): number {
  const byKind = KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind);
  if (byKind !== 0) return byKind;
  const left = `${'namespace' in a ? a.namespace : ''}/${a.name}`;
  const right = `${'namespace' in b ? b.namespace : ''}/${b.name}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The passes, in the order their inputs become available:
 *   1. lookups over the snapshot (objects by name, EndpointSlices by Service, ReferenceGrants);
 *   2. our GatewayClasses — a Gateway is ours only through an accepted class of ours;
 *   3. Gateways and their listeners, then conflicts between listeners — needs the classes, Secrets and grants; then
 *      the ListenerSets of each Gateway, whose listeners come after the Gateway's in precedence;
 *   4. addresses (pool: an address per Gateway; service mode: internal ports and the Gateway's Service) — needs
 *      every Gateway (precedence decides who keeps a contested address or port);
 *   5. routes: rules, backends, attachment to listeners — needs the listeners after conflicts (a conflicted
 *      listener admits no route) and counts attachedRoutes on them;
 *   6. the IR — needs the attachments, and decides which listeners are programmed;
 *   7. statuses — need attachedRoutes (5) and the programmed listeners (6); BackendTLSPolicies' need the routes'
 *      attachments (5): their ancestors are the Gateways that reach the Service ports they target.
 */
export function translate(resources: ResourceSnapshot, options: TranslateOptions = {}): TranslateResult {
  const context = buildContext(resources, resolveOptions(options));
  const classes = buildClasses(resources.gatewayClasses, context);
  const gateways = buildGateways(resources, context, classes);
  const { addresses, ports } = assignAddresses(gateways, context);
  const routes = translateRoutes(context, resources, new Map(gateways.map((g) => [g.key, g])));
  const { ir, programmed, dropped } = assembleIr(context, gateways, routes);

  const { now, controllerName } = context.options;
  const statuses: ObjectStatus[] = [
    ...[...classes.values()].map((c) => gatewayClassStatus(c, context.options)),
    ...gateways.map((g) => withAttachedListenerSets(gatewayStatus(g, programmed, now), g)),
    ...gateways.flatMap((g) => (g.listenerSets ?? []).map((s) => listenerSetStatus(s, programmed, now))),
    ...[...routes.http, ...routes.stream].map((r) => routeStatus(r.node, r.parents, controllerName, now)),
  ];
  if (context.options.supportedFeatures.has('BackendTLSPolicy')) {
    const uses = collectTlsPortUses(routes.http);
    for (const policies of context.backendTlsPolicies.values())
      statuses.push(...backendTlsPolicyStatuses(context, policies, uses, controllerName, now));
  }
  statuses.sort(compareStatuses);
  return { ir, statuses, addresses, ports, services: gatewayServices(gateways), dropped };
}
