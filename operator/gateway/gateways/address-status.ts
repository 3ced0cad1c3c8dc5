// What a Gateway reports of its addresses once the address pass has run (GEP-5093): `status.addresses` with the
// routability of each, and which `spec.addresses` entries are left unsatisfied (the AddressesAssigned condition).
// Runs after address.ts (pool mode) or gateway-service.ts (service mode) for every Gateway, only when the
// GatewayAddressRoutability feature is claimed: without it status addresses carry no routability and the condition
// is not written. Changes only the node's `address.published` and `assigned`.

import type { TranslateContext } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import { listAt, objectAt } from '../read.ts';
import type { StatusAddress } from './address.ts';
import type { GatewayNode } from './gateway.ts';
import { ROUTABILITY_CLUSTER, assignEntries } from './routability.ts';
import type { AddressEntry, OfferedAddress } from './routability.ts';

/** Does the Gateway ask for addresses, none of which can be satisfied? Then it gets none (AddressNotAssigned). */
export function wantsNothingSatisfiable(node: GatewayNode): boolean {
  return node.addressEntries.length > 0 && node.addressEntries.every((e) => e.unsatisfiable !== undefined);
}

/** The cluster IPs of a live Service (`spec.clusterIPs`, else `spec.clusterIP`; not "None"). */
function clusterIpsOf(live: unknown): string[] {
  const spec = objectAt(objectAt(live).spec);
  const ips = listAt(spec.clusterIPs).length > 0 ? listAt(spec.clusterIPs) : [spec.clusterIP];
  return ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
}

/** What the Gateway has to offer, each address with the scope it really has. */
function offeredAddresses(node: GatewayNode, context: TranslateContext): OfferedAddress[] {
  const published = node.address?.published ?? [];
  const service = node.service;
  if (service?.desired === undefined) return published.map((a) => ({ ...a, routability: '' }));
  if (service.desired.type !== 'LoadBalancer')
    return published.map((a) => ({ ...a, routability: ROUTABILITY_CLUSTER }));
  const live = context.services.get(namespacedKey(service.namespace, service.name));
  const clusterIps = clusterIpsOf(live).map(
    (value): OfferedAddress => ({ type: 'IPAddress', value, routability: ROUTABILITY_CLUSTER }),
  );
  return [...published.map((a) => ({ ...a, routability: '' })), ...clusterIps];
}

function whyUnsatisfied(node: GatewayNode): (entry: AddressEntry) => string {
  const service = node.service;
  if (service === undefined)
    return (entry) =>
      entry.value === undefined
        ? 'no address is left for it: in pool mode a Gateway binds one address'
        : `${entry.value} is not the address the Gateway binds (see the Programmed condition)`;
  const where = `the Service ${service.namespace}/${service.name}`;
  return (entry) =>
    entry.value === undefined
      ? `${where} has no ${entry.routability === ROUTABILITY_CLUSTER ? 'cluster IP' : 'address'} left for it`
      : `${entry.value} is not among the addresses ${where} got`;
}

/** Fills `status.addresses` routability and `assigned` for one Gateway after the address pass. */
export function reportAddresses(node: GatewayNode, context: TranslateContext): void {
  const outcome = node.address;
  node.assigned = undefined;
  if (!context.options.supportedFeatures.has('GatewayAddressRoutability') || outcome === undefined) return;
  if (wantsNothingSatisfiable(node)) {
    node.assigned = { unsatisfied: node.addressEntries.map((e) => `${e.field}: ${e.unsatisfiable}`) };
    return;
  }
  // Not reconciled yet (the Service has no address yet), or nothing could be bound: the Programmed condition says why.
  if (outcome.pending !== undefined) return;
  if (outcome.address === undefined) {
    node.assigned = { unsatisfied: [outcome.problem?.message ?? 'No address could be assigned'] };
    return;
  }
  const offered = offeredAddresses(node, context);
  if (node.addressEntries.length === 0) {
    // spec.addresses empty: status as before (the load balancer's addresses, or the cluster IPs), each with its scope.
    const published: StatusAddress[] = offered
      .filter((o) => outcome.published.some((p) => p.value === o.value && p.type === o.type))
      .map((o) => ({ type: o.type, value: o.value, routability: o.routability }));
    node.address = { ...outcome, published };
    node.assigned = { unsatisfied: [] };
    return;
  }
  const { published, unsatisfied } = assignEntries(node.addressEntries, offered, whyUnsatisfied(node));
  const next = { ...outcome, published };
  if (published.length === 0 && next.problem === undefined)
    next.problem = { reason: 'AddressNotAssigned', message: `spec.addresses: ${unsatisfied.join('; ')}` };
  node.address = next;
  node.assigned = { unsatisfied };
}
