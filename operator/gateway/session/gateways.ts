// The GatewayClasses, Gateways and ListenerSets of a translation session (session.ts), and the address pass over the
// Gateways. Classes are few and change rarely: when one changes (or what one read), all are built again, and every
// Gateway with them. A Gateway is built again when its object, its class, its ListenerSets or a lookup it read
// changed; when what route attachment sees of its listeners changed, the routes that name it attach again
// (`gw|<key>`). Must not build routes or IR records.

import { trackedContext } from './context-index.ts';
import type { TranslateContext } from '../context.ts';
import { gatewayInvalid } from '../conditions.ts';
import { Dependents } from './dependents.ts';
import { buildGatewayNode, gatewayClassNameOf } from '../gateways/gateway.ts';
import type { GatewayNode } from '../gateways/gateway.ts';
import { assignServiceAddresses } from '../gateways/gateway-service.ts';
import { buildGatewayClassNode, gatewayClassStatus, isOurs } from '../gateways/gatewayclass.ts';
import type { GatewayClassNode } from '../gateways/gatewayclass.ts';
import { dependencyKey, namespacedKey, statusKey, wholeLookupKey } from '../keys.ts';
import { buildListenerSets } from '../gateways/listenerset.ts';
import { planAddresses } from '../gateways/address.ts';
import { reportAddresses, wantsNothingSatisfiable } from '../gateways/address-status.ts';
import type { AddressAllocations, PortAllocations } from '../options.ts';
import { comparePrecedence, nameOf, namespaceOf } from '../resources.ts';
import type { KubeObject } from '../resources.ts';
import { ListenerSetTable, listenersSignature } from './listenersets.ts';
import type { StatusTable } from './statuses.ts';

/** Our GatewayClasses by name (`gatewayClasses` in precedence order: a later one of the same name replaces). */
function buildClasses(gatewayClasses: readonly KubeObject[], context: TranslateContext): Map<string, GatewayClassNode> {
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
function buildGateway(
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
      key: namespacedKey(namespace, name),
      rejection: gatewayInvalid(`The Gateway could not be translated: ${(error as Error)?.message ?? String(error)}`),
      requestedAddresses: [],
      wantsAssignedAddress: false,
      addressEntries: [],
      listeners: [],
      unnamedListeners: [],
    };
  }
}

export interface Allocations {
  addresses: AddressAllocations;
  ports: PortAllocations;
}

/** Gives every Gateway (in precedence order) its address outcome (and in service mode its Service); returns the allocations. */
export function assignAddresses(gateways: readonly GatewayNode[], context: TranslateContext): Allocations {
  const { addressMode, addressPool, previousAddresses, supportedFeatures } = context.options;
  const allocations: Allocations = { addresses: {}, ports: {} };
  // GEP-5093: a Gateway none of whose spec.addresses entries can be satisfied takes no pool address.
  const bindable = gateways.filter((g) => !wantsNothingSatisfiable(g));
  if (addressMode === 'service') allocations.ports = assignServiceAddresses(gateways, context);
  else {
    const plan = planAddresses(
      bindable.map((g) => ({ gateway: g.key, requested: g.requestedAddresses })),
      addressPool,
      previousAddresses,
    );
    for (const gateway of gateways) gateway.address = plan.outcomes.get(gateway.key);
    allocations.addresses = plan.allocations;
  }
  for (const gateway of gateways) {
    const unsatisfiable = wantsNothingSatisfiable(gateway);
    if (
      unsatisfiable ||
      (gateway.wantsAssignedAddress &&
        gateway.requestedAddresses.length === 0 &&
        !supportedFeatures.has('GatewayAddressEmpty'))
    ) {
      const message = unsatisfiable
        ? `spec.addresses: no entry can be satisfied: ${gateway.addressEntries.map((e) => `${e.field}: ${e.unsatisfiable}`).join('; ')}`
        : 'spec.addresses: an address without a value is not supported by this installation';
      gateway.address = { address: undefined, published: [], problem: { reason: 'AddressNotAssigned', message } };
      if (gateway.service !== undefined)
        gateway.service = {
          gateway: gateway.service.gateway,
          namespace: gateway.service.namespace,
          name: gateway.service.name,
        };
    }
  }
  for (const gateway of gateways) reportAddresses(gateway, context);
  return allocations;
}

/** What route attachment reads of a Gateway (attach.ts): routes attach again when it changes. */
function attachmentSignature(node: GatewayNode): string {
  return JSON.stringify([node.defaultScope ?? null, listenersSignature(node.listeners)]);
}

