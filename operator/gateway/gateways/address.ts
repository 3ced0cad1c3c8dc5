// The standalone address pool: every Gateway gets one IPv4 address of its own to bind its listeners on, either the
// one it asks for in `spec.addresses` (it must lie in the pool) or one handed out by the pool. Allocation is a pure
// function of the Gateways (in precedence order), the pool and the previous allocations, in three steps whose order
// decides who keeps an address:
//   1. a Gateway that still wants a pool address keeps the one it had (stability beats everything else);
//   2. requested addresses, oldest Gateway first, among what step 1 left free;
//   3. the lowest free pool address for each remaining Gateway, oldest first.

import type { AddressAllocations } from '../options.ts';

export interface AddressRequest {
  /** `<namespace>/<name>`. */
  gateway: string;
  /** IP addresses from `spec.addresses` (type IPAddress, with a value), in spec order. */
  requested: string[];
}

/** `GatewayStatusAddress`. */
export interface StatusAddress {
  type: 'IPAddress' | 'Hostname';
  value: string;
  /** GEP-5093: the address's reachability scope ("" or `Cluster`), set by routability.ts when the feature is claimed. */
  routability?: string;
}

export type AddressOutcome = {
  /** The address the Gateway's listeners bind; undefined when none could be given. */
  address: string | undefined;
  /** `status.addresses` once a listener is programmed: in pool mode the bound address, in service mode the Service's. */
  published: StatusAddress[];
  /** Service mode: why nothing is published yet (the Service has no address yet): Programmed=False AddressNotAssigned. */
  pending?: string;
  /** Service mode: the port the data plane binds for each listener port (the Service maps one to the other). */
  bindPorts?: ReadonlyMap<number, number>;
  /** Why some requested address is not used, or why no address was given. */
  problem?: { reason: 'AddressNotUsable' | 'AddressNotAssigned'; message: string };
};

/** The outcome of a Gateway bound on `address` (pool mode), with a problem if any. */
function boundOn(address: string | undefined, problem?: AddressOutcome['problem']): AddressOutcome {
  const outcome: AddressOutcome = {
    address,
    published: address === undefined ? [] : [{ type: 'IPAddress', value: address }],
  };
  if (problem !== undefined) outcome.problem = problem;
  return outcome;
}

export interface AddressPlan {
  outcomes: Map<string, AddressOutcome>;
  /** Pool allocations (not requested addresses) to pass back as `previousAddresses` next time. */
  allocations: AddressAllocations;
}

interface Pool {
  first: number;
  last: number;
  cidr: string;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Usable host addresses of an IPv4 CIDR (network and broadcast addresses excluded for prefixes up to /30). */
export function parsePool(cidr: string): Pool | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = match === null ? undefined : parseIpv4(match[1]);
  const prefix = match === null ? NaN : Number(match[2]);
  if (base === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  if (size <= 2) return { first: network, last: network + size - 1, cidr };
  return { first: network + 1, last: network + size - 2, cidr };
}

function inPool(pool: Pool | undefined, address: string): boolean {
  const n = parseIpv4(address);
  return pool !== undefined && n !== undefined && n >= pool.first && n <= pool.last;
}

export function planAddresses(
  requests: readonly AddressRequest[],
  poolCidr: string,
  previous: AddressAllocations,
): AddressPlan {
  const pool = parsePool(poolCidr);
  const taken = new Map<string, string>(); // address → gateway
  const outcomes = new Map<string, AddressOutcome>();
  const allocations: AddressAllocations = {};

  for (const request of requests) {
    const had = previous[request.gateway];
    if (request.requested.length > 0 || had === undefined || !inPool(pool, had) || taken.has(had)) continue;
    taken.set(had, request.gateway);
    allocations[request.gateway] = had;
    outcomes.set(request.gateway, boundOn(had));
  }

  for (const request of requests) {
    if (request.requested.length === 0) continue;
    let address: string | undefined;
    const unusable: string[] = [];
    for (const wanted of request.requested) {
      const holder = taken.get(wanted);
      if (!inPool(pool, wanted)) unusable.push(`${wanted} is outside the address pool ${poolCidr}`);
      else if (holder !== undefined && holder !== request.gateway)
        unusable.push(`${wanted} is in use by Gateway ${holder}`);
      else if (address !== undefined && address !== wanted)
        unusable.push(`${wanted} is not bound: a Gateway binds one address, and it has ${address}`);
      else {
        address = wanted;
        taken.set(wanted, request.gateway);
      }
    }
    const problem =
      unusable.length > 0
        ? { reason: 'AddressNotUsable' as const, message: `spec.addresses: ${unusable.join('; ')}` }
        : undefined;
    outcomes.set(request.gateway, boundOn(address, problem));
  }

  let next = pool?.first ?? 0;
  for (const request of requests) {
    if (outcomes.has(request.gateway)) continue;
    while (pool !== undefined && next <= pool.last && taken.has(formatIpv4(next))) next++;
    if (pool === undefined || next > pool.last) {
      const why =
        pool === undefined
          ? `the address pool ${JSON.stringify(poolCidr)} is not an IPv4 CIDR`
          : `the address pool ${poolCidr} is exhausted`;
      outcomes.set(
        request.gateway,
        boundOn(undefined, { reason: 'AddressNotAssigned', message: `No address could be assigned: ${why}` }),
      );
      continue;
    }
    const address = formatIpv4(next);
    taken.set(address, request.gateway);
    allocations[request.gateway] = address;
    outcomes.set(request.gateway, boundOn(address));
  }
  return { outcomes, allocations };
}
