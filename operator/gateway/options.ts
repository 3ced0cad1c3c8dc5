// Translator options: everything outside the resources that changes the output (controller identity, the clock, the
// address mode and its settings, the features the whole system supports). Plain, structured-cloneable data, so that
// the same options travel to a piscina worker unchanged.

import { SUPPORTED_FEATURES } from '../../shared/features.ts';

export const DEFAULT_CONTROLLER_NAME = 'portico.dev/gateway-controller';
export const DEFAULT_ADDRESS_POOL = '127.10.0.0/16';
/** Service mode: the ports the data plane binds for Gateway listener ports (above the admin ports 9901 and 9902). */
export const DEFAULT_INTERNAL_PORTS = '10000-19999';
export const DEFAULT_BIND_ADDRESS = '0.0.0.0';

/**
 * How a Gateway gets its address (DESIGN.md decision 9):
 *  - `pool`: each Gateway binds an address of its own (its `spec.addresses`, or one from the address pool) on its
 *    listener ports. Standalone mode, tests, the conformance harness.
 *  - `service`: each Gateway gets a Service (in `serviceNamespace`, where the data-plane pods run) that maps its
 *    listener ports to internal ports the data plane binds on `bindAddress`; `status.addresses` is the Service's.
 */
export type AddressMode = 'pool' | 'service';

/** Addresses handed out by the pool, by Gateway (`<namespace>/<name>`): the result of one run, the input of the next. */
export type AddressAllocations = Record<string, string>;

/** Service mode: internal ports, by `<namespace>/<gateway>:<listener port>`: the result of one run, the input of the next. */
export type PortAllocations = Record<string, number>;

export interface TranslateOptions {
  /** GatewayClasses whose `spec.controllerName` equals this are ours; route status entries carry it. */
  controllerName?: string;
  /** The clock, read once: every condition written in this run gets it as `lastTransitionTime`. */
  now?: Date | string;
  /** IPv4 CIDR the standalone address pool hands Gateway addresses out of (and that `spec.addresses` must lie in). */
  addressPool?: string;
  /** What the previous run handed out, so that a Gateway keeps its address. */
  previousAddresses?: AddressAllocations;
  /** Default `pool`. */
  addressMode?: AddressMode;
  /** Service mode: the namespace of the Gateways' Services (the operator's; default `default`). */
  serviceNamespace?: string;
  /** Service mode: `first-last`, the range internal ports are allocated from (default 10000-19999). */
  internalPorts?: string;
  /** Service mode: the address listeners bind, `0.0.0.0` (default) or `::`. */
  bindAddress?: string;
  /** Service mode: what the previous run allocated, so that a listener port keeps its internal port. */
  previousPorts?: PortAllocations;
  /**
   * Features the whole system (translator and data plane) supports; published on the GatewayClass and used to
   * refuse what is not supported (an unsupported listener protocol, route kind or filter gets a condition).
   */
  supportedFeatures?: readonly string[];
  /** `gateway.networking.k8s.io/bundle-version` of the installed CRDs, when the operator knows it. */
  crdBundleVersion?: string;
}

export interface CompleteOptions {
  controllerName: string;
  /** RFC 3339, seconds precision (`metav1.Time`). */
  now: string;
  addressPool: string;
  previousAddresses: AddressAllocations;
  addressMode: AddressMode;
  serviceNamespace: string;
  /** Parsed `internalPorts`; undefined when it is not a valid range (every Gateway then lacks an address). */
  internalPorts: { first: number; last: number } | undefined;
  bindAddress: string;
  previousPorts: PortAllocations;
  supportedFeatures: ReadonlySet<string>;
  /** Sorted, for the GatewayClass status. */
  supportedFeatureList: readonly string[];
  crdBundleVersion: string | undefined;
}

/** A clock value as conditions carry it (RFC 3339, seconds); the epoch when absent or invalid. */
export function timestamp(now: Date | string | undefined): string {
  const date = now === undefined ? new Date(0) : new Date(now);
  const ms = date.getTime();
  return (Number.isFinite(ms) ? date : new Date(0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Fills in defaults. Without `now` the clock is the epoch rather than the wall clock: the translator must not read
 * ambient state, so a caller that forgets the clock gets an obviously wrong time rather than a nondeterministic one.
 */
export function completeOptions(options: TranslateOptions = {}): CompleteOptions {
  const features = [...new Set(options.supportedFeatures ?? SUPPORTED_FEATURES)]
    .filter((f) => typeof f === 'string')
    .sort();
  const previous: AddressAllocations = {};
  for (const [gateway, address] of Object.entries(options.previousAddresses ?? {})) {
    if (typeof address === 'string') previous[gateway] = address;
  }
  const previousPorts: PortAllocations = {};
  for (const [key, port] of Object.entries(options.previousPorts ?? {})) {
    if (Number.isSafeInteger(port)) previousPorts[key] = port;
  }
  return {
    controllerName: options.controllerName ?? DEFAULT_CONTROLLER_NAME,
    now: timestamp(options.now),
    addressPool: options.addressPool ?? DEFAULT_ADDRESS_POOL,
    previousAddresses: previous,
    addressMode: options.addressMode === 'service' ? 'service' : 'pool',
    serviceNamespace: options.serviceNamespace ?? 'default',
    internalPorts: parsePortRange(options.internalPorts ?? DEFAULT_INTERNAL_PORTS),
    bindAddress: options.bindAddress ?? DEFAULT_BIND_ADDRESS,
    previousPorts,
    supportedFeatures: new Set(features),
    supportedFeatureList: features,
    crdBundleVersion: options.crdBundleVersion,
  };
}

/** `first-last` (1024 ≤ first ≤ last ≤ 65535: internal ports need no privilege); undefined when invalid. */
export function parsePortRange(text: string): { first: number; last: number } | undefined {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  if (match === null) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  return first >= 1024 && first <= last && last <= 65535 ? { first, last } : undefined;
}