/** Where the session keeps the objects this table builds from. */
export interface GatewaySource {
  /** Every GatewayClass object. */
  classes(): KubeObject[];
  /** Every Gateway object's key (`<namespace>/<name>`). */
  gatewayKeys(): Iterable<string>;
  /** The Gateway object of a key. */
  gateway(key: string): KubeObject | undefined;
  /** The ListenerSet objects whose parentRef names a Gateway, in precedence order. */
  listenerSetsOf(key: string): readonly KubeObject[];
}

export class GatewayTable {
  classes = new Map<string, GatewayClassNode>();
  /** What building the classes read (their parameters' ConfigMaps). */
  #classDeps = new Set<string>();
  #classesDirty = true;
  /** Status keys of the classes handed out. */
  #classKeys = new Set<string>();
  readonly #signatures = new Map<string, string>();
  /** Our Gateways by `<namespace>/<name>`. */
  readonly nodes = new Map<string, GatewayNode>();
  readonly #deps = new Dependents();
  /** Our Gateways in precedence order. */
  order: GatewayNode[] = [];
  readonly #pending = new Set<string>();
  readonly listenerSets = new ListenerSetTable();

  /** A GatewayClass came, changed or went. */
  classChanged(): void {
    this.#classesDirty = true;
  }

  /** A Gateway (`<namespace>/<name>`), or its ListenerSets, came, changed or went. */
  gatewayChanged(key: string): void {
    this.#pending.add(key);
  }

  /** Builds the classes again when one of them or what they read changed; then every Gateway is built again. */
  buildClasses(
    source: GatewaySource,
    context: TranslateContext,
    changedDeps: ReadonlySet<string>,
    statuses: StatusTable,
  ): void {
    if (!this.#classesDirty && ![...this.#classDeps].some((dep) => changedDeps.has(dep))) return;
    this.#classesDirty = false;
    this.#classDeps = new Set();
    this.classes = buildClasses(source.classes().sort(comparePrecedence), trackedContext(context, this.#classDeps));
    const keys = new Set<string>();
    for (const node of this.classes.values()) {
      const key = statusKey({ kind: 'GatewayClass', name: node.name });
      keys.add(key);
      statuses.set(key, gatewayClassStatus(node, context.options));
    }
    for (const key of this.#classKeys) if (!keys.has(key)) statuses.set(key, undefined);
    this.#classKeys = keys;
    for (const gateway of this.nodes.keys()) this.#pending.add(gateway);
    for (const gateway of source.gatewayKeys()) this.#pending.add(gateway);
  }

  /** Builds again the Gateways that changed or read something that changed; adds `gw|` and `ls|` keys to `changedDeps`. */
  buildGateways(
    source: GatewaySource,
    context: TranslateContext,
    changedDeps: Set<string>,
    statuses: StatusTable,
  ): void {
    this.#deps.collect(changedDeps, (key) => this.#pending.add(key));
    let reorder = false;
    for (const key of this.#pending) {
      const object = source.gateway(key);
      const deps = new Set<string>();
      const tracked = trackedContext(context, deps);
      const node = object === undefined ? undefined : buildGateway(tracked, object, this.classes);
      if (node !== undefined && context.options.supportedFeatures.has('ListenerSet'))
        node.listenerSets = buildListenerSets(tracked, node, source.listenerSetsOf(key));
      const previous = this.nodes.get(key);
      this.listenerSets.gatewayBuilt(previous, node, changedDeps);
      if (node === undefined) {
        this.#deps.delete(key);
        if (previous === undefined) continue;
        this.nodes.delete(key);
        this.#signatures.delete(key);
        statuses.set(statusKey({ kind: 'Gateway', namespace: previous.namespace, name: previous.name }), undefined);
        changedDeps.add(dependencyKey('gw', key));
        // Routes that ask for default Gateways walk them all (GEP-3793).
        changedDeps.add(wholeLookupKey('gw'));
        reorder = true;
        continue;
      }
      this.#deps.set(key, deps);
      const signature = attachmentSignature(node);
      if (this.#signatures.get(key) !== signature) {
        changedDeps.add(dependencyKey('gw', key));
        changedDeps.add(wholeLookupKey('gw'));
      }
      reorder ||= previous === undefined || previous.source !== object;
      this.#signatures.set(key, signature);
      this.nodes.set(key, node);
    }
    this.#pending.clear();
    if (reorder || this.order.some((n) => this.nodes.get(n.key) !== n))
      this.order = [...this.nodes.values()].sort((a, b) => comparePrecedence(a.source, b.source));
  }
}
