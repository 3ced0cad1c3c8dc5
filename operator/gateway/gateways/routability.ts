// GEP-5093 address routability: what `spec.addresses[].routability` asks for, which of those requests an address mode
// can meet, and which status address satisfies which request. Runs after the address pass (address.ts in pool mode,
// gateway-service.ts in service mode), which bind and provision; this module only decides what is reported:
//   - the default ("" or unset) has no reachability guarantee: any address of ours satisfies it;
//   - `Cluster` means a Kubernetes Service cluster IP (in the ServiceCIDR, reachable inside the cluster). Only service
//     mode has one: every Service type has a cluster IP, so a LoadBalancer Service offers its load-balancer ingress
//     (routability "") and its cluster IP (`Cluster`) side by side. A Gateway whose every entry asks for `Cluster` gets
//     a Service of type ClusterIP (gateway.ts), so that nothing outside the cluster is provisioned for it. Pool-mode
//     addresses are host addresses, never cluster IPs: `Cluster` is unsatisfiable there;
//   - `testing.x-k8s.io/sentinel` is reserved for conformance: met as the default is, and reported as asked;
//   - any other prefixed value (implementation-specific scopes) is unknown to Portico, hence unsatisfiable (the GEP:
//     never substitute a scope).
// An unsatisfiable entry is left out and reported (AddressesAssigned=False PartiallyAssigned, or NotAssigned with
// Programmed=False AddressNotAssigned when no entry is left). Pure: it reads the node and the live Service, writes
// nothing else.

import type { StatusAddress } from './address.ts';

export const ROUTABILITY_CLUSTER = 'Cluster';
/** Reserved by GEP-5093 for conformance: carries no guarantee, must be supported and reported back. */
export const ROUTABILITY_SENTINEL = 'testing.x-k8s.io/sentinel';

/** One IPAddress entry of `spec.addresses`, as gateway.ts read it. */
export interface AddressEntry {
  /** `spec.addresses[i]`, for messages. */
  field: string;
  /** The requested address; undefined: "assign me one". */
  value: string | undefined;
  /** "" for the default. */
  routability: string;
  /** Why this entry cannot be satisfied whatever happens (set when read); such an entry asks the address pass for nothing. */
  unsatisfiable?: string;
}

/** An address the Gateway has, with the scope it really has. */
export type OfferedAddress = StatusAddress & { routability: string };

/** Why `routability` cannot be met in this address mode with these features; undefined when it can. */
export function routabilityProblem(
  routability: string,
  mode: 'pool' | 'service',
  features: ReadonlySet<string>,
): string | undefined {
  if (routability === '') return undefined;
  if (!features.has('GatewayAddressRoutability'))
    return `routability ${JSON.stringify(routability)} is not supported by this installation`;
  if (routability === ROUTABILITY_SENTINEL) return undefined;
  if (routability === ROUTABILITY_CLUSTER) {
    if (!features.has('GatewayAddressRoutabilityCluster'))
      return 'routability Cluster is not supported by this installation';
    if (mode === 'pool')
      return 'routability Cluster needs a Kubernetes Service cluster IP, and in pool mode a Gateway binds a host address from the address pool';
    return undefined;
  }
  return `routability ${JSON.stringify(routability)} is not a scope Portico provides (it provides "" and Cluster)`;
}

/** Does `offered` satisfy `entry` (GEP-5093: type, value when asked, routability when Cluster or prefixed)? */
function satisfies(entry: AddressEntry, offered: OfferedAddress): boolean {
  if (offered.type !== 'IPAddress') return false;
  if (entry.value !== undefined && entry.value !== offered.value) return false;
  if (entry.routability === ROUTABILITY_CLUSTER) return offered.routability === ROUTABILITY_CLUSTER;
  return true;
}

/** Matching order: entries with a value first (only one address fits them), then Cluster, then the default ones. */
function rank(entry: AddressEntry): number {
  if (entry.value !== undefined) return 0;
  return entry.routability === ROUTABILITY_CLUSTER ? 1 : 2;
}

export interface Assignment {
  /** `status.addresses`: one distinct address per satisfied entry, in spec order. */
  published: StatusAddress[];
  /** One message per unsatisfied entry, in spec order. */
  unsatisfied: string[];
}

/**
 * Gives each entry a distinct offered address that satisfies it (GEP-5093 "exactly one distinct matching address for
 * every satisfied spec entry"). A default entry takes an address of default routability before a cluster IP: a
 * LoadBalancer Gateway's default address is its load balancer's. The status address carries the entry's routability
 * when it asked for a scope (sentinel included), else the scope the address really has.
 */
export function assignEntries(
  entries: readonly AddressEntry[],
  offered: readonly OfferedAddress[],
  why: (entry: AddressEntry) => string,
): Assignment {
  const taken = new Set<number>();
  const chosen = new Map<AddressEntry, OfferedAddress>();
  const order = entries.filter((e) => e.unsatisfiable === undefined).sort((a, b) => rank(a) - rank(b));
  for (const entry of order) {
    const fits = offered.map((o, i) => [o, i] as const).filter(([o, i]) => !taken.has(i) && satisfies(entry, o));
    const pick = fits.find(([o]) => o.routability === '') ?? fits[0];
    if (pick === undefined) continue;
    taken.add(pick[1]);
    chosen.set(entry, pick[0]);
  }
  const published: StatusAddress[] = [];
  const unsatisfied: string[] = [];
  for (const entry of entries) {
    const address = chosen.get(entry);
    if (entry.unsatisfiable !== undefined) unsatisfied.push(`${entry.field}: ${entry.unsatisfiable}`);
    else if (address === undefined) unsatisfied.push(`${entry.field}: ${why(entry)}`);
    else
      published.push({
        type: address.type,
        value: address.value,
        routability: entry.routability === '' ? address.routability : entry.routability,
      });
  }
  return { published, unsatisfied };
}
